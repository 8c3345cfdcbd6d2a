/**
 * What Tandem's OpenAI-compatible API server answers, as TypeScript types (the server builds these, it never has
 * to validate them): the shapes OpenAI documents for chat completions, their stream chunks, legacy completions,
 * the model list and errors, plus llama-server's `timings` object with Tandem's own fields.
 */
import type { CacheOutcome, SpeculationMode } from "../engine/protocol.js";

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    /** invalid_request_error (4xx the client can fix), authentication_error, not_found_error, server_error… */
    type: OpenAiErrorType;
    param: string | null;
    code: string | null;
  };
}

export type OpenAiErrorType = "invalid_request_error" | "authentication_error" | "permission_error" | "not_found_error" | "server_error";

export type FinishReason = "stop" | "length";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens served from the cache (OpenAI's name); the same figure as timings.cache_n. */
  prompt_tokens_details: { cached_tokens: number };
}

/**
 * How a reply was computed, llama-server's way (its field names), plus Tandem's: present on every response, on the
 * last chunk of a stream.
 */
export interface Timings {
  /** Prompt tokens evaluated for this request (the rest came from the cache: cache_n). */
  prompt_n: number;
  /** From the request reaching the engine to its prompt evaluated. */
  prompt_ms: number;
  prompt_per_second: number;
  /** Tokens generated. */
  predicted_n: number;
  predicted_ms: number;
  predicted_per_second: number;
  /** Drafted tokens proposed to the target, and of those the ones it kept. */
  draft_n: number;
  draft_n_accepted: number;
  /** Tandem: prompt tokens reused from the cache (not evaluated again). */
  cache_n: number;
  /** Tandem: target decodes that checked drafted tokens. */
  verify_steps: number;
  /** Tandem: the speculation mode the reply ran with. */
  speculator: SpeculationMode;
  /** Tandem: how the conversation cache served the prompt. */
  cache_outcome: CacheOutcome | null;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: 0;
    message: { role: "assistant"; content: string; refusal: null };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  usage: Usage;
  timings: Timings;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  system_fingerprint: string;
  /** Empty on the usage chunk (stream_options.include_usage). */
  choices: Array<{
    index: 0;
    delta: { role?: "assistant"; content?: string };
    logprobs: null;
    finish_reason: FinishReason | null;
  }>;
  /** With stream_options.include_usage: null on every chunk but the last, which has no choices. */
  usage?: Usage | null;
  timings?: Timings;
}

export interface Completion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{ index: 0; text: string; logprobs: null; finish_reason: FinishReason | null }>;
  usage?: Usage | null;
  timings?: Timings;
}

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: "tandem";
}

export interface ModelList {
  object: "list";
  data: ModelObject[];
}
