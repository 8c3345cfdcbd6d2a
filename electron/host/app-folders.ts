/**
 * Tandem's own folders (data, models, cache, logs) for settings and the Help menu, opening one in the OS file
 * manager through the shell's seam.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { AppFolder, AppInfo } from "../../contracts/window/index.js";
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
