/**
 * POST /v1/chat/completions: a validated request → the engine's chat generation → one chat.completion object, or
 * its chunks as server-sent events exactly as OpenAI streams them (a first chunk with the assistant role, content
 * chunks, a chunk with finish_reason, then with stream_options.include_usage a chunk with no choices and the usage,
 * then [DONE]). llama-server's `timings` ride on the response, or on the stream's last chunk.
 */
import type { ServerResponse } from "node:http";
import type { ChatMessage, GenerationStats, SpeculationMode } from "../../../contracts/engine/protocol.js";
import type { ChatCompletionRequest, ChatRequestMessage } from "../../../contracts/openai/requests.js";
import type { ChatCompletion, ChatCompletionChunk, FinishReason } from "../../../contracts/openai/responses.js";
import type { ApiEngine } from "./engine-port.js";
import { ClientGoneError, type GenerationRunner } from "./generation-run.js";
import { toHttpError } from "./errors.js";
import { SYSTEM_FINGERPRINT, generationBase, generationOptions, modelId, requireModel, responseId, unixSeconds } from "./request-options.js";
import { chatConversationId } from "./conversation-id.js";
import { SseStream } from "./sse.js";

/** A finished API chat turn, for keeping API conversations in the chat list (settings.apiServer.keepConversations). */
export interface ApiChatTurn {
  /** The conversation's identity across turns (the engine's conversation id, derived by conversation-id.ts). */
  conversationId: string;
  model: string;
  /** The request's conversation as the engine saw it. */
  messages: ChatMessage[];
  reply: string;
  stats: GenerationStats;
}

export interface EndpointDeps {
  engine: ApiEngine;
  runner: GenerationRunner;
  defaultSpeculation: () => SpeculationMode;
  onChatTurn?: (turn: ApiChatTurn) => void;
}

export interface EndpointCall {
  response: ServerResponse;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  receivedAt: number;
  /** Headers every response carries (CORS). */
  headers: Record<string, string>;
  json(status: number, body: object): void;
}

/** OpenAI's message forms as the engine's: developer is the system role, text parts are joined. */
export function toEngineMessages(messages: readonly ChatRequestMessage[]): ChatMessage[] {
  return messages.map((message) => ({
    role: message.role === "developer" ? "system" : message.role === "assistant" ? "assistant" : message.role === "system" ? "system" : "user",
    content: typeof message.content === "string" ? message.content : (message.content ?? []).map((part) => part.text ?? "").join(""),
  }));
}

export async function chatCompletions(deps: EndpointDeps, call: EndpointCall, body: ChatCompletionRequest): Promise<void> {
  const loaded = requireModel(body.model, await deps.engine.settledModel());
  const model = modelId(loaded);
  const messages = toEngineMessages(body.messages);
  const options = generationOptions(body, deps.defaultSpeculation(), body.max_completion_tokens ?? body.max_tokens ?? null);
  const conversationId = chatConversationId(model, messages);
  const id = responseId("chatcmpl");
  const created = unixSeconds();
  const generation = { messages, conversationId, ...generationBase(options, call) };
  const remember = (reply: string, stats: GenerationStats) => deps.onChatTurn?.({ conversationId, model, messages, reply, stats });

  if (!options.stream) {
    const out = await deps.runner.run(generation);
    const completion: ChatCompletion = {
      id,
      object: "chat.completion",
      created,
      model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, message: { role: "assistant", content: out.text, refusal: null }, logprobs: null, finish_reason: out.finishReason }],
      usage: out.usage,
      timings: out.timings,
    };
    call.json(200, completion);
    remember(out.text, out.stats);
    return;
  }

  const sse = new SseStream(call.response, call.headers);
  const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"], finishReason: FinishReason | null): ChatCompletionChunk => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(options.includeUsage ? { usage: null } : {}),
  });
  try {
    const out = await deps.runner.run({
      ...generation,
      onStart: () => sse.send(chunk({ role: "assistant", content: "" }, null)),
      onText: (text) => sse.send(chunk({ content: text }, null)),
    });
    if (options.includeUsage) {
      sse.send(chunk({}, out.finishReason));
      sse.send({ ...chunk({}, null), choices: [], usage: out.usage, timings: out.timings });
    } else {
      sse.send({ ...chunk({}, out.finishReason), timings: out.timings });
    }
    sse.done();
    remember(out.text, out.stats);
  } catch (error) {
    // Before the first chunk the client still gets a proper status code.
    if (!sse.isStarted) throw error;
    if (!(error instanceof ClientGoneError)) sse.error(toHttpError(error).body);
  }
}
