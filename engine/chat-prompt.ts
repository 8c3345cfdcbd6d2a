import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token } from "node-llama-cpp";
import { EngineFailure } from "./errors.js";
import type { ChatMessage } from "../contracts/engine/protocol.js";

/**
 * Renders a conversation into prompt tokens with the model's chat template, fitting it into the context.
 *
 * Truncation policy (documented in the README): the system prompt and the newest message are always kept; the
 * oldest other messages are dropped, one at a time, until the prompt plus room for the reply fits. The room kept
 * for the reply is the smaller of maxTokens and a quarter of the context. If the system prompt and the newest
 * message alone leave no room for even one token, the turn fails with PROMPT_TOO_LONG instead.
 */
export interface RenderedPrompt {
  tokens: Token[];
  /** Messages dropped from the start of the history. */
  truncatedMessages: number;
}

function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    if (message.role === "system") return { type: "system", text: message.content };
    if (message.role === "user") return { type: "user", text: message.content };
    return { type: "model", response: [message.content] };
  });
  // An empty model turn at the end opens the assistant's reply.
  history.push({ type: "model", response: [] });
  return history;
}

export function renderPrompt(model: LlamaModel, wrapper: ChatWrapper, messages: readonly ChatMessage[]): Token[] {
  const { contextText } = wrapper.generateContextState({ chatHistory: toHistory(messages) });
  return contextText.tokenize(model.tokenizer);
}

export function fitPrompt(options: {
  model: LlamaModel;
  wrapper: ChatWrapper;
  messages: readonly ChatMessage[];
  contextSize: number;
  maxTokens: number;
}): RenderedPrompt {
  const { model, wrapper, contextSize } = options;
  const replyRoom = Math.max(1, Math.min(options.maxTokens, Math.floor(contextSize / 4)));
  const system = options.messages.filter((m) => m.role === "system");
  const rest = options.messages.filter((m) => m.role !== "system");

  let dropped = 0;
  for (;;) {
    const kept = [...system, ...rest.slice(dropped)];
    const tokens = renderPrompt(model, wrapper, kept);
    if (tokens.length + replyRoom <= contextSize) return { tokens, truncatedMessages: dropped };
    if (dropped >= rest.length - 1) {
      // Only the system prompt and the newest message are left.
      // The KV cache holds contextSize - 1 tokens (see usableContext); the prompt must leave room to evaluate it.
      if (tokens.length < contextSize - 1) return { tokens, truncatedMessages: dropped };
      throw new EngineFailure(
        "PROMPT_TOO_LONG",
        `The message is too long for this model's context: the prompt needs ${tokens.length} tokens and the context holds ${contextSize}. ` +
          "Shorten the message or the system prompt, or raise the context size.",
      );
    }
    dropped++;
  }
}

/**
 * A raw prompt (OpenAI's legacy completions): the text tokenized as it is, without a chat template, with the BOS
 * token first when the model expects one (as llama-server does). Special-token text in it stays plain text. Nothing
 * can be dropped from a raw prompt, so one that leaves no room in the context fails with PROMPT_TOO_LONG.
 */
export function fitRawPrompt(options: { model: LlamaModel; prompt: string; contextSize: number }): RenderedPrompt {
  const { model, prompt, contextSize } = options;
  const bos = model.tokens.bos;
  const tokens = [...(bos !== null && model.tokens.shouldPrependBosToken ? [bos] : []), ...model.tokenize(prompt, false)];
  if (tokens.length === 0) throw new EngineFailure("BAD_REQUEST", "The prompt is empty once tokenized");
  // As in fitPrompt: the KV cache holds contextSize - 1 tokens and the prompt must leave room to evaluate it.
  if (tokens.length >= contextSize - 1) {
    throw new EngineFailure(
      "PROMPT_TOO_LONG",
      `The prompt is too long for this model's context: it needs ${tokens.length} tokens and the context holds ${contextSize}.`,
    );
  }
  return { tokens, truncatedMessages: 0 };
}
