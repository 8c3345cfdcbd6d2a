import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MenuItemConstructorOptions } from "electron";
import { createFolderOpener } from "../../electron/app/folders.js";
import { createFolderPicker, createModelFilePicker, installQuitHandler } from "../../electron/app/lifecycle.js";
import { buildMenuTemplate, type MenuOptions } from "../../electron/app/menu.js";
import { NATIVE_CACHE_DIR, resolveSqliteNativeBinding, SQLITE_BINARY, SQLITE_STAMP } from "../../electron/app/native.js";
import { createUtilityProcessSpawner, ENGINE_SERVICE_NAME, GONE_WAIT_MS } from "../../electron/app/utility-spawner.js";
import { FakeApp, FakeBrowserWindow, FakeDialog, fakeFork, FakeShell } from "../fakes/electron.js";

describe("utility process spawner", () => {
  it("forks the entry as the Tandem Engine service with the given env, inherited stdout and piped stderr", () => {
    const { fork, calls } = fakeFork();
    const env = { PATH: "/usr/bin", TANDEM_X: "1" };
    const child = createUtilityProcessSpawner(fork).spawn({ entry: "/app/dist/engine/main.js", env });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ modulePath: "/app/dist/engine/main.js", args: [], options: { env, serviceName: ENGINE_SERVICE_NAME, stdio: ["ignore", "inherit", "pipe"] } });
    expect(child.pid).toBe(calls[0].child.pid);
  });

  it("hands the engine's stderr over line by line (and still echoes it)", async () => {
    const { fork, calls } = fakeFork();
    const child = createUtilityProcessSpawner(fork).spawn({ entry: "/e.js", env: {} });
    const lines: string[] = [];
    child.onStderrLine?.((line) => lines.push(line));
    const echoed = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      calls[0].child.stderr.write("ggml_init: fine\nGGML_ASSERT fa");
      calls[0].child.stderr.end("iled\n");
      await vi.waitFor(() => expect(lines).toEqual(["ggml_init: fine", "GGML_ASSERT failed"]));
      expect(echoed).toHaveBeenCalled();
    } finally {
      echoed.mockRestore();
    }
  });

  it("passes messages both ways", () => {
    const { fork, calls } = fakeFork();
    const child = createUtilityProcessSpawner(fork).spawn({ entry: "e", env: {} });
    const received: unknown[] = [];
    child.onMessage((m) => received.push(m));
    child.postMessage({ type: "hello" });
    calls[0].child.emit("message", { type: "ready" });
    expect(calls[0].child.posted).toEqual([{ type: "hello" }]);
    expect(received).toEqual([{ type: "ready" }]);
  });

  describe("typed crash reasons from Electron's child-process-gone", () => {
    const gone = (reason: string, exitCode: number, serviceName = ENGINE_SERVICE_NAME) => ({ type: "Utility", reason, exitCode, serviceName, name: serviceName });

    it("joins a child-process-gone that comes before the exit (out of memory)", () => {
      const app = new FakeApp();
      const { fork, calls } = fakeFork();
      const child = createUtilityProcessSpawner(fork, app).spawn({ entry: "e", env: {} });
      const onExit = vi.fn();
      child.onExit(onExit);
      app.emit("child-process-gone", {}, gone("oom", -536870904));
      calls[0].child.emit("exit", -536870904);
      expect(onExit).toHaveBeenCalledWith({ code: -536870904, signal: null, gone: { reason: "oom", exitCode: -536870904 } });
    });

    it("waits a moment for one that comes after the exit (killed, crashed); memory-eviction is oom", async () => {
      vi.useFakeTimers();
      try {
        const app = new FakeApp();
        const { fork, calls } = fakeFork();
        const spawner = createUtilityProcessSpawner(fork, app);
        for (const [reason, expected] of [["killed", "killed"], ["crashed", "crashed"], ["memory-eviction", "oom"], ["integrity-failure", "integrity-failure"]]) {
          const child = spawner.spawn({ entry: "e", env: {} });
          const onExit = vi.fn();
          child.onExit(onExit);
          calls.at(-1)!.child.emit("exit", 9);
          expect(onExit).not.toHaveBeenCalled();
          app.emit("child-process-gone", {}, gone(reason, 9));
          expect(onExit).toHaveBeenCalledWith({ code: 9, signal: null, gone: { reason: expected, exitCode: 9 } });
        }
      } finally {
        vi.useRealTimers();
      }
    });

    it("reports the bare exit when no reason comes, and ignores other processes' reasons", async () => {
      vi.useFakeTimers();
      try {
        const app = new FakeApp();
        const { fork, calls } = fakeFork();
        const child = createUtilityProcessSpawner(fork, app).spawn({ entry: "e", env: {} });
        const onExit = vi.fn();
        child.onExit(onExit);
        app.emit("child-process-gone", {}, gone("crashed", 1, "Network Service"));
        app.emit("child-process-gone", {}, { type: "GPU", reason: "crashed", exitCode: 1 });
        calls[0].child.emit("exit", 1);
        await vi.advanceTimersByTimeAsync(GONE_WAIT_MS);
        expect(onExit).toHaveBeenCalledWith({ code: 1, signal: null, gone: null });
      } finally {
        vi.useRealTimers();
      }
    });
  });

  it("reports the exit once, with the code and no signal, also to late listeners", async () => {
    const { fork, calls } = fakeFork();
    const child = createUtilityProcessSpawner(fork).spawn({ entry: "e", env: {} });
    const early = vi.fn();
    child.onExit(early);
    calls[0].child.emit("exit", 9);
    calls[0].child.emit("exit", 9);
    expect(early).toHaveBeenCalledOnce();
    expect(early).toHaveBeenCalledWith({ code: 9, signal: null });
    const late = vi.fn();
    child.onExit(late);
    await Promise.resolve();
    expect(late).toHaveBeenCalledWith({ code: 9, signal: null });
  });

  it("kills a live process, and does nothing (no throw) once it is gone", () => {
    const { fork, calls } = fakeFork();
    const child = createUtilityProcessSpawner(fork).spawn({ entry: "e", env: {} });
    child.kill();
    expect(calls[0].child.killed).toBe(true);
    calls[0].child.killed = false;
    calls[0].child.emit("exit", 0);
    child.kill();
    child.postMessage("late");
    expect(calls[0].child.killed).toBe(false);
    expect(calls[0].child.posted).toEqual([]);
  });

  it("swallows a postMessage that races the process dying", () => {
    const { fork, calls } = fakeFork();
    const child = createUtilityProcessSpawner(fork).spawn({ entry: "e", env: {} });
    calls[0].child.postMessage = () => {
      throw new Error("process gone");
    };
    expect(() => child.postMessage("x")).not.toThrow();
  });
});

describe("application menu", () => {
  const base: MenuOptions = {
    platform: "linux",
    appName: "Tandem",
    isPackaged: true,
    isDev: false,
    sendCommand: () => {},
    openHelp: null,
  };

  const flatten = (items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
    items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? flatten(item.submenu) : [])]);
  const roles = (items: MenuItemConstructorOptions[]) => flatten(items).map((i) => i.role).filter(Boolean);
  const find = (items: MenuItemConstructorOptions[], label: string) => flatten(items).find((i) => i.label === label);

  it("has an app menu only on macOS", () => {
    expect(buildMenuTemplate({ ...base, platform: "darwin" })[0].label).toBe("Tandem");
    expect(buildMenuTemplate(base)[0].label).toBe("File");
  });

  it("File > New Chat (CmdOrCtrl+N) and Settings (CmdOrCtrl+,) send menu commands to the renderer", () => {
    for (const platform of ["darwin", "win32", "linux"] as const) {
      const sendCommand = vi.fn();
      const template = buildMenuTemplate({ ...base, platform, sendCommand });
      const newChat = find(template, "New Chat");
      expect(newChat?.accelerator).toBe("CmdOrCtrl+N");
      newChat?.click?.({} as never, undefined, {} as never);
      const settings = flatten(template).find((i) => i.accelerator === "CmdOrCtrl+,");
      settings?.click?.({} as never, undefined, {} as never);
      expect(sendCommand.mock.calls).toEqual([["new-chat"], ["open-settings"]]);
    }
  });

  it("has the usual edit roles", () => {
    expect(roles(buildMenuTemplate(base))).toEqual(expect.arrayContaining(["undo", "redo", "cut", "copy", "paste", "selectAll"]));
  });

  it("offers developer tools and reload only in development", () => {
    const packaged = roles(buildMenuTemplate(base));
    expect(packaged).not.toContain("toggleDevTools");
    expect(packaged).not.toContain("reload");
    expect(packaged).toEqual(expect.arrayContaining(["zoomIn", "zoomOut", "resetZoom", "quit"]));
    const dev = roles(buildMenuTemplate({ ...base, isPackaged: false, isDev: true }));
    expect(dev).toEqual(expect.arrayContaining(["toggleDevTools", "reload"]));
  });

  it("links to the README when there is one", () => {
    const openHelp = vi.fn();
    const item = find(buildMenuTemplate({ ...base, openHelp }), "Tandem README");
    item?.click?.({} as never, undefined, {} as never);
    expect(openHelp).toHaveBeenCalledOnce();
    expect(find(buildMenuTemplate(base), "Tandem README")).toBeUndefined();
  });

  it("Help has Open Logs Folder (opened by main) and About Tandem (the renderer's dialog); macOS's app menu too", () => {
    for (const platform of ["darwin", "win32", "linux"] as const) {
      const sendCommand = vi.fn();
      const openLogs = vi.fn();
      const template = buildMenuTemplate({ ...base, platform, sendCommand, openLogs });
      const help = template.find((m) => m.role === "help")!;
      const labels = (help.submenu as MenuItemConstructorOptions[]).map((i) => i.label ?? i.type);
      expect(labels).toEqual(["Open Logs Folder", "separator", "About Tandem"]);
      find([help], "Open Logs Folder")?.click?.({} as never, undefined, {} as never);
      expect(openLogs).toHaveBeenCalledOnce();
      find([help], "About Tandem")?.click?.({} as never, undefined, {} as never);
      expect(sendCommand.mock.calls).toEqual([["about"]]);
      // No Electron "about" role anywhere: it would show Electron's panel, not Tandem's versions.
      expect(roles(template)).not.toContain("about");
      const abouts = flatten(template).filter((i) => i.label === "About Tandem");
      expect(abouts).toHaveLength(platform === "darwin" ? 2 : 1);
    }
    // Without README and logs the Help menu is just About.
    const bare = buildMenuTemplate(base).find((m) => m.role === "help")!;
    expect((bare.submenu as MenuItemConstructorOptions[]).map((i) => i.label ?? i.type)).toEqual(["About Tandem"]);
  });
});

describe("folder opener", () => {
  it("creates the folder, opens it with shell.openPath and reports success", async () => {
    const shell = new FakeShell();
    const logged: string[] = [];
    const folder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tandem-open-")), "logs");
    expect(await createFolderOpener(shell, (m) => logged.push(m))(folder)).toBe(true);
    expect(shell.openedPaths).toEqual([folder]);
    expect(fs.statSync(folder).isDirectory()).toBe(true);
    expect(logged).toEqual([]);
  });

  it("reports openPath's error message as a failure", async () => {
    const logged: string[] = [];
    const failing = { openPath: async () => "No application is registered" };
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-open-"));
    expect(await createFolderOpener(failing, (m) => logged.push(m))(folder)).toBe(false);
    expect(logged[0]).toContain("No application is registered");
  });
});

describe("resolveSqliteNativeBinding", () => {
  let root: string;
  const stamp = { electron: "39.8.10", betterSqlite3: "12.0.0", platform: "linux", arch: "x64" };
  const options = () => ({ appRoot: root, isPackaged: false, electronVersion: "39.8.10", platform: "linux", arch: "x64" });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-native-"));
    fs.mkdirSync(path.join(root, "node_modules", "better-sqlite3"), { recursive: true });
    fs.writeFileSync(path.join(root, "node_modules", "better-sqlite3", "package.json"), JSON.stringify({ version: "12.0.0" }));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function cache(withStamp: object | null) {
    const dir = path.join(root, NATIVE_CACHE_DIR);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, SQLITE_BINARY), "binary");
    if (withStamp) fs.writeFileSync(path.join(dir, SQLITE_STAMP), JSON.stringify(withStamp));
  }

  it("needs nothing in a packaged app", () => {
    expect(resolveSqliteNativeBinding({ ...options(), isPackaged: true })).toEqual({ binding: undefined, problem: null });
  });

  it("reports a missing build with the fix", () => {
    const result = resolveSqliteNativeBinding(options());
    expect(result.binding).toBeUndefined();
    expect(result.problem).toMatch(/prepare-native/);
  });

  it("uses a build stamped for this Electron, better-sqlite3, platform and arch", () => {
    cache(stamp);
    expect(resolveSqliteNativeBinding(options())).toEqual({ binding: path.join(root, NATIVE_CACHE_DIR, SQLITE_BINARY), problem: null });
  });

  it("rejects a stale or unstamped build", () => {
    for (const bad of [null, { ...stamp, electron: "38.0.0" }, { ...stamp, betterSqlite3: "11.0.0" }, { ...stamp, arch: "arm64" }, { electron: 1 }]) {
      fs.rmSync(path.join(root, NATIVE_CACHE_DIR), { recursive: true, force: true });
      cache(bad);
      const result = resolveSqliteNativeBinding(options());
      expect(result.binding, JSON.stringify(bad)).toBeUndefined();
      expect(result.problem).toMatch(/stale/);
    }
  });
});

describe("quit handler", () => {
  it("holds the first quit until the host is disposed, then quits for real", async () => {
    const app = new FakeApp();
    let finish!: () => void;
    const dispose = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    installQuitHandler(app, { dispose });
    expect(app.requestQuit()).toBe(true);
    expect(dispose).toHaveBeenCalledOnce();
    expect(app.quitCount).toBe(0);
    // A second Cmd+Q while shutting down is held too, and does not dispose twice.
    expect(app.requestQuit()).toBe(true);
    expect(dispose).toHaveBeenCalledOnce();
    finish();
    await vi.waitFor(() => expect(app.quitCount).toBe(1));
    // The quit that follows goes through.
    expect(app.requestQuit()).toBe(false);
  });

  it("still quits when dispose fails, and logs why", async () => {
    const app = new FakeApp();
    const logs: string[] = [];
    installQuitHandler(app, { dispose: () => Promise.reject(new Error("db locked")), log: (m) => logs.push(m) });
    app.requestQuit();
    await vi.waitFor(() => expect(app.quitCount).toBe(1));
    expect(logs).toEqual([expect.stringContaining("db locked")]);
  });

  it("does not wait forever for dispose", async () => {
    const app = new FakeApp();
    const logs: string[] = [];
    installQuitHandler(app, { dispose: () => new Promise<void>(() => {}), timeoutMs: 20, log: (m) => logs.push(m) });
    app.requestQuit();
    await vi.waitFor(() => expect(app.quitCount).toBe(1));
    expect(logs).toEqual([expect.stringContaining("longer than 20 ms")]);
  });
});

describe("folder picker", () => {
  it("asks for a directory, modal to the window, and returns it", async () => {
    const dialog = new FakeDialog();
    dialog.result = { canceled: false, filePaths: ["/models"] };
    const window = new FakeBrowserWindow({});
    await expect(createFolderPicker(dialog, () => window)()).resolves.toBe("/models");
    expect(dialog.calls).toEqual([{ window, options: expect.objectContaining({ properties: ["openDirectory", "createDirectory"] }) }]);
  });

  it("returns null when cancelled, and works without a window", async () => {
    const dialog = new FakeDialog();
    await expect(createFolderPicker(dialog, () => null)()).resolves.toBeNull();
    expect(dialog.calls[0].window).toBeNull();
  });

  it("the model file picker asks for one .gguf file", async () => {
    const dialog = new FakeDialog();
    dialog.result = { canceled: false, filePaths: ["/downloads/m.gguf"] };
    await expect(createModelFilePicker(dialog, () => null)()).resolves.toBe("/downloads/m.gguf");
    expect(dialog.calls[0].options).toMatchObject({ properties: ["openFile"], filters: [{ extensions: ["gguf"] }] });
  });
});
