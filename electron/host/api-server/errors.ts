/**
 * The API server's failures as OpenAI reports them: an HTTP status plus `{error: {message, type, param, code}}`.
 * Everything a handler throws ends up here (toHttpError), so a client always gets OpenAI's error format.
 */
import type { z } from "zod";
import type { OpenAiErrorBody, OpenAiErrorType } from "../../../contracts/openai/responses.js";
import { EngineRequestError, withoutStackTrace } from "../errors.js";
import { describeError } from "../logger.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAiErrorType,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }

  get body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): HttpError =>
  new HttpError(400, "invalid_request_error", code, message, param);

/** A body that failed its schema: the first problem, named by its path (OpenAI names one parameter per error). */
export function invalidBody(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  const message = issue ? (param ? `Invalid ${param}: ${issue.message}` : issue.message) : "Invalid request body";
  return badRequest(message, param);
}

export const NO_MODEL_MESSAGE = "No model is loaded in Tandem: load one in the app (or start `tandem serve --model <gguf>`) and try again.";

/** What a failed engine request means to an API client. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof EngineRequestError) {
    const message = withoutStackTrace(error.message);
    switch (error.code) {
      case "PROMPT_TOO_LONG":
        return badRequest(message, "messages", "context_length_exceeded");
      case "NO_MODEL":
        return new HttpError(503, "server_error", "model_not_loaded", NO_MODEL_MESSAGE);
      case "NO_DRAFT_MODEL":
        return badRequest(`${message} (tandem.speculation "draft" needs a draft model loaded in Tandem)`, "tandem.speculation", "draft_model_not_loaded");
      case "BAD_REQUEST":
        return badRequest(message);
      case "BUSY":
      case "ENGINE_CRASHED":
      case "ENGINE_STOPPED":
      case "ENGINE_UNAVAILABLE":
      case "TIMEOUT":
        return new HttpError(503, "server_error", "engine_unavailable", `Tandem's engine is not available: ${message}`, null, { "Retry-After": "5" });
      default:
        return new HttpError(500, "server_error", error.code.toLowerCase(), message);
    }
  }
  return new HttpError(500, "server_error", "internal_error", `Something went wrong inside Tandem: ${withoutStackTrace(describeError(error))}`);
}
