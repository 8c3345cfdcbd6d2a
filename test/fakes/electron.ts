/**
 * The one home of Electron fakes for the shell's unit tests (Electron's binary cannot run here or in CI). Each
 * fake implements only what electron/main.ts, electron/preload.ts and electron/app/* use, plus helpers that let a
 * test play the part of Chromium (navigate, open a window, send an IPC call from some frame, …).
 */
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { pathToFileURL } from "node:url";
import type { BrowserWindowConstructorOptions, CustomScheme, ForkOptions } from "electron";

// ---------------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------------

export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeNavigationEvent extends FakeEvent {
  constructor(readonly url: string) {
    super();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Frames and web contents
// ---------------------------------------------------------------------------------------------------------------

export class FakeFrame {
  constructor(
    public url: string,
    readonly parent: FakeFrame | null = null,
  ) {}

  child(url: string): FakeFrame {
    return new FakeFrame(url, this);
  }
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  readonly mainFrame: FakeFrame;
  readonly sent: { channel: string; payload: unknown }[] = [];
  windowOpenHandler: ((details: { url: string }) => { action: "deny" }) | null = null;
  destroyed = false;

  constructor(url = "about:blank") {
    super();
    this.mainFrame = new FakeFrame(url);
  }

  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: "deny" }): void {
    this.windowOpenHandler = handler;
  }

  /** Plays a renderer-initiated navigation; returns whether main prevented it. */
  navigate(url: string): boolean {
    const event = new FakeNavigationEvent(url);
    this.emit("will-navigate", event);
    return event.defaultPrevented;
  }

  redirect(url: string): boolean {
    const event = new FakeNavigationEvent(url);
    this.emit("will-redirect", event);
    return event.defaultPrevented;
  }

  attachWebview(): boolean {
    const event = new FakeEvent();
    this.emit("will-attach-webview", event, {}, {});
    return event.defaultPrevented;
  }

  /** Plays window.open / target=_blank; returns the handler's decision. */
  openWindow(url: string): { action: string } {
    if (!this.windowOpenHandler) throw new Error("No window open handler installed");
    return this.windowOpenHandler({ url });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// BrowserWindow
// ---------------------------------------------------------------------------------------------------------------

export class FakeBrowserWindow extends EventEmitter {
  static readonly instances: FakeBrowserWindow[] = [];
  static focused: FakeBrowserWindow | null = null;

  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.instances.filter((w) => !w.destroyed);
  }
  static getFocusedWindow(): FakeBrowserWindow | null {
    return FakeBrowserWindow.focused;
  }
  static reset(): void {
    FakeBrowserWindow.instances.length = 0;
    FakeBrowserWindow.focused = null;
  }

  readonly webContents = new FakeWebContents();
  readonly loadedFiles: string[] = [];
  readonly loadedUrls: string[] = [];
  loadError: Error | null = null;
  visible = false;
  maximized = false;
  minimized = false;
  focusCount = 0;
  destroyed = false;
  bounds: { x: number; y: number; width: number; height: number };
  backgroundColor: string | undefined;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    this.bounds = { x: options.x ?? 0, y: options.y ?? 0, width: options.width ?? 800, height: options.height ?? 600 };
    this.backgroundColor = options.backgroundColor;
    FakeBrowserWindow.instances.push(this);
  }

  async loadFile(file: string): Promise<void> {
    this.loadedFiles.push(file);
    this.webContents.mainFrame.url = pathToFileURL(file).href;
    if (this.loadError) throw this.loadError;
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrls.push(url);
    this.webContents.mainFrame.url = url;
    if (this.loadError) throw this.loadError;
  }
  show(): void {
    this.visible = true;
  }
  maximize(): void {
    this.maximized = true;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  focus(): void {
    this.focusCount++;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getNormalBounds(): { x: number; y: number; width: number; height: number } {
    return { ...this.bounds };
  }
  setBackgroundColor(color: string): void {
    this.backgroundColor = color;
  }
  /** Plays the user closing the window: 'close' (bounds still readable), then 'closed'. */
  close(): void {
    this.emit("close", new FakeEvent());
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit("closed");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Protocol
// ---------------------------------------------------------------------------------------------------------------

type ProtocolHandler = (request: Request) => Response | Promise<Response>;

/**
 * `protocol` (the module: registerSchemesAsPrivileged, before ready and once) and `session.protocol` (handle, once
 * per scheme), as Electron enforces them. `request` plays Chromium asking the handler for a URL.
 */
export class FakeProtocol {
  privilegedSchemes: CustomScheme[] | null = null;
  readonly handlers = new Map<string, ProtocolHandler>();

  constructor(private readonly isAppReady: () => boolean = () => false) {}

  registerSchemesAsPrivileged(customSchemes: CustomScheme[]): void {
    if (this.isAppReady()) throw new Error("protocol.registerSchemesAsPrivileged should be called before app is ready");
    if (this.privilegedSchemes) throw new Error("protocol.registerSchemesAsPrivileged can only be called once");
    this.privilegedSchemes = customSchemes;
  }
  handle(scheme: string, handler: ProtocolHandler): void {
    if (this.handlers.has(scheme)) throw new Error(`Failed to register protocol: ${scheme}`);
    this.handlers.set(scheme, handler);
  }
  isProtocolHandled(scheme: string): boolean {
    return this.handlers.has(scheme);
  }
  async request(url: string, init?: RequestInit): Promise<Response> {
    const handler = this.handlers.get(new URL(url).protocol.slice(0, -1));
    if (!handler) throw new Error(`No handler for ${url}`);
    return handler(new Request(url, init));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------------------------

type HeadersListener = (
  details: { url: string; responseHeaders?: Record<string, string[]> },
  callback: (response: { responseHeaders?: Record<string, string[] | string>; cancel?: boolean }) => void,
) => void;

export class FakeSession {
  headersListener: HeadersListener | null = null;
  permissionRequestHandler: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
  permissionCheckHandler: ((contents: unknown, permission: string) => boolean) | null = null;
  readonly protocol = new FakeProtocol();

  readonly webRequest = {
    onHeadersReceived: (listener: HeadersListener): void => {
      this.headersListener = listener;
    },
  };

  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void {
    this.permissionRequestHandler = handler;
  }
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void {
    this.permissionCheckHandler = handler;
  }

  /** Plays a response arriving; returns what the listener answered. */
  receive(url: string, responseHeaders: Record<string, string[]> = {}): { responseHeaders?: Record<string, string[] | string>; cancel?: boolean } {
    if (!this.headersListener) throw new Error("No onHeadersReceived listener");
    let answer: { responseHeaders?: Record<string, string[] | string>; cancel?: boolean } | undefined;
    this.headersListener({ url, responseHeaders }, (response) => (answer = response));
    if (!answer) throw new Error("The listener did not answer synchronously");
    return answer;
  }

  requestPermission(permission: string): Promise<boolean> {
    const handler = this.permissionRequestHandler;
    if (!handler) throw new Error("No permission request handler");
    return new Promise((resolve) => handler(new FakeWebContents(), permission, resolve));
  }

  checkPermission(permission: string): boolean {
    if (!this.permissionCheckHandler) throw new Error("No permission check handler");
    return this.permissionCheckHandler(new FakeWebContents(), permission);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// IPC
// ---------------------------------------------------------------------------------------------------------------

export interface FakeInvokeEvent {
  sender: unknown;
  senderFrame: FakeFrame | null;
}

type InvokeHandler = (event: FakeInvokeEvent, ...args: unknown[]) => Promise<unknown>;

export class FakeIpcMain {
  readonly handlers = new Map<string, InvokeHandler>();

  handle(channel: string, handler: InvokeHandler): void {
    // Electron throws on a second handler for the same channel; so do we.
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** Plays ipcRenderer.invoke from `contents` (its main frame unless `frame` is given). */
  async invoke(channel: string, from: { contents: FakeWebContents; frame?: FakeFrame | null }, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const frame = from.frame === undefined ? from.contents.mainFrame : from.frame;
    return handler({ sender: from.contents, senderFrame: frame }, ...args);
  }
}

export class FakeIpcRenderer {
  readonly invocations: { channel: string; args: unknown[] }[] = [];
  private readonly listeners = new Map<string, ((event: unknown, payload: unknown) => void)[]>();

  /** What main answers; tests replace it. */
  respond: (channel: string, ...args: unknown[]) => unknown = () => ({ ok: true, result: null });

  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args });
    return this.respond(channel, ...args);
  }
  on(channel: string, listener: (event: unknown, payload: unknown) => void): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }
  listenerCount(channel: string): number {
    return this.listeners.get(channel)?.length ?? 0;
  }
  /** Plays webContents.send from main. */
  emit(channel: string, payload: unknown): void {
    for (const listener of this.listeners.get(channel) ?? []) listener({ sender: this }, payload);
  }
}

export class FakeContextBridge {
  readonly exposed = new Map<string, unknown>();
  exposeInMainWorld(key: string, api: unknown): void {
    if (this.exposed.has(key)) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
    this.exposed.set(key, api);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shell, dialog, app, utility processes
// ---------------------------------------------------------------------------------------------------------------

export class FakeShell {
  readonly opened: string[] = [];
  readonly openedPaths: string[] = [];
  async openExternal(url: string): Promise<void> {
    this.opened.push(url);
  }
  async openPath(p: string): Promise<string> {
    this.openedPaths.push(p);
    return "";
  }
}

export class FakeDialog {
  result: { canceled: boolean; filePaths: string[] } = { canceled: true, filePaths: [] };
  readonly calls: { window: unknown; options: unknown }[] = [];
  readonly errorBoxes: { title: string; content: string }[] = [];

  showOpenDialog(
    windowOrOptions: unknown,
    maybeOptions?: unknown,
  ): Promise<{ canceled: boolean; filePaths: string[] }> {
    const hasWindow = maybeOptions !== undefined;
    this.calls.push({ window: hasWindow ? windowOrOptions : null, options: hasWindow ? maybeOptions : windowOrOptions });
    return Promise.resolve(this.result);
  }
  showErrorBox(title: string, content: string): void {
    this.errorBoxes.push({ title, content });
  }
}

export class FakeApp extends EventEmitter {
  quitCount = 0;
  exitCode: number | null = null;
  isPackaged = false;
  name = "Tandem";
  hasLock = true;
  ready = false;
  private readonly paths = new Map<string, string>();
  private readyResolve: (() => void) | null = null;
  private readonly readyPromise = new Promise<void>((resolve) => (this.readyResolve = resolve));

  constructor(
    private readonly appPath = "/app",
    userData = "/tmp/tandem-user-data",
  ) {
    super();
    this.paths.set("userData", userData);
  }

  quit(): void {
    this.quitCount++;
  }
  exit(code = 0): void {
    this.exitCode = code;
  }
  getPath(name: string): string {
    const value = this.paths.get(name);
    if (!value) throw new Error(`No fake path for ${name}`);
    return value;
  }
  setPath(name: string, value: string): void {
    this.paths.set(name, value);
  }
  getAppPath(): string {
    return this.appPath;
  }
  getVersion(): string {
    return "0.1.0";
  }
  requestSingleInstanceLock(): boolean {
    return this.hasLock;
  }
  isReady(): boolean {
    return this.ready;
  }
  whenReady(): Promise<void> {
    return this.readyPromise;
  }
  /** Plays Electron finishing its startup. */
  becomeReady(): void {
    this.ready = true;
    this.readyResolve?.();
    this.emit("ready");
  }
  /** Plays a quit request (Cmd+Q, last window closed, …); returns whether it was held back. */
  requestQuit(): boolean {
    const event = new FakeEvent();
    this.emit("before-quit", event);
    return event.defaultPrevented;
  }
}

let nextPid = 1000;

export class FakeUtilityProcess extends EventEmitter {
  readonly pid: number | undefined = nextPid++;
  /** The piped stderr (fork with stdio [.., .., "pipe"]): tests write the engine's output into it. */
  readonly stderr = new PassThrough();
  readonly posted: unknown[] = [];
  killed = false;

  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    this.killed = true;
    return true;
  }
}

/** A stand-in for `utilityProcess.fork` that records its calls and returns fresh fake processes. */
export function fakeFork(): {
  fork: (modulePath: string, args: string[], options: ForkOptions) => FakeUtilityProcess;
  calls: { modulePath: string; args: string[]; options: ForkOptions; child: FakeUtilityProcess }[];
} {
  const calls: { modulePath: string; args: string[]; options: ForkOptions; child: FakeUtilityProcess }[] = [];
  return {
    calls,
    fork: (modulePath, args, options) => {
      const child = new FakeUtilityProcess();
      calls.push({ modulePath, args, options, child });
      return child;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The whole main-process module, for loading electron/main.ts itself under vi.mock("electron")
// ---------------------------------------------------------------------------------------------------------------

export class FakeNativeTheme extends EventEmitter {
  shouldUseDarkColors = false;
  themeSource: "system" | "light" | "dark" = "system";
}

export interface FakeMenuItem {
  label?: string;
  role?: string;
  accelerator?: string;
  click?: (...args: unknown[]) => void;
  submenu?: FakeMenuItem[];
}

export class FakeMenu {
  static application: FakeMenu | null = null;
  constructor(readonly template: FakeMenuItem[]) {}
  static buildFromTemplate(template: FakeMenuItem[]): FakeMenu {
    return new FakeMenu(template);
  }
  static setApplicationMenu(menu: FakeMenu | null): void {
    FakeMenu.application = menu;
  }
  /** Finds an item anywhere in the menu by label. */
  find(label: string): FakeMenuItem | undefined {
    const walk = (items: FakeMenuItem[]): FakeMenuItem | undefined => {
      for (const item of items) {
        if (item.label === label) return item;
        const found = item.submenu ? walk(item.submenu) : undefined;
        if (found) return found;
      }
      return undefined;
    };
    return walk(this.template);
  }
}

/**
 * safeStorage: "encrypts" by XOR with a key and a marker prefix (so the bytes on disk differ from the text), and
 * refuses to decrypt what it did not encrypt, as a different keychain would. `available` and `backend` play the OS.
 */
export class FakeSafeStorage {
  available = true;
  backend = "gnome_libsecret";
  private static readonly MARKER = Buffer.from("FAKEv10");
  constructor(private readonly key = 0x5a) {}
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error("Error while encrypting the text provided to safeStorage.encryptString. Encryption is not available.");
    const bytes = Buffer.from(plainText, "utf8").map((b) => b ^ this.key);
    return Buffer.concat([FakeSafeStorage.MARKER, bytes]);
  }
  decryptString(encrypted: Buffer): string {
    if (!this.available) throw new Error("Error while decrypting the ciphertext provided to safeStorage.decryptString. Decryption is not available.");
    if (!encrypted.subarray(0, FakeSafeStorage.MARKER.length).equals(FakeSafeStorage.MARKER)) {
      throw new Error("Error while decrypting the ciphertext provided to safeStorage.decryptString.");
    }
    return Buffer.from(encrypted.subarray(FakeSafeStorage.MARKER.length).map((b) => b ^ this.key)).toString("utf8");
  }
}

/** A fresh set of fakes shaped like `import { … } from "electron"` in the main process. */
export function createFakeElectronMain(options: { appPath?: string; userData?: string } = {}) {
  FakeBrowserWindow.reset();
  FakeMenu.application = null;
  const forks = fakeFork();
  const app = new FakeApp(options.appPath, options.userData);
  return {
    app,
    BrowserWindow: FakeBrowserWindow,
    dialog: new FakeDialog(),
    ipcMain: new FakeIpcMain(),
    Menu: FakeMenu,
    nativeTheme: new FakeNativeTheme(),
    protocol: new FakeProtocol(() => app.isReady()),
    safeStorage: new FakeSafeStorage(),
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1040 } }] },
    session: { defaultSession: new FakeSession() },
    shell: new FakeShell(),
    utilityProcess: { fork: forks.fork },
    forks,
  };
}

export type FakeElectronMain = ReturnType<typeof createFakeElectronMain>;
