/**
 * Electron main process: glue between Electron and the host layer. Every decision with logic in it lives in
 * electron/app/* (unit tested with fakes); this file only wires real Electron objects to those functions.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, protocol, safeStorage, screen, session, shell, utilityProcess } from "electron";
import { createHost } from "./host/host.js";
import { logsDir } from "./host/log-files.js";
import type { Host } from "./host/types.js";
import type { Settings } from "../contracts/window/index.js";
import { handleAppProtocol, isAppPageUrl, registerAppScheme } from "./app/app-protocol.js";
import { createFolderOpener } from "./app/folders.js";
import { forwardHostEvents, registerIpcHandlers, sendEvent } from "./app/ipc.js";
import { createFolderPicker, createModelFilePicker, installQuitHandler } from "./app/lifecycle.js";
import { buildMenuTemplate, type MenuCommand } from "./app/menu.js";
import { resolveSqliteNativeBinding } from "./app/native.js";
import { SafeStorageSecretStore } from "./app/safe-storage-secrets.js";
import { resolveAppPaths } from "./app/paths.js";
import { CONTENT_SECURITY_POLICY, hardenAllContents, hardenSession } from "./app/security.js";
import { createUtilityProcessSpawner } from "./app/utility-spawner.js";
import { backgroundColorFor, createMainWindow } from "./app/window.js";
import { fitToDisplays, loadWindowState, trackWindowState, WINDOW_STATE_FILE } from "./app/window-state.js";

const log = (message: string) => console.error(`[tandem] ${message}`);

// A separate profile for tests and portable runs; must be set before anything reads userData (the lock too).
if (process.env.TANDEM_USER_DATA_DIR) app.setPath("userData", path.resolve(process.env.TANDEM_USER_DATA_DIR));

// The renderer's scheme (tandem://app, instead of file://) gets its privileges now: Electron only accepts them
// before the app is ready, once.
registerAppScheme(protocol);

// A second instance would open the same database and start a second engine: hand over to the first one instead.
if (!app.requestSingleInstanceLock()) app.quit();
else run();

function run(): void {
  const paths = resolveAppPaths({
    mainDir: path.dirname(fileURLToPath(import.meta.url)),
    appPath: app.getAppPath(),
    isPackaged: app.isPackaged,
  });
  const isAppUrl = isAppPageUrl;
  const windows = new Set<BrowserWindow>();
  const liveContents = () => [...windows].filter((w) => !w.isDestroyed()).map((w) => w.webContents);
  const stateFile = () => path.join(app.getPath("userData"), WINDOW_STATE_FILE);

  // Before any web contents exists, so nothing escapes the rules (devtools and future windows included).
  hardenAllContents(app, { isAppUrl, openExternal: (url) => shell.openExternal(url), log });

  const openWindow = (): BrowserWindow => {
    const state = fitToDisplays(loadWindowState(stateFile()), screen.getAllDisplays().map((d) => d.workArea));
    const window = createMainWindow({
      BrowserWindow,
      paths,
      state,
      backgroundColor: backgroundColorFor(nativeTheme.shouldUseDarkColors),
      log,
    });
    windows.add(window);
    trackWindowState(window, stateFile(), log);
    window.on("closed", () => windows.delete(window));
    return window;
  };
  const mainWindow = (): BrowserWindow | null => {
    const focused = BrowserWindow.getFocusedWindow();
    if (focused && windows.has(focused)) return focused;
    return [...windows].find((w) => !w.isDestroyed()) ?? null;
  };

  app.on("second-instance", () => {
    const window = mainWindow();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    } else if (app.isReady()) {
      // macOS: the app was running without windows.
      openWindow();
    }
  });
  app.on("window-all-closed", () => {
    // macOS apps stay alive in the dock without windows; elsewhere closing the last window quits.
    if (process.platform !== "darwin") app.quit();
  });

  app
    .whenReady()
    .then(() => {
      hardenSession(session.defaultSession);
      // The window uses the default session (no partition), so the renderer is served there, before it loads.
      handleAppProtocol(session.defaultSession.protocol, { root: paths.rendererRoot, contentSecurityPolicy: CONTENT_SECURITY_POLICY, log });
      const host = startHost(paths.engineEntry, mainWindow);
      if (!host) return;

      registerIpcHandlers({ ipcMain, api: host.api, trustedContents: liveContents, isAppUrl, log });
      forwardHostEvents(host, liveContents);
      const syncTheme = followTheme(host, () => [...windows]);
      installQuitHandler(app, { dispose: () => host.dispose(), log });
      installMenu((command) => {
        const window = mainWindow();
        if (window) sendEvent([window.webContents], "menuCommand", { command });
        else openWindow();
      });

      openWindow();
      // macOS: clicking the dock icon with no window open brings one back. Registered only now, so a launch-time
      // 'activate' cannot open a second window (or one without a host behind it).
      app.on("activate", () => {
        if (windows.size === 0) openWindow();
      });
      // The window must not wait for the engine (or a model load): the renderer shows the engine state live.
      host
        .start()
        .catch((error: unknown) => log(`Engine start failed: ${String(error)}`))
        .finally(syncTheme);
    })
    .catch((error: unknown) => {
      log(`Startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      app.exit(1);
    });
}

function startHost(engineEntry: string, parentWindow: () => BrowserWindow | null): Host | null {
  const native = resolveSqliteNativeBinding({
    appRoot: app.getAppPath(),
    isPackaged: app.isPackaged,
    electronVersion: process.versions.electron,
  });
  if (native.problem) log(native.problem);
  try {
    return createHost({
      dataDir: app.getPath("userData"),
      engineEntry,
      spawner: createUtilityProcessSpawner((modulePath, args, options) => utilityProcess.fork(modulePath, args, options), app),
      mode: "electron",
      appVersion: app.getVersion(),
      pickFolder: createFolderPicker(dialog, parentWindow),
      pickModelFile: createModelFilePicker(dialog, parentWindow),
      openFolder: createFolderOpener(shell, log),
      secrets: new SafeStorageSecretStore(app.getPath("userData"), safeStorage),
      remoteKeySecrets: (name) => new SafeStorageSecretStore(app.getPath("userData"), safeStorage, process.platform, name),
      sqliteNativeBinding: native.binding,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    log(`Could not start: ${error instanceof Error ? (error.stack ?? detail) : detail}`);
    dialog.showErrorBox("Tandem could not start", native.problem ? `${detail}\n\n${native.problem}` : detail);
    app.exit(1);
    return null;
  }
}

/**
 * Native UI (menus, dialogs, scrollbars) and the pre-paint background follow the theme setting. Returns a function
 * that re-reads the setting (the store may only be readable once the host has started).
 */
function followTheme(host: Host, windows: () => BrowserWindow[]): () => void {
  const apply = (theme: Settings["theme"]) => {
    nativeTheme.themeSource = theme;
  };
  host.onEvent((event, data) => {
    // The listener is generic over the event, so checking the name does not narrow `data` for the compiler.
    if (event === "settingsChanged") apply((data as Settings).theme);
  });
  nativeTheme.on("updated", () => {
    for (const window of windows()) if (!window.isDestroyed()) window.setBackgroundColor(backgroundColorFor(nativeTheme.shouldUseDarkColors));
  });
  const sync = () => {
    host.api
      .getSettings({})
      .then((settings) => apply(settings.theme))
      .catch(() => {
        // Settings not readable yet: the system theme stays until the next sync or settingsChanged.
      });
  };
  sync();
  return sync;
}

function installMenu(sendCommand: (command: MenuCommand) => void): void {
  const readme = path.join(app.getAppPath(), "README.md");
  const template = buildMenuTemplate({
    platform: process.platform,
    appName: app.name,
    isPackaged: app.isPackaged,
    isDev: !app.isPackaged,
    sendCommand,
    // Opened by the OS's default viewer: a local file chosen by main, not by the page.
    openHelp: fs.existsSync(readme) ? () => void shell.openPath(readme) : null,
    openLogs: () => void createFolderOpener(shell, log)(logsDir(app.getPath("userData"))),
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
