/**
 * Derives the conversation id the engine pages its KV cache by (`generate`'s `conversationId`) for stateless API
 * clients, which send no id of their own. A chat client resends the whole conversation every turn, so the id is
 * derived from what stays fixed as it grows: the model, the first system message and the first user message. Turn
 * n+1 then lands on the slot (or saved state) turn n left, and only the new tokens are evaluated. Two conversations
 * that open identically derive the same id; that only costs cache reuse (the decode loop keeps the common prefix
 * and re-evaluates the rest), never correctness (GenerationRunner gives a second one running at once an id of its
 * own).
 */
import { createHash } from "node:crypto";
import type { ChatMessage } from "../../../contracts/engine/protocol.js";

/** How much of a raw prompt identifies it: an editor's prompt for one file starts the same way every time. */
const PROMPT_ID_CHARS = 512;

function hash(...parts: string[]): string {
  const h = createHash("sha256");
  for (const part of parts) h.update(part).update("\0");
  return h.digest("hex").slice(0, 32);
}

export function chatConversationId(modelId: string, messages: readonly ChatMessage[]): string {
  const system = messages.find((m) => m.role === "system")?.content ?? "";
  const user = messages.find((m) => m.role === "user")?.content ?? "";
  return `api:${hash("chat", modelId, system, user)}`;
}

export function promptConversationId(modelId: string, prompt: string): string {
  return `api:${hash("prompt", modelId, prompt.slice(0, PROMPT_ID_CHARS))}`;
}
