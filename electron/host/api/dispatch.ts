/**
 * Calling the host API by method name with untrusted params, as the Electron IPC handler and the web server do:
 * params are validated against the window-api contract, and every failure comes back as an ApiOutcome with a
 * user-facing message instead of an exception.
 */
import { parseWindowCall, type ApiOutcome, type TandemApi, type WindowMethod } from "../../../contracts/window/window-api.js";
import { apiError, toApiErrorShape, toTandemApiError } from "../errors.js";
import { describeError, type Logger } from "../logger.js";

/** Any API method seen through its untyped door: params are checked at runtime before the call. */
type UntypedApiMethod = (params: unknown) => Promise<unknown>;

function untyped(api: TandemApi, method: WindowMethod): UntypedApiMethod {
  return api[method] as unknown as UntypedApiMethod;
}

/** Validates and runs one call; never throws. */
export async function invokeHostApi(api: TandemApi, method: string, params: unknown): Promise<ApiOutcome<unknown>> {
  const call = parseWindowCall(method, params);
  if (!call.ok) return { ok: false, error: call.error };
  try {
    return { ok: true, result: await untyped(api, call.method)(call.params) };
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
