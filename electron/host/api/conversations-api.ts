/** The window API's conversations: listing and editing them, and sending, stopping, regenerating and editing replies. */
import { basename } from "node:path";
import type { Conversation, GenerationSettings, Message, TandemApi } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";
import type { Generations } from "../generations.js";
import type { HostContext } from "../host-context.js";
import { remoteReplyOf, type RemoteEngines, type ReplyConnection } from "../remote/remote-engines.js";
import { DEFAULT_CONVERSATION_TITLE } from "../store/app-database.js";
import { titleFromMessage } from "../titles.js";

export type ConversationsApi = Pick<
  TandemApi,
  | "listConversations"
  | "createConversation"
  | "renameConversation"
  | "deleteConversation"
  | "getConversation"
  | "setConversationSpeculation"
  | "sendMessage"
  | "stopGeneration"
  | "regenerate"
  | "editAndResend"
>;

export interface ConversationsApiDeps {
  generations: Generations;
  /** Remote connections, for replies when settings.chatEngine names one. */
  remote: RemoteEngines;
  /** Throws while a reply or an A/B benchmark runs. */
  assertIdle: () => void;
}

export function conversationsApi(ctx: HostContext, { generations, remote, assertIdle }: ConversationsApiDeps): ConversationsApi {
  const requireConversation = (id: string): Conversation => {
    const conversation = ctx.store().getConversation(id);
    if (!conversation) throw apiError("NOT_FOUND", "That conversation no longer exists.");
    return conversation;
  };

  const touch = (conversationId: string): void => {
    const conversation = ctx.store().touchConversation(conversationId);
    if (conversation) ctx.emit("conversationUpdated", { conversation });
  };

  /**
   * Who writes the next reply: null for this machine's engine, else the remote connection settings.chatEngine
   * names (NOT_FOUND when it was removed). Asked before anything is stored, and idleness checked again after the
   * wait, so a failure here leaves the conversation as it was.
   */
  const replyTarget = async (): Promise<ReplyConnection | null> => {
    assertIdle();
    const engine = ctx.store().getSettings().chatEngine;
    if (engine.kind === "local") return null;
    const target = await remote.forReply(engine);
    assertIdle();
    return target;
  };

  /** Adds the assistant placeholder after the conversation's current messages and starts generating into it. */
  const startReply = (conversationId: string, target: ReplyConnection | null): Message => {
    // A reply end a full disk kept from being saved goes first: the history below must have it, and the write just
    // made (the user's message) says there is room again.
    generations.saveUnsaved();
    const db = ctx.store();
    const settings = db.getSettings();
    const conversation = requireConversation(conversationId);
    const modelPath = ctx.status.current.model?.modelPath ?? settings.modelPath;
    const mode = conversation.speculation ?? settings.speculation;
    // The draft is recorded when the reply's mode may use it (and one is loaded as the reply is asked for).
    const draft = !target && (mode === "draft" || mode === "auto") ? ctx.status.current.draftModel : null;
    const snapshot: GenerationSettings = {
      systemPrompt: settings.systemPrompt,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      // A remote server speculates as it was started: the local mode does not apply there.
      ...(target ? {} : { speculation: mode }),
      draftModel: draft ? basename(draft.modelPath) : null,
    };
    const history = db.getMessages(conversationId);
    const placeholder = db.addMessage({
      conversationId,
      role: "assistant",
      content: "",
      status: "streaming",
      model: target ? target.model : modelPath ? basename(modelPath) : null,
      settings: snapshot,
      remote: target ? remoteReplyOf(target, null) : null,
    });
    generations.begin({
      conversationId,
      messageId: placeholder.id,
      settings: snapshot,
      speculation: { mode, maxDraftTokens: settings.maxDraftTokens },
      history,
      remote: target,
    });
    return placeholder;
  };

  return {
    async listConversations({ query }) {
      return ctx.store().listConversations(query);
    },

    async createConversation({ title }) {
      const conversation = ctx.store().createConversation(title?.trim() || DEFAULT_CONVERSATION_TITLE);
      ctx.emit("conversationUpdated", { conversation });
      return conversation;
    },

    async renameConversation({ id, title }) {
      const conversation = ctx.store().renameConversation(id, title.trim());
      if (!conversation) throw apiError("NOT_FOUND", "That conversation no longer exists.");
      ctx.emit("conversationUpdated", { conversation });
      return conversation;
    },

    async deleteConversation({ id }) {
      generations.stop(id);
      const deleted = ctx.store().deleteConversation(id);
      if (deleted) ctx.emit("conversationDeleted", { id });
      return { deleted };
    },

    async getConversation({ id }) {
      const conversation = requireConversation(id);
      // The reply being streamed is saved only every ~200 ms, and one whose end could not be saved is not 'streaming'
      // any more: show both as the window was told.
      const messages = ctx.store().getMessages(id).map((message) => generations.shown(message));
      return { conversation, messages };
    },

    async setConversationSpeculation({ id, mode }) {
      const conversation = ctx.store().setConversationSpeculation(id, mode);
      if (!conversation) throw apiError("NOT_FOUND", "That conversation no longer exists.");
      ctx.emit("conversationUpdated", { conversation });
      return conversation;
    },

    async sendMessage({ conversationId, content }) {
      const target = await replyTarget();
      const conversation = requireConversation(conversationId);
      const db = ctx.store();
      const userMessage = db.addMessage({ conversationId, role: "user", content, status: "complete" });
      if (conversation.title === DEFAULT_CONVERSATION_TITLE) {
        const firstUserMessage = db.getMessages(conversationId).find((message) => message.role === "user") ?? userMessage;
        const title = titleFromMessage(firstUserMessage.content);
        if (title) db.renameConversation(conversationId, title);
      }
      const assistantMessage = startReply(conversationId, target);
      touch(conversationId);
      return { userMessage, assistantMessage };
    },

    async stopGeneration({ conversationId }) {
      return { stopped: generations.stop(conversationId) };
    },

    async regenerate({ conversationId }) {
      const target = await replyTarget();
      requireConversation(conversationId);
      const db = ctx.store();
      const last = db.getMessages(conversationId).at(-1);
      if (!last || last.role !== "assistant") throw apiError("BAD_REQUEST", "There is no reply to regenerate.");
      db.deleteMessage(last.id);
      const assistantMessage = startReply(conversationId, target);
      touch(conversationId);
      return { assistantMessage };
    },

    async editAndResend({ conversationId, messageId, content }) {
      const target = await replyTarget();
      requireConversation(conversationId);
      const db = ctx.store();
      const lastUserMessage = db.getMessages(conversationId).findLast((message) => message.role === "user");
      if (!lastUserMessage || lastUserMessage.id !== messageId) {
        throw apiError("BAD_REQUEST", "Only your last message can be edited and sent again.");
      }
      db.updateMessageContent(messageId, content);
      db.deleteMessagesAfter(conversationId, messageId);
      const userMessage = db.getMessage(messageId) ?? { ...lastUserMessage, content };
      const assistantMessage = startReply(conversationId, target);
      touch(conversationId);
      return { userMessage, assistantMessage };
    },
  };
}
