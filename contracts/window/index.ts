/**
 * The window contract (renderer <-> host), split by job:
 *
 * - names.ts: method and event names, IPC channels, the upload route (no zod: preload and renderer import it);
 * - errors.ts: ApiError, ApiOutcome, TandemApiError (no zod);
 * - domain.ts: the domain schemas, each default declared once;
 * - methods.ts: the method table (params and result per method) and parseWindowCall;
 * - events.ts: the event table;
 * - transport.ts: preload's bridge type and web mode's frames.
 *
 * This barrel is for the host, the shell and tests. The renderer may import it as types only (eslint.config.js).
 */
export * from "./names.js";
export * from "./errors.js";
export * from "./domain.js";
export * from "./methods.js";
export * from "./events.js";
export * from "./transport.js";
