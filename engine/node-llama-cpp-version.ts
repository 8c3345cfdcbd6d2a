/**
 * node-llama-cpp's installed version, read at run time (not a constant that drifts from package.json): the engine
 * reports it in SystemInfo and the host shows it in About before the engine is up.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let cachedVersion: string | null = null;

/**
 * node-llama-cpp's version from its package.json, found from the package's resolved entry (its `exports` do not
 * expose package.json). Works from the sources, the esbuild bundles (dependencies stay external) and a packaged app.
 */
export function nodeLlamaCppVersion(resolveFrom: string = import.meta.url): string {
  if (cachedVersion !== null && resolveFrom === import.meta.url) return cachedVersion;
  let version = "unknown";
  try {
    const entry = createRequire(resolveFrom).resolve("node-llama-cpp");
    for (let dir = dirname(entry), i = 0; i < 8; dir = dirname(dir), i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.name === "node-llama-cpp" && typeof pkg.version === "string") {
          version = pkg.version;
          break;
        }
      } catch {
        // No package.json at this level (dist/ has none): keep walking up.
      }
      if (dirname(dir) === dir) break;
    }
  } catch {
    // Not resolvable (should not happen: the engine needs it); the About dialog says "unknown".
  }
  if (resolveFrom === import.meta.url) cachedVersion = version;
  return version;
}
