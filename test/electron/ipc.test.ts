import { describe, expect, it, vi } from "vitest";
import { forwardHostEvents, registerIpcHandlers, runWindowCall, toApiError } from "../../electron/app/ipc.js";
import { APP_INDEX_URL, isAppPageUrl } from "../../electron/app/app-protocol.js";
import type { HostEventListener } from "../../electron/host/types.js";
import { ipcChannel, TandemApiError, windowMethodNames, type TandemApi, type WindowMethod } from "../../contracts/window/index.js";
import { guardApi } from "../../electron/host/api/dispatch.js";
import { FakeFrame, FakeIpcMain, FakeWebContents } from "../fakes/electron.js";

const INDEX_URL = APP_INDEX_URL;

const conversation = { id: "c1", title: "Hello", createdAt: 1, updatedAt: 1 };

/** A host API whose every method is a spy resolving to `conversation` (shape does not matter to main). */
function fakeApi(): TandemApi & Record<WindowMethod, ReturnType<typeof vi.fn>> {
  const api: Record<string, ReturnType<typeof vi.fn>> = {};
  for (const method of windowMethodNames) api[method] = vi.fn(async () => conversation);
  return api as unknown as TandemApi & Record<WindowMethod, ReturnType<typeof vi.fn>>;
}

function setup() {
  const ipcMain = new FakeIpcMain();
  const api = fakeApi();
  const ours = new FakeWebContents(INDEX_URL);
  const logs: string[] = [];
  // The host's API as main gets it: guarded, so that params are validated once, at the host's edge.
  const unregister = registerIpcHandlers({
    ipcMain,
    api: guardApi(api, { debug: () => {}, info: () => {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) }),
    trustedContents: () => [ours],
    isAppUrl: isAppPageUrl,
    log: (m) => logs.push(m),
  });
  return { ipcMain, api, ours, logs, unregister };
}

describe("registerIpcHandlers", () => {
  it("registers exactly one channel per window-API method", () => {
    const { ipcMain } = setup();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(windowMethodNames.map((m) => ipcChannel.invoke(m)).sort());
  });

  it("passes a valid call from our page to the host and returns its result as an outcome", async () => {
    const { ipcMain, api, ours } = setup();
    const outcome = await ipcMain.invoke(ipcChannel.invoke("createConversation"), { contents: ours }, { title: "Hello" });
    expect(outcome).toEqual({ ok: true, result: conversation });
    expect(api.createConversation).toHaveBeenCalledWith({ title: "Hello" });
  });

  it("treats missing params as {}", async () => {
    const { ipcMain, api, ours } = setup();
    await expect(ipcMain.invoke(ipcChannel.invoke("getAppInfo"), { contents: ours })).resolves.toMatchObject({ ok: true });
    expect(api.getAppInfo).toHaveBeenCalledWith({});
  });

  it("answers a call without params to a method that needs them with BAD_REQUEST naming the method", async () => {
    const { ipcMain, api, ours } = setup();
    await expect(ipcMain.invoke(ipcChannel.invoke("deleteConversation"), { contents: ours })).resolves.toEqual({
      ok: false,
      error: { code: "BAD_REQUEST", message: "deleteConversation needs params (id), but the call has none." },
    });
    expect(api.deleteConversation).not.toHaveBeenCalled();
  });

  describe("refuses callers other than our page's top frame with FORBIDDEN, without calling the host", () => {
    const cases: [string, (ours: FakeWebContents) => { contents: FakeWebContents; frame?: FakeFrame | null }][] = [
      ["an iframe inside our page", (ours) => ({ contents: ours, frame: ours.mainFrame.child(INDEX_URL) })],
      ["our window's top frame showing a web page", (ours) => ({ contents: ours, frame: new FakeFrame("https://evil.example/") })],
      ["a frame that is gone (senderFrame null)", (ours) => ({ contents: ours, frame: null })],
      ["another web contents showing our page", () => ({ contents: new FakeWebContents(INDEX_URL) })],
    ];
    for (const [name, from] of cases) {
      it(name, async () => {
        const { ipcMain, api, ours, logs } = setup();
        const outcome = await ipcMain.invoke(ipcChannel.invoke("listConversations"), from(ours), {});
        expect(outcome).toEqual({ ok: false, error: { code: "FORBIDDEN", message: expect.any(String) } });
        expect(api.listConversations).not.toHaveBeenCalled();
        expect(logs).toEqual([expect.stringContaining("Refused listConversations")]);
      });
    }

    it("a file:// page in our own window (even the renderer's own index.html), or another page of the app's scheme", async () => {
      const { ipcMain, api, ours } = setup();
      for (const url of [
        "file:///tmp/downloaded.html",
        "file:///opt/tandem/dist/renderer/index.html",
        "tandem://app/other.html",
        "tandem://other/index.html",
        "about:blank",
      ]) {
        ours.mainFrame.url = url;
        const outcome = await ipcMain.invoke(ipcChannel.invoke("deleteConversation"), { contents: ours }, { id: "c1" });
        expect(outcome, url).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
      }
      expect(api.deleteConversation).not.toHaveBeenCalled();
    });
  });

  it("rejects bad params with BAD_REQUEST without calling the host", async () => {
    const { ipcMain, api, ours } = setup();
    for (const params of [{ id: "" }, { id: 5 }, { id: "c1", extra: true }, "c1", [1]]) {
      const outcome = await ipcMain.invoke(ipcChannel.invoke("deleteConversation"), { contents: ours }, params);
      expect(outcome, JSON.stringify(params)).toEqual({ ok: false, error: { code: "BAD_REQUEST", message: expect.any(String) } });
    }
    expect(api.deleteConversation).not.toHaveBeenCalled();
  });

  it("maps a TandemApiError to an error outcome with its code and message", async () => {
    const { ipcMain, api, ours, logs } = setup();
    api.loadModel.mockRejectedValueOnce(new TandemApiError("MODEL_NOT_FOUND", "No such model"));
    const outcome = await ipcMain.invoke(ipcChannel.invoke("loadModel"), { contents: ours }, { path: "/nope.gguf" });
    expect(outcome).toEqual({ ok: false, error: { code: "MODEL_NOT_FOUND", message: "No such model" } });
    expect(logs).toEqual([]);
  });

  it("maps any other failure to INTERNAL and logs it", async () => {
    const { ipcMain, api, ours, logs } = setup();
    api.getSettings.mockRejectedValueOnce(new TypeError("boom"));
    const outcome = await ipcMain.invoke(ipcChannel.invoke("getSettings"), { contents: ours }, {});
    expect(outcome).toEqual({ ok: false, error: { code: "INTERNAL", message: expect.stringContaining("boom") } });
    expect(logs).toEqual([expect.stringContaining("getSettings failed")]);
  });

  it("removes its handlers again", () => {
    const { ipcMain, unregister } = setup();
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
  });
});

describe("runWindowCall / toApiError", () => {
  it("never throws, even for non-Error rejections", async () => {
    const api = fakeApi();
    api.listModels.mockRejectedValueOnce("a string");
    await expect(runWindowCall(api, "listModels", {})).resolves.toEqual({ ok: false, error: { code: "INTERNAL", message: "Internal error" } });
  });

  it("keeps the code of a TandemApiError", () => {
    expect(toApiError(new TandemApiError("BUSY", "Busy"))).toEqual({ code: "BUSY", message: "Busy" });
  });
});

describe("forwardHostEvents", () => {
  it("sends each host event to every live window on the event channel", () => {
    const listeners: HostEventListener[] = [];
    const unsubscribe = vi.fn();
    const host = {
      onEvent: (listener: HostEventListener) => {
        listeners.push(listener);
        return unsubscribe;
      },
    };
    const a = new FakeWebContents(INDEX_URL);
    const b = new FakeWebContents(INDEX_URL);
    const gone = new FakeWebContents(INDEX_URL);
    gone.destroyed = true;
    const stop = forwardHostEvents(host, () => [a, b, gone]);
    for (const listener of listeners) listener("conversationDeleted", { id: "c1" });
    const expected = [{ channel: ipcChannel.event, payload: { event: "conversationDeleted", data: { id: "c1" } } }];
    expect(a.sent).toEqual(expected);
    expect(b.sent).toEqual(expected);
    expect(gone.sent).toEqual([]);
    stop();
    expect(unsubscribe).toHaveBeenCalled();
  });
});
