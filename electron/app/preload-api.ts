/**
 * The object preload exposes as `window.tandem`: one function per window-API method, each bound to its own fixed
 * IPC channel (the page cannot pick a channel or reach ipcRenderer), plus `on` for the contract's events only.
 * Runs in the sandboxed preload: no Node built-ins, only what is passed in.
 */
// At run time only the contract's zod-free names (eslint.config.js refuses a schema import here: it would bundle zod).
import type { ApiOutcome } from "../../contracts/window/errors.js";
import { ipcChannel, windowEventNames, windowMethodNames, type WindowEvent } from "../../contracts/window/names.js";
import type { TandemBridge } from "../../contracts/window/transport.js";

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

/** Electron's webUtils.getPathForFile, passed in by preload (tests pass a fake). */
export type PathForFile = (file: File) => string;

export function buildPreloadApi(ipcRenderer: IpcRendererLike, pathForFile: PathForFile = () => ""): TandemBridge {
  const api: Record<string, unknown> = {};
  for (const method of windowMethodNames) {
    const channel = ipcChannel.invoke(method);
    api[method] = async (params?: unknown) => checkOutcome(await ipcRenderer.invoke(channel, params ?? {}));
  }

  const listeners = new Map<WindowEvent, Set<(data: unknown) => void>>();
  const known = new Set<string>(windowEventNames);
  // One IPC listener for all events, dispatched here: the page's listeners never see the IPC event object
  // (it carries `sender`, i.e. ipcRenderer itself).
  ipcRenderer.on(ipcChannel.event, (_event, payload) => {
    if (!isEventPayload(payload) || !known.has(payload.event)) return;
    for (const listener of [...(listeners.get(payload.event) ?? [])]) {
      try {
        listener(payload.data);
      } catch (error) {
        // One failing listener must not starve the others; surface it like an uncaught error would be.
        console.error(error);
      }
    }
  });

  api.on = (event: unknown, listener: unknown): (() => void) => {
    if (typeof event !== "string" || !known.has(event)) throw apiError("BAD_REQUEST", `Unknown event "${String(event)}"`);
    if (typeof listener !== "function") throw apiError("BAD_REQUEST", "The listener must be a function");
    const name = event as WindowEvent;
    const fn = listener as (data: unknown) => void;
    let set = listeners.get(name);
    if (!set) listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  };

  // A dropped file's path, for drag-and-drop import; anything that is not a File has none.
  api.pathForFile = (file: unknown): string => {
    if (typeof File === "undefined" || !(file instanceof File)) return "";
    try {
      return pathForFile(file);
    } catch {
      return "";
    }
  };

  return api as unknown as TandemBridge;
}

/** The thrown error: shaped like contracts/window/errors.ts's TandemApiError (name, code, message) without importing it. */
export interface PreloadApiError extends Error {
  name: "TandemApiError";
  code: string;
}

export function apiError(code: string, message: string): PreloadApiError {
  return Object.assign(new Error(message), { name: "TandemApiError" as const, code });
}

/**
 * Passes a well-formed `ApiOutcome` through and turns anything else into an INTERNAL error outcome. Outcomes, not
 * thrown errors, cross into the page: contextBridge rebuilds a thrown Error from its message alone (Electron's
 * PassValueToOtherContext), which would lose the error's `code`. The renderer's client unwraps them.
 */
export function checkOutcome(outcome: unknown): ApiOutcome<unknown> {
  if (isOutcome(outcome)) return outcome;
  return { ok: false, error: { code: "INTERNAL", message: "Malformed reply from the app" } };
}

function isOutcome(value: unknown): value is ApiOutcome<unknown> {
  if (typeof value !== "object" || value === null || !("ok" in value)) return false;
  if (value.ok === true) return "result" in value;
  if (value.ok !== false || !("error" in value)) return false;
  const error = value.error;
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" && "message" in error && typeof error.message === "string";
}

function isEventPayload(value: unknown): value is { event: WindowEvent; data: unknown } {
  return typeof value === "object" && value !== null && "event" in value && typeof value.event === "string" && "data" in value;
}
