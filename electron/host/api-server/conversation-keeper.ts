/**
 * settings.apiServer.keepConversations: API chat turns stored as conversations of the chat list. A client resends
 * the whole conversation every turn; the turn's session key (its identity across turns) maps to the conversation
 * made for its first turn, and each later turn adds only the messages beyond those already stored, then the reply.
 * The map lives in memory: after a restart a continued API conversation starts a new chat entry.
 */
import type { HostContext } from "../host-context.js";
import { describeError } from "../logger.js";
import { titleFromMessage } from "../titles.js";
import type { ApiChatTurn } from "./chat-completions.js";

export class ConversationKeeper {
  private readonly known = new Map<string, { conversationId: string; stored: number }>();

  constructor(private readonly ctx: HostContext) {}

  record(turn: ApiChatTurn): void {
    try {
      this.store(turn);
    } catch (error) {
      // Keeping a copy is a convenience: the client has its answer either way.
      this.ctx.logger.warn(`Could not keep an API conversation: ${describeError(error)}`);
    }
  }

  private store(turn: ApiChatTurn): void {
    const db = this.ctx.store();
    const messages = turn.messages.filter((m): m is typeof m & { role: "user" | "assistant" } => m.role !== "system");
    let entry = this.known.get(turn.sessionKey);
    if (entry && (!db.getConversation(entry.conversationId) || entry.stored > messages.length)) entry = undefined;
    if (!entry) {
      const firstUser = messages.find((m) => m.role === "user")?.content ?? "";
      const conversation = db.createConversation(`API: ${titleFromMessage(firstUser) || "conversation"}`);
      entry = { conversationId: conversation.id, stored: 0 };
    }
    for (const message of messages.slice(entry.stored)) {
      db.addMessage({ conversationId: entry.conversationId, role: message.role, content: message.content, status: "complete", model: message.role === "assistant" ? turn.model : null });
    }
    const reply = db.addMessage({ conversationId: entry.conversationId, role: "assistant", content: turn.reply, status: "complete", model: turn.model });
    db.finishMessage(reply.id, { content: turn.reply, status: "complete", stats: turn.stats, error: null });
    entry.stored = messages.length + 1;
    this.known.set(turn.sessionKey, entry);
    const conversation = db.touchConversation(entry.conversationId);
    if (conversation) this.ctx.emit("conversationUpdated", { conversation });
  }
}
