/**
 * The IPC boundary in main: one `ipcMain.handle` channel per window-API method, each checking who is calling
 * before the host sees anything, and host events pushed back to our windows. Params are not validated here: the
 * host's API validates every call once, at its own edge (electron/host/api/dispatch.ts's guardApi), for IPC and
 * web mode alike; this layer only forwards them and turns the outcome into an `ApiOutcome`.
 */
import { TandemApiError, type ApiOutcome } from "../../contracts/window/errors.js";
import type { TandemApi } from "../../contracts/window/methods.js";
import { ipcChannel, windowMethodNames, type WindowEvent, type WindowMethod } from "../../contracts/window/names.js";
import type { Host } from "../host/types.js";

/** The parts of a WebFrameMain the sender check reads. */
export interface SenderFrameLike {
  readonly url: string;
  /** null for a top-level (main) frame. */
  readonly parent: unknown;
}

/** The parts of an IpcMainInvokeEvent the handlers read. */
export interface InvokeEventLike {
  readonly sender: unknown;
  readonly senderFrame: SenderFrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface SenderCheckOptions {
  /** The web contents of the windows we created (the only ones allowed to call). */
  trustedContents: () => Iterable<unknown>;
  /** Whether a URL is our renderer's page, tandem://app/index.html (see `isAppPageUrl`); file:// never is. */
  isAppUrl: (url: string) => boolean;
}

/**
 * Whether an IPC call comes from the top frame of one of our windows while it shows our page. Anything else (an
 * iframe, a page navigated elsewhere, a frame already gone) is refused: the API can read every conversation.
 */
export function isTrustedSender(event: InvokeEventLike, options: SenderCheckOptions): boolean {
  const frame = event.senderFrame;
  // senderFrame is null when the frame navigated or was destroyed before we looked.
  if (!frame) return false;
  if (frame.parent !== null) return false;
  let ours = false;
  for (const contents of options.trustedContents()) if (contents === event.sender) ours = true;
  return ours && options.isAppUrl(frame.url);
}

const forbidden: ApiOutcome<never> = {
  ok: false,
  error: { code: "FORBIDDEN", message: "This caller may not use the Tandem API" },
};

/**
 * Forwards one call to the host's (validating) API. Never throws: everything becomes an `ApiOutcome` (IPC would
 * mangle exceptions).
 */
export async function runWindowCall(
  api: TandemApi,
  method: WindowMethod,
  params: unknown,
  log: (message: string) => void = () => {},
): Promise<ApiOutcome<unknown>> {
  try {
    // The host's API checks params against this method's schema (guardApi); the cast only forwards them untouched.
    const fn = api[method] as (params: unknown) => Promise<unknown>;
    return { ok: true, result: await fn.call(api, params) };
  } catch (error) {
    // Expected failures (TandemApiError) are the user's business; anything else is a bug worth a stack trace.
    if (!(error instanceof TandemApiError)) log(`${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { ok: false, error: toApiError(error) };
  }
}

export function toApiError(error: unknown): { code: string; message: string } {
  if (error instanceof TandemApiError) return { code: error.code, message: error.message };
  // An unexpected failure: the renderer gets a generic message, the details go to the log.
  return { code: "INTERNAL", message: error instanceof Error && error.message ? `Internal error: ${error.message}` : "Internal error" };
}

export interface RegisterIpcOptions extends SenderCheckOptions {
  ipcMain: IpcMainLike;
  api: TandemApi;
  log?: (message: string) => void;
}

/** Registers one handler per window-API method; returns a function that removes them again. */
export function registerIpcHandlers(options: RegisterIpcOptions): () => void {
  for (const method of windowMethodNames) {
    options.ipcMain.handle(ipcChannel.invoke(method), async (event, ...args) => {
      if (!isTrustedSender(event, options)) {
        options.log?.(`Refused ${method} from ${event.senderFrame?.url ?? "a destroyed frame"}`);
        return forbidden;
      }
      return runWindowCall(options.api, method, args[0], options.log);
    });
  }
  return () => {
    for (const method of windowMethodNames) options.ipcMain.removeHandler(ipcChannel.invoke(method));
  };
}

export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, payload: { event: WindowEvent; data: unknown }): void;
}

/** Forwards every host event to our windows' web contents; returns the unsubscribe function. */
export function forwardHostEvents(host: Pick<Host, "onEvent">, targets: () => Iterable<EventTarget>): () => void {
  return host.onEvent((event, data) => sendEvent(targets(), event, data));
}

/** Sends one window event (host or menu) to each live target. */
export function sendEvent(targets: Iterable<EventTarget>, event: WindowEvent, data: unknown): void {
  for (const target of targets) {
    if (!target.isDestroyed()) target.send(ipcChannel.event, { event, data });
  }
}
