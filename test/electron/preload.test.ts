import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildPreloadApi, checkOutcome } from "../../electron/app/preload-api.js";
import { ipcChannel, windowEventNames, windowMethodNames, type TandemBridge } from "../../contracts/window/index.js";
import { FakeContextBridge, FakeIpcRenderer } from "../fakes/electron.js";

// electron/preload.ts imports "electron"; in Node that is only a path (or a throw without the binary). Give it
// the fakes so the real preload module can be loaded and checked.
const electron = vi.hoisted(() => ({ contextBridge: null as unknown, ipcRenderer: null as unknown }));
vi.mock("electron", () => electron);

describe("electron/preload.ts", () => {
  beforeEach(() => {
    vi.resetModules();
  });
  afterEach(() => {
    vi.resetModules();
  });

  it("exposes window.tandem with exactly the contract's methods plus on", async () => {
    const bridge = new FakeContextBridge();
    const ipc = new FakeIpcRenderer();
    electron.contextBridge = bridge;
    electron.ipcRenderer = ipc;
    await import("../../electron/preload.js");
    expect([...bridge.exposed.keys()]).toEqual(["tandem"]);
    const api = bridge.exposed.get("tandem") as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...windowMethodNames, "on", "pathForFile"].sort());
    for (const key of Object.keys(api)) expect(typeof api[key], key).toBe("function");
    // Nothing that would hand the page raw IPC.
    expect(Object.values(api)).not.toContain(ipc);
  });
});

describe("the preload and the contract's zod-free names (contracts/window/names.ts)", () => {
  it("names every schema of the method and event tables, and nothing else", async () => {
    const { windowApi, windowEvents } = await import("../../contracts/window/index.js");
    expect([...windowMethodNames].sort()).toEqual(Object.keys(windowApi).sort());
    expect([...windowEventNames].sort()).toEqual(Object.keys(windowEvents).sort());
    expect(ipcChannel.invoke("sendMessage")).toBe("tandem:invoke:sendMessage");
  });

  it("keeps zod (and every schema) out of the preload bundle", async () => {
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: ["electron/preload.ts"],
      bundle: true,
      platform: "node",
      format: "cjs",
      external: ["electron"],
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => file.includes("node_modules"))).toEqual([]);
    expect(inputs.filter((file) => file.startsWith("contracts/"))).toEqual(["contracts/window/names.ts"]);
  });
});

describe("buildPreloadApi", () => {
  function setup() {
    const ipc = new FakeIpcRenderer();
    const api: TandemBridge = buildPreloadApi(ipc);
    return { ipc, api };
  }

  it("invokes each method on its own fixed channel with the params", async () => {
    const { ipc, api } = setup();
    ipc.respond = (channel) => ({ ok: true, result: channel });
    for (const method of windowMethodNames) {
      const call = api[method] as (params: unknown) => Promise<unknown>;
      await expect(call({ probe: method })).resolves.toEqual({ ok: true, result: ipcChannel.invoke(method) });
    }
    expect(ipc.invocations).toEqual(windowMethodNames.map((m) => ({ channel: ipcChannel.invoke(m), args: [{ probe: m }] })));
  });

  it("sends {} when called without params", async () => {
    const { ipc, api } = setup();
    await (api.getAppInfo as () => Promise<unknown>)();
    expect(ipc.invocations[0].args).toEqual([{}]);
  });

  it("passes an error outcome through intact, so its code reaches the page (a thrown Error would lose it)", async () => {
    const { ipc, api } = setup();
    ipc.respond = () => ({ ok: false, error: { code: "NO_MODEL", message: "Choose a model first" } });
    await expect(api.sendMessage({ conversationId: "c1", content: "hi" })).resolves.toEqual({
      ok: false,
      error: { code: "NO_MODEL", message: "Choose a model first" },
    });
  });

  it("treats a malformed reply as an INTERNAL error", () => {
    for (const reply of [undefined, null, "x", { ok: false }, { ok: false, error: { code: 1, message: "m" } }, { ok: true }]) {
      expect(checkOutcome(reply), JSON.stringify(reply)).toMatchObject({ ok: false, error: { code: "INTERNAL" } });
    }
  });

  it("subscribes with one IPC listener and delivers each event's data to its listeners", () => {
    const { ipc, api } = setup();
    const tokens = vi.fn();
    const deleted = vi.fn();
    api.on("tokens", tokens);
    api.on("conversationDeleted", deleted);
    expect(ipc.listenerCount(ipcChannel.event)).toBe(1);
    ipc.emit(ipcChannel.event, { event: "conversationDeleted", data: { id: "c1" } });
    expect(deleted).toHaveBeenCalledWith({ id: "c1" });
    expect(deleted.mock.calls[0]).toHaveLength(1); // the IPC event object never reaches the page
    expect(tokens).not.toHaveBeenCalled();
  });

  it("returns an unsubscribe function", () => {
    const { ipc, api } = setup();
    const listener = vi.fn();
    const off = api.on("settingsChanged", listener);
    off();
    ipc.emit(ipcChannel.event, { event: "settingsChanged", data: {} });
    expect(listener).not.toHaveBeenCalled();
  });

  it("refuses unknown event names and non-function listeners", () => {
    const { api } = setup();
    const on = api.on as (event: unknown, listener: unknown) => unknown;
    expect(() => on("tandem:invoke:getSettings", () => {})).toThrow(/Unknown event/);
    expect(() => on("__proto__", () => {})).toThrow(/Unknown event/);
    expect(() => on(42, () => {})).toThrow(/Unknown event/);
    expect(() => on("tokens", "not a function")).toThrow(/function/);
  });

  it("accepts every contract event name", () => {
    const { api } = setup();
    for (const event of windowEventNames) expect(typeof api.on(event, () => {})).toBe("function");
  });

  it("ignores malformed or unknown pushed payloads and keeps going after a failing listener", () => {
    const { ipc, api } = setup();
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const good = vi.fn();
    api.on("conversationDeleted", () => {
      throw new Error("listener bug");
    });
    api.on("conversationDeleted", good);
    ipc.emit(ipcChannel.event, null);
    ipc.emit(ipcChannel.event, { event: "nope", data: 1 });
    ipc.emit(ipcChannel.event, { event: "conversationDeleted" });
    expect(good).not.toHaveBeenCalled();
    ipc.emit(ipcChannel.event, { event: "conversationDeleted", data: { id: "x" } });
    expect(good).toHaveBeenCalledOnce();
    expect(spy).toHaveBeenCalledOnce();
    spy.mockRestore();
  });
});
