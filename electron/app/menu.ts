/**
 * The application menu as a plain template (Menu.buildFromTemplate turns it into the native menu in main), so
 * tests can check what exists in which build without Electron.
 */
import type { MenuItemConstructorOptions } from "electron";

export type MenuCommand = "new-chat" | "open-settings" | "about";

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  /** Packaged builds hide developer tools. */
  isPackaged: boolean;
  /** Development runs (not packaged) also get Reload, useful while iterating on the renderer. */
  isDev: boolean;
  /** Sends a command to the focused window's renderer (a `menuCommand` event). */
  sendCommand: (command: MenuCommand) => void;
  /** Opens the README outside the app (see main); null hides the item (no README shipped). */
  openHelp: (() => void) | null;
  /** Opens the logs folder in the OS file manager (main does it: nothing goes through the renderer). */
  openLogs?: () => void;
}

export function buildMenuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const mac = options.platform === "darwin";
  const settings: MenuItemConstructorOptions = {
    label: mac ? "Settings…" : "Settings",
    accelerator: "CmdOrCtrl+,",
    click: () => options.sendCommand("open-settings"),
  };
  // Tandem's own About dialog (versions of the app, Electron, node-llama-cpp, llama.cpp and the backend).
  const about: MenuItemConstructorOptions = { label: `About ${options.appName}`, click: () => options.sendCommand("about") };

  const appMenu: MenuItemConstructorOptions = {
    label: options.appName,
    submenu: [
      about,
      { type: "separator" },
      settings,
      { type: "separator" },
      { role: "services" },
      { type: "separator" },
      { role: "hide" },
      { role: "hideOthers" },
      { role: "unhide" },
      { type: "separator" },
      { role: "quit" },
    ],
  };

  const fileMenu: MenuItemConstructorOptions = {
    label: "File",
    submenu: [
      { label: "New Chat", accelerator: "CmdOrCtrl+N", click: () => options.sendCommand("new-chat") },
      // On macOS Settings lives in the app menu, elsewhere in File (with Quit, as Windows/Linux users expect).
      ...(mac ? [] : [{ type: "separator" } as const, settings]),
      { type: "separator" },
      mac ? { role: "close" } : { role: "quit" },
    ],
  };

  const editMenu: MenuItemConstructorOptions = {
    label: "Edit",
    submenu: [
      { role: "undo" },
      { role: "redo" },
      { type: "separator" },
      { role: "cut" },
      { role: "copy" },
      { role: "paste" },
      ...(mac ? [{ role: "pasteAndMatchStyle" } as const] : []),
      { role: "delete" },
      { role: "selectAll" },
    ],
  };

  const viewMenu: MenuItemConstructorOptions = {
    label: "View",
    submenu: [
      // Reloading drops the renderer's state (a streaming reply's view); useful in development only.
      ...(options.isDev ? [{ role: "reload" } as const, { role: "forceReload" } as const] : []),
      ...(!options.isPackaged ? [{ role: "toggleDevTools" } as const] : []),
      ...(options.isDev || !options.isPackaged ? [{ type: "separator" } as const] : []),
      { role: "resetZoom" },
      { role: "zoomIn" },
      { role: "zoomOut" },
      { type: "separator" },
      { role: "togglefullscreen" },
    ],
  };

  const windowMenu: MenuItemConstructorOptions = {
    role: "windowMenu",
    submenu: mac
      ? [{ role: "minimize" }, { role: "zoom" }, { type: "separator" }, { role: "front" }]
      : [{ role: "minimize" }, { role: "close" }],
  };

  const helpMenu: MenuItemConstructorOptions = {
    role: "help",
    submenu: [
      ...(options.openHelp ? [{ label: "Tandem README", click: options.openHelp }] : []),
      ...(options.openLogs ? [{ label: "Open Logs Folder", click: options.openLogs }] : []),
      ...(options.openHelp || options.openLogs ? [{ type: "separator" } as const] : []),
      about,
    ],
  };

  return [...(mac ? [appMenu] : []), fileMenu, editMenu, viewMenu, windowMenu, helpMenu];
}
