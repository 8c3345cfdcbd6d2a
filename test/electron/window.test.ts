import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { APP_INDEX_URL } from "../../electron/app/app-protocol.js";
import { resolveAppPaths, unpackedAsarPath } from "../../electron/app/paths.js";
import { BACKGROUND_COLOR, backgroundColorFor, createMainWindow } from "../../electron/app/window.js";
import { DEFAULT_WINDOW_STATE } from "../../electron/app/window-state.js";
import { FakeBrowserWindow } from "../fakes/electron.js";

const paths = resolveAppPaths({ mainDir: "/opt/tandem/dist/electron", appPath: "/opt/tandem", isPackaged: false });
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("resolveAppPaths", () => {
  it("finds the preload, renderer and engine bundles next to main", () => {
    expect(paths).toEqual({
      preload: path.join("/opt/tandem/dist/electron", "preload.cjs"),
      indexHtml: path.join("/opt/tandem/dist/renderer/index.html"),
      rendererRoot: path.join("/opt/tandem/dist/renderer"),
      engineEntry: path.join("/opt/tandem/dist/engine/main.js"),
      icon: path.join("/opt/tandem/assets/icons/512x512.png"),
    });
  });

  it("forks the engine from inside app.asar when packaged (its imports resolve in the archive; only binaries are unpacked)", () => {
    for (const resources of ["/Applications/Tandem.app/Contents/Resources", "C:\\Program Files\\Tandem\\resources", "/opt/Tandem/resources"]) {
      const appPath = path.join(resources, "app.asar");
      const packaged = resolveAppPaths({ mainDir: path.join(appPath, "dist", "electron"), appPath, isPackaged: true });
      expect(packaged.engineEntry).toBe(path.join(appPath, "dist", "engine", "main.js"));
      expect(packaged.engineEntry).not.toContain("app.asar.unpacked");
      expect(packaged.preload).toBe(path.join(appPath, "dist", "electron", "preload.cjs"));
      expect(packaged.indexHtml).toBe(path.join(appPath, "dist", "renderer", "index.html"));
      expect(packaged.rendererRoot).toBe(path.join(appPath, "dist", "renderer"));
      expect(packaged.icon).toBe(path.join(appPath, "assets", "icons", "512x512.png"));
    }
  });

  it("only rewrites the archive segment", () => {
    expect(unpackedAsarPath("/x/app.asar")).toBe("/x/app.asar.unpacked");
    expect(unpackedAsarPath("C:\\T\\resources\\app.asar\\dist")).toBe("C:\\T\\resources\\app.asar.unpacked\\dist");
    expect(unpackedAsarPath("/x/my-app.asar.d/app")).toBe("/x/my-app.asar.d/app");
  });
});

describe("createMainWindow", () => {
  beforeEach(() => FakeBrowserWindow.reset());

  function open(state = { ...DEFAULT_WINDOW_STATE }) {
    return createMainWindow({ BrowserWindow: FakeBrowserWindow, paths, state, backgroundColor: BACKGROUND_COLOR.dark });
  }

  it("creates the window with the secure web preferences and our preload", () => {
    const window = open();
    expect(window.options.webPreferences).toMatchObject({
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(path.isAbsolute(window.options.webPreferences?.preload ?? "")).toBe(true);
  });

  it("sets the window icon on Linux only (macOS and Windows take the bundle's icon)", () => {
    const state = { ...DEFAULT_WINDOW_STATE };
    const on = (platform: NodeJS.Platform) =>
      createMainWindow({ BrowserWindow: FakeBrowserWindow, paths, state, backgroundColor: "#fff", platform }).options.icon;
    expect(on("linux")).toBe(paths.icon);
    expect(on("darwin")).toBeUndefined();
    expect(on("win32")).toBeUndefined();
  });

  it("loads the renderer from the app's scheme, never from file://", () => {
    const window = open();
    expect(window.loadedUrls).toEqual(["tandem://app/index.html"]);
    expect(APP_INDEX_URL).toBe("tandem://app/index.html");
    expect(window.loadedFiles).toEqual([]);
    expect(window.webContents.mainFrame.url).toBe(APP_INDEX_URL);
  });

  it("stays hidden until ready-to-show, painted in the theme's background", () => {
    const window = open();
    expect(window.options.show).toBe(false);
    expect(window.options.backgroundColor).toBe(BACKGROUND_COLOR.dark);
    expect(window.visible).toBe(false);
    window.emit("ready-to-show");
    expect(window.visible).toBe(true);
    expect(window.maximized).toBe(false);
  });

  it("restores position, size and maximized state", () => {
    const window = open({ x: 10, y: 20, width: 900, height: 700, maximized: true });
    expect(window.options).toMatchObject({ x: 10, y: 20, width: 900, height: 700 });
    expect(window.options.center).toBeUndefined();
    window.emit("ready-to-show");
    expect(window.maximized).toBe(true);
  });

  it("centres a window without a saved position", () => {
    expect(open().options).toMatchObject({ center: true, width: DEFAULT_WINDOW_STATE.width, height: DEFAULT_WINDOW_STATE.height });
  });

  it("shows the window even when the page fails to load", async () => {
    const logs: string[] = [];
    const Failing = class extends FakeBrowserWindow {
      override loadError = new Error("ERR_FILE_NOT_FOUND");
    };
    const window = createMainWindow({ BrowserWindow: Failing, paths, state: { ...DEFAULT_WINDOW_STATE }, backgroundColor: "#fff", log: (m) => logs.push(m) });
    await flush();
    expect(window.visible).toBe(true);
    expect(logs).toEqual([expect.stringContaining("ERR_FILE_NOT_FOUND")]);
  });

  it("picks the background by theme", () => {
    expect(backgroundColorFor(true)).toBe(BACKGROUND_COLOR.dark);
    expect(backgroundColorFor(false)).toBe(BACKGROUND_COLOR.light);
  });
});
