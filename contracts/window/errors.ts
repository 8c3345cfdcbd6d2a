/**
 * How failures cross the window boundary, without zod (the renderer and preload import this at run time): a stable
 * code plus a message fit to show the user.
 */

/** Error shape that crosses the boundary. */
export interface ApiError {
  code: string;
  message: string;
}

/**
 * How a call's outcome crosses IPC and the web socket: main and the web server never let a raw exception cross
 * (Electron would mangle its message); preload and the web client unwrap this and throw a `TandemApiError`.
 */
export type ApiOutcome<T> = { ok: true; result: T } | { ok: false; error: ApiError };

export class TandemApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TandemApiError";
  }
}
