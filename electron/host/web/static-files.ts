/**
 * Serving the built renderer from one folder: URL-to-file mapping that cannot leave the folder, content types, and
 * the security headers every response carries.
 */
import { realpath, stat } from "node:fs/promises";
import { extname, isAbsolute, join, relative, resolve, sep } from "node:path";

/**
 * The file types the renderer bundle is made of, for web mode's server and the app's tandem:// scheme alike (the
 * scheme serves nothing else).
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  // Source maps (dist/ only: the installers leave them out); devtools reads them.
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/** The Content-Type of a renderer file, or null for a type the renderer is not made of. */
export function rendererContentType(path: string): string | null {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? null;
}

export function contentTypeFor(path: string): string {
  return rendererContentType(path) ?? "application/octet-stream";
}

/** The page may only load its own files and talk to this server's WebSocket. */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(port: number): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(port),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    // The page URL carries the access token: never send it to anyone in a Referer header.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}

/**
 * The file under `root` that a URL path names, or null when it names nothing servable: undecodable, containing NUL
 * or backslashes, escaping the folder (directly or through a symlink), or not a regular file. `/` is index.html.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const relativePath = decoded === "/" || decoded === "" ? "index.html" : decoded.replace(/^\/+/, "");
  const rootPath = resolve(root);
  const candidate = resolve(rootPath, relativePath);
  if (!isInside(rootPath, candidate)) return null;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(rootPath), realpath(candidate)]);
    if (!isInside(realRoot, realFile)) return null;
    return (await stat(realFile)).isFile() ? realFile : null;
  } catch {
    return null;
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel) && join(root, rel) === path;
}
