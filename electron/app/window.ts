/**
 * Creates the app's one window. Takes the BrowserWindow constructor as a parameter so tests can capture the
 * options it is built with (the security-relevant part of the shell).
 */
import type { BrowserWindowConstructorOptions } from "electron";
import { APP_INDEX_URL } from "./app-protocol.js";
import type { AppPaths } from "./paths.js";
import { MIN_WINDOW_SIZE, type WindowState } from "./window-state.js";

/** Painted before the renderer's first frame so opening the window never flashes; matches --bg in renderer/src/styles.css. */
export const BACKGROUND_COLOR = { light: "#ffffff", dark: "#17181b" } as const;

export function backgroundColorFor(dark: boolean): string {
  return dark ? BACKGROUND_COLOR.dark : BACKGROUND_COLOR.light;
}

/** The web preferences of every app window; each line is a security decision, not a default restated. */
export function secureWebPreferences(preload: string): NonNullable<BrowserWindowConstructorOptions["webPreferences"]> {
  return {
    preload,
    // The preload and the page live in separate JS worlds; the page only sees what contextBridge exposes.
    contextIsolation: true,
    // The renderer process runs in Chromium's OS sandbox; the preload gets only a few safe modules.
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: true,
  };
}

export interface WindowLike {
  once(event: "ready-to-show", listener: () => void): unknown;
  show(): void;
  maximize(): void;
  loadURL(url: string): Promise<void>;
}

export type WindowConstructor<W extends WindowLike> = new (options: BrowserWindowConstructorOptions) => W;

export interface CreateMainWindowOptions<W extends WindowLike> {
  BrowserWindow: WindowConstructor<W>;
  paths: Pick<AppPaths, "preload"> & Partial<Pick<AppPaths, "icon">>;
  /** `process.platform`; only Linux takes the window icon from here (the others use the app bundle's). */
  platform?: NodeJS.Platform;
  /** Already fitted to the current displays (see `fitToDisplays`). */
  state: WindowState;
  backgroundColor: string;
  title?: string;
  log?: (message: string) => void;
}

export function mainWindowOptions(options: Omit<CreateMainWindowOptions<WindowLike>, "BrowserWindow" | "log">): BrowserWindowConstructorOptions {
  const { state } = options;
  return {
    title: options.title ?? "Tandem",
    width: state.width,
    height: state.height,
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : { center: true }),
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    // Shown on ready-to-show: no blank white window while the renderer boots.
    show: false,
    backgroundColor: options.backgroundColor,
    ...((options.platform ?? process.platform) === "linux" && options.paths.icon ? { icon: options.paths.icon } : {}),
    webPreferences: secureWebPreferences(options.paths.preload),
  };
}

/**
 * Builds the window, loads the renderer from its custom scheme (tandem://app/index.html, served by
 * app-protocol.ts from dist/renderer; never file://) and shows the window once it has painted.
 */
export function createMainWindow<W extends WindowLike>(options: CreateMainWindowOptions<W>): W {
  const window = new options.BrowserWindow(mainWindowOptions(options));
  window.once("ready-to-show", () => {
    if (options.state.maximized) window.maximize();
    window.show();
  });
  window.loadURL(APP_INDEX_URL).catch((error: unknown) => {
    options.log?.(`Could not load ${APP_INDEX_URL}: ${String(error)}`);
    // ready-to-show may never come now; an invisible running app would be worse than a blank window.
    window.show();
  });
  return window;
}
