/**
 * Where Tandem keeps its data when no shell says otherwise. It is the folder Electron's `app.getPath("userData")`
 * resolves to for this app (appData + the package's productName "Tandem"), so web mode and the desktop app share
 * one database, settings and models folder. TANDEM_DATA_DIR overrides it (tests, portable setups).
 */
import { homedir } from "node:os";
import { join } from "node:path";

export const APP_FOLDER_NAME = "Tandem";

export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (env.TANDEM_DATA_DIR) return env.TANDEM_DATA_DIR;
  switch (platform) {
    case "win32":
      return join(env.APPDATA || join(home, "AppData", "Roaming"), APP_FOLDER_NAME);
    case "darwin":
      return join(home, "Library", "Application Support", APP_FOLDER_NAME);
    default:
      return join(env.XDG_CONFIG_HOME || join(home, ".config"), APP_FOLDER_NAME);
  }
}
