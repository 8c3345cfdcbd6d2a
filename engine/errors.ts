import { basename } from "node:path";
import type { EngineErrorCode } from "../contracts/engine/protocol.js";

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
  // A full disk is not an engine bug: the host shows DISK_FULL with this plain message instead of "ENOSPC: …".
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  if (code === "ENOSPC" || code === "EDQUOT") {
    const what = typeof path === "string" && path ? ` (Tandem was writing "${basename(path)}".)` : "";
    return { code: "DISK_FULL", message: `The disk is full: free some space and try again.${what}` };
  }
  return { code: "INTERNAL", message };
}
