/**
 * A remote engine's address as users paste it: `http://host:8000`, `http://host:8000/`, `http://host:8000/v1` or
 * `http://host:8000/v1/` all name the same server. `root` is where the servers' own endpoints live (/props,
 * /metrics, /version, /api/version…), `v1` where the OpenAI ones do.
 */
import { RemoteError } from "./errors.js";

export interface RemoteBase {
  /** Without a trailing slash, without /v1: `http://host:8000` (or `http://host/prefix`). */
  root: string;
  /** `${root}/v1`. */
  v1: string;
}

export function parseBaseUrl(input: string): RemoteBase {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new RemoteError("bad-request", `"${input}" is not a URL (expected e.g. http://gpu-box:8000 or http://gpu-box:8000/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RemoteError("bad-request", `"${input}" must start with http:// or https://`);
  }
  url.search = "";
  url.hash = "";
  const path = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  const root = `${url.origin}${path}`;
  return { root, v1: `${root}/v1` };
}
