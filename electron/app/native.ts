/**
 * Finds a better-sqlite3 addon built for Electron's ABI.
 *
 * better-sqlite3 is a V8 (not N-API) addon, so one binary serves exactly one runtime ABI. node_modules holds the
 * build for Node (the tests and web mode run on Node); in development Electron needs a second build, made by
 * electron/prepare-native.mjs into .cache/electron-native/ together with a stamp describing what it was built
 * for. Packaged apps need nothing: the packager rebuilds node_modules for Electron.
 *
 * Keep the file names and stamp format in sync with electron/prepare-native.mjs.
 */
import fs from "node:fs";
import path from "node:path";

export const NATIVE_CACHE_DIR = path.join(".cache", "electron-native");
export const SQLITE_BINARY = "better_sqlite3.node";
export const SQLITE_STAMP = "better_sqlite3.json";

/** What a cached build was made for; any difference makes it unusable. */
export interface NativeStamp {
  electron: string;
  betterSqlite3: string;
  platform: string;
  arch: string;
}

export interface ResolveNativeOptions {
  /** `app.getAppPath()`: the repo root in development. */
  appRoot: string;
  isPackaged: boolean;
  /** `process.versions.electron`. */
  electronVersion: string;
  platform?: string;
  arch?: string;
}

export type NativeResolution =
  | { binding: string; problem: null }
  /** No special binding: either none is needed (packaged) or none is usable (problem says why). */
  | { binding: undefined; problem: string | null };

export function resolveSqliteNativeBinding(options: ResolveNativeOptions): NativeResolution {
  if (options.isPackaged) return { binding: undefined, problem: null };
  const dir = path.join(options.appRoot, NATIVE_CACHE_DIR);
  const binding = path.join(dir, SQLITE_BINARY);
  const hint = "run `node electron/prepare-native.mjs` (npm start does) to build better-sqlite3 for Electron";
  if (!fs.existsSync(binding)) return { binding: undefined, problem: `No Electron build of better-sqlite3 at ${binding}; ${hint}` };

  const wanted: NativeStamp = {
    electron: options.electronVersion,
    betterSqlite3: readPackageVersion(path.join(options.appRoot, "node_modules", "better-sqlite3", "package.json")) ?? "unknown",
    platform: options.platform ?? process.platform,
    arch: options.arch ?? process.arch,
  };
  const stamp = readStamp(path.join(dir, SQLITE_STAMP));
  const stale = !stamp || (Object.keys(wanted) as (keyof NativeStamp)[]).some((key) => stamp[key] !== wanted[key]);
  if (stale) return { binding: undefined, problem: `The Electron build of better-sqlite3 at ${binding} is stale; ${hint}` };
  return { binding, problem: null };
}

function readStamp(file: string): NativeStamp | null {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (typeof value !== "object" || value === null) return null;
    const record = value as Record<string, unknown>;
    const keys = ["electron", "betterSqlite3", "platform", "arch"] as const;
    if (!keys.every((key) => typeof record[key] === "string")) return null;
    return { electron: String(record.electron), betterSqlite3: String(record.betterSqlite3), platform: String(record.platform), arch: String(record.arch) };
  } catch {
    return null;
  }
}

function readPackageVersion(file: string): string | null {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    return typeof value === "object" && value !== null && "version" in value && typeof value.version === "string" ? value.version : null;
  } catch {
    return null;
  }
}
