import os from "node:os";
import path from "node:path";

/**
 * Tandem's data directory, the same folder Electron's `app.getPath("userData")` gives the app, so the app, web
 * mode and the CLI share one database, model folder and caches. TANDEM_DATA_DIR overrides it (tests, portable use).
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.TANDEM_DATA_DIR) return path.resolve(env.TANDEM_DATA_DIR);
  const home = os.homedir();
  if (platform === "win32") return path.join(env.APPDATA ?? path.join(home, "AppData", "Roaming"), "Tandem");
  if (platform === "darwin") return path.join(home, "Library", "Application Support", "Tandem");
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, ".config"), "Tandem");
}

export function cacheDirOf(dataDir: string): string {
  return path.join(dataDir, "cache");
}
