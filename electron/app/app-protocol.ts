/**
 * The renderer is served from `tandem://app/…`, a privileged custom scheme, rather than from file:// (Electron's
 * security checklist, item 18): a file:// page is treated as able to read other local files, while this origin can
 * only ever reach what the handler below hands out, which is the files under dist/renderer and nothing else.
 * Kept free of Electron (main passes `protocol` and the session in) so the request → file mapping is unit tested.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { CustomScheme } from "electron";
import { rendererContentType } from "../host/web/static-files.js";

export const APP_SCHEME = "tandem";
export const APP_HOST = "app";
/** The renderer's origin: the only one allowed to navigate the window and to call the IPC API. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** What the window loads. */
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * How the scheme is registered (`protocol.registerSchemesAsPrivileged`, before the app is ready). `standard` gives
 * it real origins and relative URL resolution (the page's `./assets/…` and module imports) and web storage;
 * `secure` makes the page a secure context like https. `corsEnabled` because Vite marks the module scripts and
 * stylesheets `crossorigin` (CORS-mode requests): they are same-origin, which Chromium allows on a standard scheme
 * anyway, but a scheme outside Chromium's CORS-enabled list is where custom-protocol module loading has broken
 * before, and the flag costs nothing here — responses carry no Access-Control-Allow-Origin, so no other origin can
 * read them. No `supportFetchAPI` (the page never calls fetch() or XHR in the app; it talks to main over IPC), and
 * never `bypassCSP`.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, corsEnabled: true },
};

/** The Content-Type a renderer file is served with, or null for a type that is never served (one table with web mode). */
export const contentTypeFor: (file: string) => string | null = rendererContentType;

export type AppRequestResolution = { ok: true; file: string; contentType: string } | { ok: false; status: 400 | 403 | 404 };

/** `tandem://app/<path>?query#hash` → `<path>` exactly as written (before any URL normalization), or null. */
function rawPathOf(url: string): string | null {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*([^?#]*)/i.exec(url);
  return match ? match[1] : null;
}

/**
 * Maps a request URL to the file under `root` it names, or to the status it is refused with:
 * - 404: not our host, a missing segment (`…/` — there are no directory listings), or a type never served;
 * - 403: anything that tries to leave the root or smuggle a separator: `.`/`..` segments (also `%2e%2e`),
 *   encoded or literal backslashes, encoded slashes, NUL, drive letters (`C:`);
 * - 400: a URL or escape that does not parse.
 * `tandem://app/` is the index page. Chromium canonicalizes standard-scheme URLs before they reach the handler
 * (dot segments resolved, `\` turned into `/`), so most of this never triggers in the app; it is checked anyway,
 * on the URL as given, so that this function alone is enough to keep requests inside the root.
 */
export function resolveAppRequest(url: string, root: string): AppRequestResolution {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, status: 400 };
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST || parsed.username !== "" || parsed.password !== "") {
    return { ok: false, status: 404 };
  }
  const rawPath = rawPathOf(url);
  if (rawPath === null) return { ok: false, status: 400 };
  const segments = rawPath === "" || rawPath === "/" ? ["index.html"] : rawPath.slice(1).split("/");
  const names: string[] = [];
  for (const segment of segments) {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      return { ok: false, status: 400 };
    }
    if (name === "." || name === ".." || /[/\\\0:]/.test(name)) return { ok: false, status: 403 };
    if (name === "") return { ok: false, status: 404 };
    names.push(name);
  }
  const base = path.resolve(root);
  const file = path.resolve(base, ...names);
  const relative = path.relative(base, file);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return { ok: false, status: 403 };
  const contentType = contentTypeFor(file);
  if (!contentType) return { ok: false, status: 404 };
  return { ok: true, file, contentType };
}

export interface AppProtocolHandlerOptions {
  /** dist/renderer (inside app.asar when packaged: Electron's fs reads the archive). */
  root: string;
  /** Sent with every response, so the page's policy does not depend on its <meta> tag alone. */
  contentSecurityPolicy: string;
  /** Where unexpected read failures are reported. */
  log?: (message: string) => void;
  /** Tests only: the file system. */
  fs?: { stat(file: string): Promise<{ isFile(): boolean }>; readFile(file: string): Promise<Uint8Array> };
}

const statusOnly = (status: number) => new Response(null, { status });

/**
 * The `protocol.handle` handler: GET/HEAD of a file under the root, with its type, the CSP and nosniff. Files are
 * read with fs (not net.fetch of a file: URL, which would list directories and answer with Chromium's guess of
 * the type). Never throws: a failure becomes a status.
 */
export function createAppProtocolHandler(options: AppProtocolHandlerOptions): (request: Request) => Promise<Response> {
  const fs = options.fs ?? fsp;
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return statusOnly(405);
    const resolved = resolveAppRequest(request.url, options.root);
    if (!resolved.ok) return statusOnly(resolved.status);
    let body: Uint8Array;
    try {
      // Only regular files: a directory (no listings) or anything else is simply not there.
      if (!(await fs.stat(resolved.file)).isFile()) return statusOnly(404);
      body = await fs.readFile(resolved.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return statusOnly(404);
      options.log?.(`Could not serve ${request.url}: ${String(error)}`);
      return statusOnly(500);
    }
    const headers = {
      "Content-Type": resolved.contentType,
      "Content-Length": String(body.byteLength),
      "Content-Security-Policy": options.contentSecurityPolicy,
      "X-Content-Type-Options": "nosniff",
    };
    return new Response(request.method === "HEAD" ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
  };
}

/**
 * Whether `url` is the app's own page: `tandem://app/index.html`, with any query or fragment (the renderer may use
 * hash routing). Other files of the bundle, other hosts of the scheme and every other scheme (file: included)
 * are foreign to navigation and to the IPC API.
 */
export function isAppPageUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.host === APP_HOST &&
    parsed.username === "" &&
    parsed.password === "" &&
    parsed.pathname === "/index.html"
  );
}

export interface PrivilegedSchemeRegistrar {
  registerSchemesAsPrivileged(customSchemes: CustomScheme[]): void;
}

export interface ProtocolHandlerRegistrar {
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
}

/** Registers the scheme's privileges; must run before the app's `ready` (Electron allows it once). */
export function registerAppScheme(protocol: PrivilegedSchemeRegistrar): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}

/** Serves the renderer on a session's protocol (the session the window uses: the default one). */
export function handleAppProtocol(protocol: ProtocolHandlerRegistrar, options: AppProtocolHandlerOptions): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(options));
}
