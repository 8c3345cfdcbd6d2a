/**
 * What both generation endpoints share: the model named by the request against the loaded one, and OpenAI's
 * sampling, length, stop and streaming parameters turned into the engine's.
 */
import { randomUUID } from "node:crypto";
import { basename } from "node:path";
import type { LoadedModel, SamplingOptions, SpeculationMode } from "../../../contracts/engine/protocol.js";
import type { ChatCompletionRequest, CompletionRequest } from "../../../contracts/openai/requests.js";
import { HttpError, NO_MODEL_MESSAGE } from "./errors.js";
import type { GenerationInput } from "./generation-run.js";

/** OpenAI's default temperature when a request gives none. */
const DEFAULT_TEMPERATURE = 1;

/** The id /v1/models lists for a loaded model: its file name. */
export function modelId(model: LoadedModel): string {
  return basename(model.modelPath);
}

/** The loaded model when the request names it (with or without ".gguf"); 404 model_not_found otherwise. */
export function requireModel(requested: string, loaded: LoadedModel | null): LoadedModel {
  if (!loaded) throw new HttpError(503, "server_error", "model_not_loaded", NO_MODEL_MESSAGE);
  const id = modelId(loaded);
  if (requested === id || requested === id.replace(/\.gguf$/i, "")) return loaded;
  throw new HttpError(404, "invalid_request_error", "model_not_found", `The model "${requested}" does not exist here: Tandem serves "${id}".`, "model");
}

export interface GenerationOptions {
  maxTokens: number | null;
  sampling: SamplingOptions;
  stop: string[];
  speculation: SpeculationMode;
  stream: boolean;
  includeUsage: boolean;
}

export function generationOptions(
  body: ChatCompletionRequest | CompletionRequest,
  defaultSpeculation: SpeculationMode,
  maxTokens: number | null,
): GenerationOptions {
  const stop = body.stop === null || body.stop === undefined ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  const topP = body.top_p ?? undefined;
  return {
    maxTokens,
    sampling: {
      temperature: body.temperature ?? DEFAULT_TEMPERATURE,
      // 1 keeps every token: the same as not filtering.
      ...(topP !== undefined && topP < 1 ? { topP } : {}),
      ...(body.seed !== null && body.seed !== undefined ? { seed: body.seed } : {}),
    },
    stop,
    speculation: body.tandem?.speculation ?? defaultSpeculation,
    stream: body.stream === true,
    includeUsage: body.stream === true && body.stream_options?.include_usage === true,
  };
}

/**
 * The part of a generation both endpoints fill alike: the request's options and the call's signal and arrival
 * (the endpoint adds its messages or prompt and the conversation id).
 */
export function generationBase(
  options: GenerationOptions,
  call: { signal: AbortSignal; receivedAt: number },
): Pick<GenerationInput, "maxTokens" | "sampling" | "speculation" | "stop" | "signal" | "receivedAt"> {
  return {
    maxTokens: options.maxTokens,
    sampling: options.sampling,
    speculation: options.speculation,
    stop: options.stop,
    signal: call.signal,
    receivedAt: call.receivedAt,
  };
}

/** `chatcmpl-…` / `cmpl-…`: OpenAI's id style. */
export function responseId(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll("-", "")}`;
}

export const unixSeconds = (): number => Math.floor(Date.now() / 1000);

export const SYSTEM_FINGERPRINT = "tandem";
