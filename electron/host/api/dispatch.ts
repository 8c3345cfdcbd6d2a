/**
 * The host API's edge, where every window call is validated exactly once: `guardApi` wraps the implementation so
 * that each method checks its params against the contract (contracts/window/methods.ts) whoever calls it (IPC,
 * the web server, tests), and `invokeHostApi` calls a guarded API by an untrusted method name, turning every
 * failure into an ApiOutcome with a user-facing message instead of an exception.
 */
import type { ApiOutcome } from "../../../contracts/window/errors.js";
import { parseWindowCall, type TandemApi } from "../../../contracts/window/methods.js";
import { windowMethodNames, type WindowMethod } from "../../../contracts/window/names.js";
import { apiError, toApiErrorShape, toTandemApiError } from "../errors.js";
import { describeError, type Logger } from "../logger.js";

/** Any API method seen through its untyped door: params are checked at runtime before the call. */
type UntypedApiMethod = (params: unknown) => Promise<unknown>;

function untyped(api: TandemApi, method: WindowMethod): UntypedApiMethod {
  return api[method] as unknown as UntypedApiMethod;
}

const knownMethods = new Set<string>(windowMethodNames);

/** Runs one call by name on a guarded API (which validates the params); never throws. */
export async function invokeHostApi(api: TandemApi, method: string, params: unknown): Promise<ApiOutcome<unknown>> {
  if (!knownMethods.has(method)) return { ok: false, error: { code: "UNKNOWN_METHOD", message: `Unknown method "${method}"` } };
  try {
    return { ok: true, result: await untyped(api, method as WindowMethod)(params) };
  } catch (error) {
    return { ok: false, error: toApiErrorShape(error) };
  }
}

/**
 * Wraps an implementation so that each method validates its params (direct callers, e.g. tests, get the same checks
 * as IPC) and only ever throws TandemApiError.
 */
export function guardApi(implementation: TandemApi, logger: Logger): TandemApi {
  const guarded: Partial<Record<WindowMethod, UntypedApiMethod>> = {};
  for (const method of Object.keys(implementation) as WindowMethod[]) {
    guarded[method] = async (params: unknown) => {
      const call = parseWindowCall(method, params);
      if (!call.ok) throw apiError(call.error.code, call.error.message);
      try {
        return await untyped(implementation, method)(call.params);
      } catch (error) {
        const converted = toTandemApiError(error);
        if (converted.code === "INTERNAL") logger.error(`${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        // Not a bug, but worth a line: what failed to be written, in the words of fs or SQLite.
        else if (converted.code === "DISK_FULL") logger.warn(`${method} failed, the disk is full: ${describeError(error)}`);
        throw converted;
      }
    };
  }
  return guarded as unknown as TandemApi;
}
