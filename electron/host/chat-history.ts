/** What the engine is asked to continue: the system prompt plus the usable part of the stored conversation. */
import type { ChatMessage } from "../../contracts/engine/protocol.js";
import type { Message, MessageStatus } from "../../contracts/window/index.js";

/** Stopped and interrupted replies stay in the history: the user saw them and may refer to them. */
const USABLE_STATUSES: ReadonlySet<MessageStatus> = new Set<MessageStatus>(["complete", "stopped", "interrupted"]);

export function buildEngineMessages(systemPrompt: string, history: readonly Message[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (systemPrompt.trim() !== "") messages.push({ role: "system", content: systemPrompt });
  for (const message of history) {
    if (!USABLE_STATUSES.has(message.status)) continue;
    // An empty assistant turn (stopped before the first token) would teach the model to answer with nothing.
    if (message.role === "assistant" && message.content.trim() === "") continue;
    messages.push({ role: message.role, content: message.content });
  }
  return messages;
}
