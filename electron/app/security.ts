/**
 * Locks down what the renderer (and any other web contents) can do. The functions take the minimal slices of
 * Electron's `session` / `webContents` they use, so tests drive them with fakes (test/fakes/electron.ts).
 *
 * The threat model: the renderer shows model output and user-supplied text as Markdown. A bug there must not
 * become code execution, navigation to a foreign page that then talks to our IPC, or access to devices.
 */
import { APP_SCHEME } from "./app-protocol.js";

/**
 * The page and everything it loads come from the app bundle ('self' is the page's origin, tandem://app). No inline
 * scripts or styles, no eval, no remote anything; images may also be data: URLs (Markdown can embed them). Sent
 * as a response header by the tandem: handler (app-protocol.ts), besides the renderer's own <meta> tag, because a
 * header is the only way to deliver frame-ancestors.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  // The app has no frames, so none may be embedded.
  "frame-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join("; ");

// ---------------------------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------------------------

type Headers = Record<string, string[] | string>;

export interface HeadersDetails {
  url: string;
  responseHeaders?: Record<string, string[]>;
}

export interface SessionLike {
  webRequest: {
    onHeadersReceived(
      listener: (details: HeadersDetails, callback: (response: { responseHeaders?: Headers; cancel?: boolean }) => void) => void,
    ): void;
  };
  setPermissionRequestHandler(
    handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

/**
 * Puts the CSP on every local response that reaches webRequest (the app's own scheme, whose handler sends it
 * already, and file:, which the app no longer loads but a page must not escape to without a policy either), and
 * denies every permission request and check (camera, notifications, …).
 */
export function hardenSession(session: SessionLike): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    if (!isLocalUrl(details.url)) {
      // Nothing else is loaded by the app (connect-src 'self'); leave other responses as they are.
      callback({});
      return;
    }
    callback({ responseHeaders: withCsp(details.responseHeaders ?? {}) });
  });
  // A chat app needs no camera, microphone, location, notifications, MIDI, HID, serial, USB or clipboard reads.
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

function isLocalUrl(url: string): boolean {
  return url.startsWith(`${APP_SCHEME}:`) || url.startsWith("file:");
}

/** Replaces any Content-Security-Policy header (whatever its case) with ours. */
export function withCsp(headers: Record<string, string[]>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== "content-security-policy") result[name] = value;
  }
  result["Content-Security-Policy"] = [CONTENT_SECURITY_POLICY];
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Web contents
// ---------------------------------------------------------------------------------------------------------------

export interface PreventableEvent {
  preventDefault(): void;
}

export interface NavigationEvent extends PreventableEvent {
  url: string;
}

export interface WebContentsLike {
  on(event: "will-navigate", listener: (event: NavigationEvent) => void): unknown;
  on(event: "will-redirect", listener: (event: NavigationEvent) => void): unknown;
  on(event: "will-attach-webview", listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: "deny" }): void;
}

export interface HardenContentsOptions {
  /** Whether a URL is the app's own page (see `isAppPageUrl`). */
  isAppUrl: (url: string) => boolean;
  /** `shell.openExternal`: only ever called with http(s) URLs. */
  openExternal: (url: string) => Promise<void> | void;
  /** Where failures of openExternal are reported. */
  log?: (message: string) => void;
}

/**
 * Keeps a web contents on the app's page: navigations elsewhere are prevented (links to websites open in the
 * user's browser instead), new windows are never created, and <webview> cannot be attached.
 */
export function hardenContents(contents: WebContentsLike, options: HardenContentsOptions): void {
  const openIfWeb = (url: string) => {
    if (!isWebUrl(url)) return;
    void Promise.resolve()
      .then(() => options.openExternal(url))
      .catch((error: unknown) => options.log?.(`Could not open ${url}: ${String(error)}`));
  };

  // A Markdown link without target=_blank navigates the page itself; the chat must survive a click on it.
  contents.on("will-navigate", (event) => {
    if (options.isAppUrl(event.url)) return;
    event.preventDefault();
    openIfWeb(event.url);
  });
  // A redirect can only start from a navigation we allowed, but it must not lead anywhere else either.
  contents.on("will-redirect", (event) => {
    if (options.isAppUrl(event.url)) return;
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    openIfWeb(url);
    return { action: "deny" };
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
}

/**
 * Only http(s) URLs may leave the app: file:, javascript:, custom protocol handlers (ms-msdt:, …) and the like can
 * run code or open local files through the OS.
 */
export function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

export interface AppWithContentsCreated {
  on(event: "web-contents-created", listener: (event: unknown, contents: WebContentsLike) => void): unknown;
}

/** Applies `hardenContents` to every web contents the app ever creates, ours or not. */
export function hardenAllContents(app: AppWithContentsCreated, options: HardenContentsOptions): void {
  app.on("web-contents-created", (_event, contents) => hardenContents(contents, options));
}
