/**
 * Error types of the host layer: `EngineRequestError` for a failed engine request (carrying the engine's own code
 * or one of the supervisor's), and helpers that turn anything thrown into a `TandemApiError` fit for the user.
 */
import { basename } from "node:path";
import type { EngineErrorCode } from "../../contracts/engine/protocol.js";
import { TandemApiError, type ApiError, type CrashInfo } from "../../contracts/window/index.js";
import { damageApiError } from "./store/integrity.js";

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

/** Converts whatever a host operation threw into the error the renderer sees (never with a stack trace in it). */
export function toTandemApiError(error: unknown): TandemApiError {
  if (error instanceof TandemApiError) {
    const message = withoutStackTrace(error.message);
    return message === error.message ? error : new TandemApiError(error.code, message);
  }
  // Damage SQLite reports is a state the window has a screen for (DATABASE_DAMAGED), not a bug.
  const damaged = damageApiError(error);
  if (damaged) return damaged;
  // A full disk is the user's to fix, not a bug: its own code and a plain message (the engine words its own).
  if (!(error instanceof EngineRequestError) && isDiskFull(error)) return new TandemApiError("DISK_FULL", diskFullMessage(diskFullTarget(error)));
  if (error instanceof EngineRequestError) {
    if (error.code === "ENGINE_CRASHED" || error.code === "ENGINE_STOPPED" || error.code === "ENGINE_UNAVAILABLE") {
      return new TandemApiError(error.code, `The engine is not available: ${withoutStackTrace(error.message)}`);
    }
    return new TandemApiError(error.code, withoutStackTrace(error.message));
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new TandemApiError("INTERNAL", `Something went wrong inside Tandem: ${withoutStackTrace(detail)}`);
}

/**
 * Whether `error` means the disk (or the user's quota) is full: ENOSPC or EDQUOT from fs, SQLITE_FULL from
 * better-sqlite3, DISK_FULL from the engine, or any of them as the error's cause.
 */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL" || code === "DISK_FULL") return true;
  }
  return false;
}

/** "The disk is full: free some space and try again." plus what was being written, when known. */
export function diskFullMessage(what?: string | null): string {
  return `The disk is full: free some space and try again.${what ? ` (Tandem was writing ${what}.)` : ""}`;
}

/** What a disk-full error was writing, in words: the chat database, or the file fs names (its name only). */
function diskFullTarget(error: unknown): string | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, path } = e as { code?: unknown; path?: unknown };
    if (code === "SQLITE_FULL") return "the chat database";
    if (typeof path === "string" && path) return `"${basename(path)}"`;
  }
  return null;
}

/**
 * A message without the stack frames some libraries (and a rethrown error's text) carry: the window shows messages
 * to the user, the stack belongs in the log only.
 */
export function withoutStackTrace(message: string): string {
  if (!STACK_FRAME.test(message)) return message;
  return message
    .split("\n")
    .filter((line) => !STACK_FRAME_LINE.test(line))
    .join("\n")
    .trimEnd();
}

const STACK_FRAME = /^\s+at \S/m;
const STACK_FRAME_LINE = /^\s+at \S/;

export function toApiErrorShape(error: unknown): ApiError {
  const converted = toTandemApiError(error);
  return { code: converted.code, message: converted.message };
}
