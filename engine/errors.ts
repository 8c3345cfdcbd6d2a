import type { EngineErrorCode } from "./protocol.js";

/** An error with a protocol error code and a message fit to show a user. */
export class EngineFailure extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "EngineFailure";
  }
}

export function toEngineError(error: unknown): { code: EngineErrorCode; message: string } {
  if (error instanceof EngineFailure) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "INTERNAL", message };
}
