/**
 * Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security), item by item, in its
 * order: each item is asserted here, or here and in the test file named beside it. Then the fuses' consequence for
 * the engine, and web mode's own checklist.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  APP_INDEX_URL,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  isAppPageUrl,
  registerAppScheme,
  resolveAppRequest,
} from "../../electron/app/app-protocol.js";
import { registerIpcHandlers } from "../../electron/app/ipc.js";
import { resolveAppPaths } from "../../electron/app/paths.js";
import { CONTENT_SECURITY_POLICY, hardenContents, hardenSession } from "../../electron/app/security.js";
import { createUtilityProcessSpawner } from "../../electron/app/utility-spawner.js";
import { createMainWindow, secureWebPreferences } from "../../electron/app/window.js";
import { DEFAULT_WINDOW_STATE } from "../../electron/app/window-state.js";
import { sanitizeEngineEnv } from "../../electron/host/supervision/engine-env.js";
import { ipcChannel, windowMethodNames } from "../../contracts/window/index.js";
import { FakeBrowserWindow, FakeFrame, FakeIpcMain, FakeProtocol, FakeSession, FakeShell, FakeUtilityProcess, FakeWebContents } from "../fakes/electron.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const source = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
/** Code without comments, so a scan for an API finds calls rather than prose. */
const code = (file: string) => source(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
const shellSources = ["electron/main.ts", "electron/preload.ts", ...fs.readdirSync(path.join(root, "electron/app")).map((f) => `electron/app/${f}`)].filter((f) => f.endsWith(".ts"));

const paths = resolveAppPaths({ mainDir: "/opt/tandem/dist/electron", appPath: "/opt/tandem" });
const isAppUrl = isAppPageUrl;
const prefs = secureWebPreferences(paths.preload);
const window = createMainWindow({ BrowserWindow: FakeBrowserWindow, paths, state: { ...DEFAULT_WINDOW_STATE }, backgroundColor: "#fff" });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function hardened() {
  const contents = new FakeWebContents(APP_INDEX_URL);
  const shell = new FakeShell();
  hardenContents(contents, { isAppUrl, openExternal: (url) => shell.openExternal(url) });
  return { contents, shell };
}

function cspDirectives(policy: string): Map<string, string> {
  return new Map(
    policy.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values.join(" ")] as const;
    }),
  );
}

describe("Electron security checklist", () => {
  it("1. only secure content: the window loads the bundle's page from the app's scheme, nothing remote is ever loaded or allowed", () => {
    expect(window.loadedUrls).toEqual(["tandem://app/index.html"]);
    expect(window.loadedFiles).toEqual([]);
    // One load in the whole shell, of that constant URL.
    const loads = shellSources.filter((file) => /\.(loadURL|loadFile)\s*\(/.test(code(file)));
    expect(loads).toEqual(["electron/app/window.ts"]);
    expect(code("electron/app/window.ts").match(/\.(loadURL|loadFile)\s*\([^)]*\)/g)).toEqual([".loadURL(APP_INDEX_URL)"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*|wss?:/);
  });

  it("2. no Node.js integration for web content (window.test.ts too)", () => {
    expect(prefs).toMatchObject({ nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false });
    expect(window.options.webPreferences).toEqual(prefs);
  });

  it("3. context isolation, the page reaching main only through contextBridge (preload.test.ts too)", () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(code("electron/preload.ts")).toMatch(/contextBridge\.exposeInMainWorld\("tandem",/);
  });

  it("4. process sandboxing, never switched off from the command line", () => {
    expect(prefs.sandbox).toBe(true);
    for (const file of shellSources) expect(code(file), file).not.toMatch(/no-sandbox|appendSwitch\(\s*["']disable-/);
  });

  it("5. permission requests and checks are denied (security.test.ts too)", async () => {
    const session = new FakeSession();
    hardenSession(session);
    for (const permission of ["media", "geolocation", "notifications", "clipboard-read", "fullscreen", "openExternal"]) {
      await expect(session.requestPermission(permission)).resolves.toBe(false);
      expect(session.checkPermission(permission)).toBe(false);
    }
  });

  it("6. webSecurity stays on", () => {
    expect(prefs.webSecurity).toBe(true);
  });

  it("7. a strict CSP, as a response header and in the page itself (security.test.ts too)", () => {
    const session = new FakeSession();
    hardenSession(session);
    expect(session.receive(APP_INDEX_URL).responseHeaders?.["Content-Security-Policy"]).toEqual([CONTENT_SECURITY_POLICY]);
    const directives = cspDirectives(CONTENT_SECURITY_POLICY);
    expect(directives.get("default-src")).toBe("'self'");
    expect(directives.get("script-src")).toBe("'self'");
    expect(directives.get("object-src")).toBe("'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
    // The renderer's own meta tag (used by web mode too) is just as strict.
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(source("renderer/index.html"));
    expect(meta).not.toBeNull();
    const page = cspDirectives(meta?.[1] ?? "");
    expect(page.get("script-src")).toBe("'self'");
    expect(meta?.[1]).not.toMatch(/unsafe-|https?:|\*/);
  });

  it("8. allowRunningInsecureContent stays off", () => {
    expect(prefs.allowRunningInsecureContent).toBe(false);
  });

  it("9. no experimental features", () => {
    expect(prefs.experimentalFeatures).toBe(false);
  });

  it("10. no enableBlinkFeatures", () => {
    expect(prefs).not.toHaveProperty("enableBlinkFeatures");
    for (const file of shellSources) expect(code(file), file).not.toMatch(/enableBlinkFeatures/);
  });

  it("11. no <webview>, so no allowpopups", () => {
    expect(prefs.webviewTag).toBe(false);
  });

  it("12. <webview> attachment is refused outright (there is nothing to verify)", () => {
    expect(hardened().contents.attachWebview()).toBe(true);
  });

  it("13. navigation is limited to the app's own page (security.test.ts too)", () => {
    const { contents } = hardened();
    expect(contents.navigate(`${APP_INDEX_URL}#/c/1`)).toBe(false);
    for (const url of ["https://evil.example/", "file:///etc/passwd", "file:///opt/tandem/dist/renderer/index.html", "tandem://app/other.html", "tandem://evil/index.html"]) {
      expect(contents.navigate(url), url).toBe(true);
    }
  });

  it("14. new windows are never created", () => {
    const { contents } = hardened();
    for (const url of ["https://example.com/", APP_INDEX_URL, "about:blank"]) expect(contents.openWindow(url)).toEqual({ action: "deny" });
  });

  it("15. shell.openExternal gets only http(s) links the page navigated to or opened, and is called nowhere else", async () => {
    const { contents, shell } = hardened();
    contents.navigate("https://example.com/clicked");
    contents.openWindow("http://example.com/target-blank");
    for (const url of ["file:///etc/passwd", "javascript:alert(1)", "ms-msdt:/id", "smb://host/share", "tandem://x"]) {
      contents.navigate(url);
      contents.openWindow(url);
    }
    await settle();
    expect(shell.opened).toEqual(["https://example.com/clicked", "http://example.com/target-blank"]);
    // main hands shell.openExternal to the hardening only; no IPC method or menu item can open arbitrary URLs.
    const callers = shellSources.filter((file) => /\bshell\.openExternal\b/.test(code(file)));
    expect(callers).toEqual(["electron/main.ts"]);
    expect(code("electron/main.ts").match(/shell\.openExternal/g)).toHaveLength(1);
    expect(code("electron/main.ts")).toMatch(/hardenAllContents\(app, \{[^}]*openExternal: \(url\) => shell\.openExternal\(url\)/);
  });

  it("16. a current Electron", () => {
    const range = (JSON.parse(source("package.json")) as { devDependencies: Record<string, string> }).devDependencies.electron;
    expect(Number(/\d+/.exec(range)?.[0])).toBeGreaterThanOrEqual(39);
  });

  it("17. every IPC sender is validated: only our page's top frame may call (ipc.test.ts too)", async () => {
    const ipcMain = new FakeIpcMain();
    const ours = new FakeWebContents(APP_INDEX_URL);
    const api = Object.fromEntries(windowMethodNames.map((m) => [m, async () => "called"]));
    registerIpcHandlers({ ipcMain, api: api as never, trustedContents: () => [ours], isAppUrl });
    const method = windowMethodNames[0];
    const call = (contents: FakeWebContents, frame?: FakeFrame | null) => ipcMain.invoke(ipcChannel.invoke(method), { contents, frame }, {});
    await expect(call(ours)).resolves.toEqual({ ok: true, result: "called" });
    for (const [contents, frame] of [
      [ours, ours.mainFrame.child(APP_INDEX_URL)],
      [ours, new FakeFrame("https://evil.example/")],
      [ours, new FakeFrame("file:///opt/tandem/dist/renderer/index.html")],
      [ours, null],
      [new FakeWebContents(APP_INDEX_URL), undefined],
    ] as const) {
      await expect(call(contents, frame)).resolves.toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    }
    // No other IPC entry point in main.
    for (const file of shellSources.filter((f) => f !== "electron/app/ipc.ts")) expect(code(file), file).not.toMatch(/ipcMain\.(on|once|handle|handleOnce)\(/);
  });

  it("18. no file://: the renderer is served from a privileged custom scheme (app-protocol.test.ts too)", async () => {
    // Registered before ready (at main's top level, ahead of app.whenReady), standard + secure only: no bypassCSP,
    // no corsEnabled, no supportFetchAPI (the page never fetches; it talks to main over IPC).
    const protocol = new FakeProtocol();
    registerAppScheme(protocol);
    expect(protocol.privilegedSchemes).toEqual([{ scheme: "tandem", privileges: { standard: true, secure: true, corsEnabled: true } }]);
    expect(APP_SCHEME_PRIVILEGES.privileges).not.toHaveProperty("bypassCSP");
    const main = code("electron/main.ts");
    expect(main.indexOf("registerAppScheme(protocol)")).toBeGreaterThan(-1);
    expect(main.indexOf("registerAppScheme(protocol)")).toBeLessThan(main.search(/\.whenReady\(\)/));
    expect(main.search(/\.whenReady\(\)/)).toBeGreaterThan(-1);
    // Handled on the session that is hardened and that the window uses (the default one: no partition), before the
    // window is opened.
    expect(main).toMatch(/hardenSession\(session\.defaultSession\);\s*handleAppProtocol\(session\.defaultSession\.protocol, \{ root: paths\.rendererRoot,/);
    expect(window.options.webPreferences).not.toHaveProperty("partition");
    expect(window.options.webPreferences).not.toHaveProperty("session");
    // The handler resolves only inside dist/renderer, refuses traversal and lists nothing.
    const inside = resolveAppRequest("tandem://app/assets/index.js", paths.rendererRoot);
    expect(inside).toEqual({ ok: true, file: path.join(paths.rendererRoot, "assets", "index.js"), contentType: "text/javascript; charset=utf-8" });
    for (const url of ["tandem://app/../package.json", "tandem://app/..%2F..%2Fpackage.json", "tandem://app/%2e%2e/x.js", "tandem://app/..%5Cx.js", "tandem://app/C:%5Cx.js"]) {
      expect(resolveAppRequest(url, paths.rendererRoot), url).toEqual({ ok: false, status: 403 });
    }
    expect(resolveAppRequest("tandem://app/assets/", paths.rendererRoot)).toEqual({ ok: false, status: 404 });
    const handler = createAppProtocolHandler({ root: paths.rendererRoot, contentSecurityPolicy: CONTENT_SECURITY_POLICY });
    expect((await handler(new Request("tandem://app/..%2F..%2Fpackage.json"))).status).toBe(403);
    // The window loads the custom URL; only that page may navigate or call IPC, a file:// page never.
    expect(window.loadedUrls).toEqual([APP_INDEX_URL]);
    expect(isAppUrl(APP_INDEX_URL)).toBe(true);
    for (const url of ["file:///opt/tandem/dist/renderer/index.html", "file:///etc/passwd", "tandem://app/other.html", "tandem://other/index.html"]) {
      expect(isAppUrl(url), url).toBe(false);
    }
    const ipcMain = new FakeIpcMain();
    const ours = new FakeWebContents("file:///opt/tandem/dist/renderer/index.html");
    const api = Object.fromEntries(windowMethodNames.map((m) => [m, async () => "called"]));
    registerIpcHandlers({ ipcMain, api: api as never, trustedContents: () => [ours], isAppUrl });
    await expect(ipcMain.invoke(ipcChannel.invoke(windowMethodNames[0]), { contents: ours }, {})).resolves.toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    // With nothing served from file:// any more, the fuse that gives file: pages extra privileges is burnt off.
    const fuses = (YAML.parse(source("electron-builder.yml")) as { electronFuses: Record<string, boolean> }).electronFuses;
    expect(fuses.grantFileProtocolExtraPrivileges).toBe(false);
  });

  it("19. fuses are flipped at package time (test/build/electron-builder.test.ts too)", () => {
    const fuses = (YAML.parse(source("electron-builder.yml")) as { electronFuses: Record<string, boolean> }).electronFuses;
    expect(fuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it("20. no Electron API reaches the page: the preload exposes one object of contract methods (preload.test.ts too)", () => {
    const preload = code("electron/preload.ts");
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    // ipcRenderer is passed into the API builder, never exposed itself.
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*,\s*ipcRenderer\s*\)/);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*,\s*\{[^}]*\bipcRenderer\b/);
  });
});

describe("fuses and the engine: RunAsNode off still starts the engine", () => {
  it("main starts the engine with utilityProcess.fork, never a Node child process", () => {
    const main = code("electron/main.ts");
    expect(main).toMatch(/createUtilityProcessSpawner\(\s*\([^)]*\)\s*=>\s*utilityProcess\.fork\(/);
    expect(main).not.toMatch(/child_process|node-fork-spawner|process\.execPath/);
  });

  it("the spawner forks the entry as a utility process with the environment it is given", () => {
    const forks: { modulePath: string; env: unknown }[] = [];
    const spawner = createUtilityProcessSpawner((modulePath, _args, options) => {
      forks.push({ modulePath, env: options.env });
      return new FakeUtilityProcess();
    });
    spawner.spawn({ entry: paths.engineEntry, env: { PATH: "/bin" } });
    expect(forks).toEqual([{ modulePath: paths.engineEntry, env: { PATH: "/bin" } }]);
  });

  it("ELECTRON_RUN_AS_NODE and NODE_OPTIONS never reach the engine, and no code sets them", () => {
    expect(sanitizeEngineEnv({ ELECTRON_RUN_AS_NODE: "1", NODE_OPTIONS: "--require x", electron_run_as_node: "1", PATH: "/bin" })).toEqual({ PATH: "/bin" });
    const all = (dir: string): string[] =>
      fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : []));
    for (const file of [...all("electron"), ...all("engine")]) {
      expect(code(file), file).not.toMatch(/ELECTRON_RUN_AS_NODE\s*[:=]|\[\s*["']ELECTRON_RUN_AS_NODE["']\s*\]\s*=/);
    }
  });

  it("packaged, the engine entry is inside app.asar (which a utility process reads), not a path only Node could load", () => {
    const appPath = "/opt/Tandem/resources/app.asar";
    expect(resolveAppPaths({ mainDir: `${appPath}/dist/electron`, appPath, isPackaged: true }).engineEntry).toBe(path.join(appPath, "dist", "engine", "main.js"));
  });
});

describe("web mode", () => {
  it("listens on loopback only, needs the token and checks the Origin (asserted in host/web/server.test.ts)", () => {
    const tests = source("test/electron/host/web/server.test.ts");
    for (const title of [
      "listens on 127.0.0.1 only",
      "refuses a wrong or missing token with 401",
      "refuses a foreign or missing Origin with 403, even with the right token",
      "rejects requests for another Host name (DNS rebinding) and methods other than GET/HEAD",
    ]) {
      expect(tests, title).toContain(`it("${title}"`);
    }
  });
});
