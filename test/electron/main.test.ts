/**
 * Loads the real electron/main.ts against the Electron fakes and a fake host, checking the wiring that the
 * per-module tests cannot see (Electron itself cannot run on this machine).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Host, HostEventListener, HostOptions } from "../../electron/host/types.js";
import { ipcChannel, windowMethodNames, type TandemApi } from "../../contracts/window/index.js";
import { createFakeElectronMain, FakeBrowserWindow, FakeMenu, FakeWebContents, type FakeElectronMain } from "../fakes/electron.js";

const mocks = vi.hoisted(() => ({
  electron: null as unknown,
  createHost: null as unknown,
}));
// The factories hand out whatever the current test installed (getters: looked up when main reads them).
vi.mock("electron", () => {
  const names = ["app", "BrowserWindow", "dialog", "ipcMain", "Menu", "nativeTheme", "protocol", "safeStorage", "screen", "session", "shell", "utilityProcess"];
  const getters = names.map((name) => [name, { enumerable: true, get: () => (mocks.electron as Record<string, unknown>)[name] }]);
  return Object.defineProperties({}, Object.fromEntries(getters));
});
vi.mock("../../electron/host/host.js", () => ({ createHost: (options: HostOptions) => (mocks.createHost as (o: HostOptions) => Host)(options) }));

interface FakeHost extends Host {
  options: HostOptions;
  started: number;
  disposed: number;
  emit: HostEventListener;
  calls: { method: string; params: unknown }[];
}

function fakeHost(options: HostOptions): FakeHost {
  const listeners = new Set<HostEventListener>();
  const calls: { method: string; params: unknown }[] = [];
  const api: Record<string, (params: unknown) => Promise<unknown>> = {};
  for (const method of windowMethodNames) {
    api[method] = async (params) => {
      calls.push({ method, params });
      return method === "getSettings" ? { theme: "dark" } : { method };
    };
  }
  const host: FakeHost = {
    options,
    started: 0,
    disposed: 0,
    calls,
    api: api as unknown as TandemApi,
    emit: (event, data) => {
      for (const listener of listeners) listener(event, data);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      host.started++;
    },
    async dispose() {
      host.disposed++;
    },
  };
  return host;
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

let electron: FakeElectronMain;
let hosts: FakeHost[];
let userData: string;

async function boot(ready = true): Promise<void> {
  await import("../../electron/main.js");
  if (ready) {
    electron.app.becomeReady();
    await flush();
  }
}

beforeEach(() => {
  vi.resetModules();
  userData = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-main-"));
  electron = createFakeElectronMain({ appPath: "/opt/tandem", userData });
  mocks.electron = electron;
  hosts = [];
  mocks.createHost = (options: HostOptions) => {
    const host = fakeHost(options);
    hosts.push(host);
    return host;
  };
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.stubEnv("TANDEM_USER_DATA_DIR", "");
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  fs.rmSync(userData, { recursive: true, force: true });
});

describe("electron/main.ts", () => {
  it("creates the host for Electron with a utility-process spawner, then the window, then starts the engine", async () => {
    await boot();
    expect(hosts).toHaveLength(1);
    const { options } = hosts[0];
    expect(options).toMatchObject({ dataDir: userData, mode: "electron", appVersion: "0.1.0", engineEntry: path.join("/opt/tandem/dist/engine/main.js") });
    expect(typeof options.pickFolder).toBe("function");
    expect(hosts[0].started).toBe(1);

    options.spawner.spawn({ entry: options.engineEntry, env: { A: "1" } });
    expect(electron.forks.calls[0]).toMatchObject({ modulePath: options.engineEntry, options: { serviceName: "Tandem Engine", env: { A: "1" } } });

    const windows = FakeBrowserWindow.getAllWindows();
    expect(windows).toHaveLength(1);
    expect(windows[0].options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(windows[0].options.webPreferences?.preload).toMatch(/preload\.cjs$/);
    expect(windows[0].loadedUrls).toEqual(["tandem://app/index.html"]);
    expect(windows[0].loadedFiles).toEqual([]);
  });

  it("registers tandem: as a privileged scheme before ready, and serves dist/renderer on it in the default session", async () => {
    await boot(false);
    // At import time, before ready: standard and secure only.
    expect(electron.protocol.privilegedSchemes).toEqual([{ scheme: "tandem", privileges: { standard: true, secure: true, corsEnabled: true } }]);
    expect(electron.session.defaultSession.protocol.isProtocolHandled("tandem")).toBe(false);
    electron.app.becomeReady();
    await flush();
    const served = electron.session.defaultSession.protocol;
    expect(served.isProtocolHandled("tandem")).toBe(true);
    // main runs from electron/ here, so its renderer root is the renderer/ source folder beside it.
    const page = await served.request("tandem://app/index.html");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toBe(fs.readFileSync(new URL("../../renderer/index.html", import.meta.url), "utf8"));
    expect((await served.request("tandem://app/..%2Fpackage.json")).status).toBe(403);
    expect((await served.request("tandem://app/src/")).status).toBe(404);
    // The window is created after the handler exists, so its first load is served.
    expect(FakeBrowserWindow.getAllWindows()[0].loadedUrls).toEqual(["tandem://app/index.html"]);
  });

  it("hardens the default session and every web contents", async () => {
    await boot();
    expect(electron.session.defaultSession.receive("tandem://app/index.html").responseHeaders).toHaveProperty("Content-Security-Policy");
    expect(electron.session.defaultSession.receive("file:///x/index.html").responseHeaders).toHaveProperty("Content-Security-Policy");
    await expect(electron.session.defaultSession.requestPermission("media")).resolves.toBe(false);
    const contents = new FakeWebContents();
    electron.app.emit("web-contents-created", {}, contents);
    expect(contents.navigate("https://example.com/")).toBe(true);
  });

  it("serves the API to its window only, and pushes host events to it", async () => {
    await boot();
    const [window] = FakeBrowserWindow.getAllWindows();
    const channel = ipcChannel.invoke("listConversations");
    await expect(electron.ipcMain.invoke(channel, { contents: window.webContents }, {})).resolves.toEqual({ ok: true, result: { method: "listConversations" } });
    await expect(electron.ipcMain.invoke(channel, { contents: new FakeWebContents(window.webContents.mainFrame.url) }, {})).resolves.toMatchObject({
      ok: false,
      error: { code: "FORBIDDEN" },
    });

    hosts[0].emit("conversationDeleted", { id: "c1" });
    expect(window.webContents.sent).toContainEqual({ channel: ipcChannel.event, payload: { event: "conversationDeleted", data: { id: "c1" } } });
  });

  it("follows the theme setting", async () => {
    await boot();
    expect(electron.nativeTheme.themeSource).toBe("dark");
    hosts[0].emit("settingsChanged", { theme: "light" } as never);
    expect(electron.nativeTheme.themeSource).toBe("light");
  });

  it("sends menu commands to the focused window", async () => {
    await boot();
    const [window] = FakeBrowserWindow.getAllWindows();
    FakeBrowserWindow.focused = window;
    FakeMenu.application?.find("New Chat")?.click?.();
    expect(window.webContents.sent).toContainEqual({ channel: ipcChannel.event, payload: { event: "menuCommand", data: { command: "new-chat" } } });
  });

  it("Help > Open Logs Folder opens <userData>/logs; About Tandem asks the renderer; the host can open folders", async () => {
    await boot();
    const [window] = FakeBrowserWindow.getAllWindows();
    FakeBrowserWindow.focused = window;
    FakeMenu.application?.find("Open Logs Folder")?.click?.();
    await vi.waitFor(() => expect(electron.shell.openedPaths).toEqual([path.join(userData, "logs")]));
    expect(fs.statSync(path.join(userData, "logs")).isDirectory()).toBe(true);
    FakeMenu.application?.find("About Tandem")?.click?.();
    expect(window.webContents.sent).toContainEqual({ channel: ipcChannel.event, payload: { event: "menuCommand", data: { command: "about" } } });
    expect(await hosts[0].options.openFolder?.(path.join(userData, "cache"))).toBe(true);
    expect(electron.shell.openedPaths.at(-1)).toBe(path.join(userData, "cache"));
  });

  it("disposes the host before quitting", async () => {
    await boot();
    expect(electron.app.requestQuit()).toBe(true);
    await vi.waitFor(() => expect(electron.app.quitCount).toBe(1));
    expect(hosts[0].disposed).toBe(1);
    expect(electron.app.requestQuit()).toBe(false);
  });

  it("saves the window state on close and restores it next time", async () => {
    await boot();
    const [window] = FakeBrowserWindow.getAllWindows();
    window.bounds = { x: 50, y: 60, width: 1000, height: 700 };
    window.close();
    expect(JSON.parse(fs.readFileSync(path.join(userData, "window-state.json"), "utf8"))).toMatchObject({ x: 50, y: 60, width: 1000 });
    // Closing the last window quits on Linux/Windows…
    electron.app.emit("window-all-closed");
    expect(electron.app.quitCount).toBe(1);
    // …and on macOS activate re-creates it where it was.
    electron.app.emit("activate");
    expect(FakeBrowserWindow.getAllWindows()[0].options).toMatchObject({ x: 50, y: 60, width: 1000, height: 700 });
  });

  it("hands over to the running instance when the lock is taken", async () => {
    electron.app.hasLock = false;
    await boot(false);
    expect(electron.app.quitCount).toBe(1);
    electron.app.becomeReady();
    await flush();
    expect(hosts).toHaveLength(0);
    expect(FakeBrowserWindow.getAllWindows()).toHaveLength(0);
  });

  it("focuses the existing window when a second instance starts", async () => {
    await boot();
    const [window] = FakeBrowserWindow.getAllWindows();
    window.minimized = true;
    electron.app.emit("second-instance");
    expect(window.minimized).toBe(false);
    expect(window.focusCount).toBe(1);
  });

  it("uses TANDEM_USER_DATA_DIR as the profile when set", async () => {
    const other = path.join(userData, "profile");
    vi.stubEnv("TANDEM_USER_DATA_DIR", other);
    await boot();
    expect(hosts[0].options.dataDir).toBe(other);
  });

  it("shows an error and exits when the host cannot be created", async () => {
    mocks.createHost = () => {
      throw new Error("database is locked");
    };
    await boot();
    expect(electron.dialog.errorBoxes).toEqual([{ title: "Tandem could not start", content: expect.stringContaining("database is locked") }]);
    expect(electron.app.exitCode).toBe(1);
    expect(FakeBrowserWindow.getAllWindows()).toHaveLength(0);
  });
});
