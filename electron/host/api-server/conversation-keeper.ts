/**
 * settings.apiServer.keepConversations: API chat turns stored as conversations of the chat list. A client resends
 * the whole conversation every turn; the turn's conversation id (the engine's, derived from the request) maps to
 * the chat list's conversation made for its first turn, and each later turn adds only the messages beyond those already stored, then the reply.
 * The map lives in memory: after a restart a continued API conversation starts a new chat entry.
 */
import type { HostContext } from "../host-context.js";
import { describeError } from "../logger.js";
import { titleFromMessage } from "../titles.js";
import type { ApiChatTurn } from "./chat-completions.js";

export class ConversationKeeper {
  /** The engine's conversation id -> the chat list's conversation (its own id) and how many messages it holds. */
  private readonly known = new Map<string, { listedId: string; stored: number }>();

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
    let entry = this.known.get(turn.conversationId);
    if (entry && (!db.getConversation(entry.listedId) || entry.stored > messages.length)) entry = undefined;
    if (!entry) {
      const firstUser = messages.find((m) => m.role === "user")?.content ?? "";
      const conversation = db.createConversation(`API: ${titleFromMessage(firstUser) || "conversation"}`);
      entry = { listedId: conversation.id, stored: 0 };
    }
    for (const message of messages.slice(entry.stored)) {
      db.addMessage({ conversationId: entry.listedId, role: message.role, content: message.content, status: "complete", model: message.role === "assistant" ? turn.model : null });
    }
    const reply = db.addMessage({ conversationId: entry.listedId, role: "assistant", content: turn.reply, status: "complete", model: turn.model });
    db.finishMessage(reply.id, { content: turn.reply, status: "complete", stats: turn.stats, error: null });
    entry.stored = messages.length + 1;
    this.known.set(turn.conversationId, entry);
    const conversation = db.touchConversation(entry.listedId);
    if (conversation) this.ctx.emit("conversationUpdated", { conversation });
  }
}
