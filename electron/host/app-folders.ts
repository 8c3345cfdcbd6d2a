/**
 * Tandem's own folders (data, models, cache, logs) for settings and the Help menu, opening one in the OS file
 * manager through the shell's seam, and the versions the About dialog shows.
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AppFolder, AppInfo } from "../window-api.js";
import { apiError } from "./errors.js";
import { logsDir } from "./log-files.js";

export type AppPaths = AppInfo["paths"];

export function appPaths(dataDir: string, modelsFolder: string): AppPaths {
  return { dataDir, modelsFolder, cache: join(dataDir, "cache"), logs: logsDir(dataDir) };
}

/**
 * Opens `folder` with `opener` (Electron: shell.openPath), creating it first so a fresh install's logs or cache
 * folder opens too. Without an opener (web mode, the CLI) it is UNSUPPORTED: the renderer shows the path instead.
 */
export async function openAppFolder(
  folder: AppFolder,
  paths: AppPaths,
  opener: ((path: string) => Promise<boolean>) | undefined,
): Promise<{ opened: boolean }> {
  const path = paths[folder];
  if (!opener) {
    throw apiError("UNSUPPORTED", `Tandem in a browser can't open folders on the computer it runs on. The folder is ${path}`);
  }
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw apiError("NOT_FOUND", `Couldn't create the folder ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { opened: await opener(path) };
}

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
