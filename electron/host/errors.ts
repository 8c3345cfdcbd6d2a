/**
 * Error types of the host layer: `EngineRequestError` for a failed engine request (carrying the engine's own code
 * or one of the supervisor's), and helpers that turn anything thrown into a `TandemApiError` fit for the user.
 */
import type { EngineErrorCode } from "../../engine/protocol.js";
import { TandemApiError, type ApiError, type CrashInfo } from "../window-api.js";

export type EngineRequestErrorCode =
  | EngineErrorCode
  /** The engine process died while the request was pending. */
  | "ENGINE_CRASHED"
  /** The host stopped or restarted the engine on purpose while the request was pending. */
  | "ENGINE_STOPPED"
  /** There is no ready engine to send the request to. */
  | "ENGINE_UNAVAILABLE"
  /** No answer within the request's time limit. */
  | "TIMEOUT"
  /** The engine answered with something that does not match the protocol. */
  | "BAD_RESPONSE";

export class EngineRequestError extends Error {
  constructor(
    readonly code: EngineRequestErrorCode,
    message: string,
    /** Set for ENGINE_CRASHED: what happened to the process. */
    readonly crash: CrashInfo | null = null,
  ) {
    super(message);
    this.name = "EngineRequestError";
  }
}

export function apiError(code: string, message: string): TandemApiError {
  return new TandemApiError(code, message);
}

/** Converts whatever a host operation threw into the error the renderer sees. */
export function toTandemApiError(error: unknown): TandemApiError {
  if (error instanceof TandemApiError) return error;
  if (error instanceof EngineRequestError) {
    if (error.code === "ENGINE_CRASHED" || error.code === "ENGINE_STOPPED" || error.code === "ENGINE_UNAVAILABLE") {
      return new TandemApiError(error.code, `The engine is not available: ${error.message}`);
    }
    return new TandemApiError(error.code, error.message);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new TandemApiError("INTERNAL", `Something went wrong inside Tandem: ${detail}`);
}

export function toApiErrorShape(error: unknown): ApiError {
  const converted = toTandemApiError(error);
  return { code: converted.code, message: converted.message };
}
