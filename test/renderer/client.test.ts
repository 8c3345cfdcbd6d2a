import { afterEach, describe, expect, it, vi } from "vitest";
import { TandemApiError, windowMethodNames, type TandemBridge, type WebCallFrame, type WebServerFrame } from "../../contracts/window/index.js";
import { createWebClient, getClient, webSocketUrl, type SocketLike } from "../../renderer/src/api/client.js";

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: WebCallFrame[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  drop() {
    this.readyState = 3;
    this.onclose?.(new Event("close") as CloseEvent);
  }
  receive(frame: WebServerFrame) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(frame) }));
  }
}

function connect() {
  FakeSocket.all = [];
  const client = createWebClient({ url: "ws://host/api?token=t", createSocket: (url) => new FakeSocket(url), minReconnectDelayMs: 100, maxReconnectDelayMs: 1000 });
  return { client, socket: () => FakeSocket.all[FakeSocket.all.length - 1] };
}

afterEach(() => {
  vi.useRealTimers();
  delete window.tandem;
});

describe("web client", () => {
  it("queues calls until the socket opens, then matches results to calls by id", async () => {
    const { client, socket } = connect();
    const info = client.getAppInfo({});
    const list = client.listConversations({ query: "x" });
    expect(socket().sent).toEqual([]);
    socket().open();
    expect(socket().sent).toEqual([
      { kind: "call", id: 1, method: "getAppInfo", params: {} },
      { kind: "call", id: 2, method: "listConversations", params: { query: "x" } },
    ]);
    socket().receive({ kind: "result", id: 2, ok: true, result: [] });
    socket().receive({ kind: "result", id: 1, ok: true, result: { version: "9" } });
    await expect(list).resolves.toEqual([]);
    await expect(info).resolves.toEqual({ version: "9" });
    expect(client.connectionState).toBe("connected");
  });

  it("rejects with TandemApiError(code, message) on ok:false", async () => {
    const { client, socket } = connect();
    socket().open();
    const p = client.loadModel({ path: "/m.gguf" });
    socket().receive({ kind: "result", id: 1, ok: false, error: { code: "NOT_GGUF", message: "Not a GGUF file" } });
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TandemApiError);
    expect(error).toMatchObject({ code: "NOT_GGUF", message: "Not a GGUF file" });
  });

  it("dispatches events to their listeners until unsubscribed", () => {
    const { client, socket } = connect();
    socket().open();
    const seen: unknown[] = [];
    const off = client.on("conversationDeleted", (d) => seen.push(d));
    socket().receive({ kind: "event", event: "conversationDeleted", data: { id: "a" } });
    socket().receive({ kind: "event", event: "settingsChanged", data: {} });
    off();
    socket().receive({ kind: "event", event: "conversationDeleted", data: { id: "b" } });
    expect(seen).toEqual([{ id: "a" }]);
  });

  it("rejects pending calls with DISCONNECTED when the socket drops, and reconnects with backoff", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const { client, socket } = connect();
    const states: string[] = [];
    client.onConnectionChange((s) => states.push(s));
    socket().open();
    const pending = client.getSettings({});
    socket().drop();
    await expect(pending).rejects.toMatchObject({ code: "DISCONNECTED" });
    expect(client.connectionState).toBe("reconnecting");

    // First retry after ~100 ms; it fails too, so the next waits ~200 ms.
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    socket().drop();
    vi.advanceTimersByTime(199);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    socket().open();
    expect(states).toEqual(["connected", "reconnecting", "connected"]);

    const again = client.getSettings({});
    const id = socket().sent[0].id;
    socket().receive({ kind: "result", id, ok: true, result: { theme: "dark" } });
    await expect(again).resolves.toEqual({ theme: "dark" });
    client.close();
    vi.restoreAllMocks();
  });
});

describe("getClient", () => {
  it("builds the socket URL from the page location and its token", () => {
    expect(webSocketUrl({ protocol: "http:", host: "127.0.0.1:3210", search: "?token=a b" })).toBe("ws://127.0.0.1:3210/api?token=a%20b");
    expect(webSocketUrl({ protocol: "https:", host: "x", search: "?token=abc" })).toBe("wss://x/api?token=abc");
    expect(webSocketUrl({ protocol: "http:", host: "x", search: "" })).toBeNull();
  });

  it("uses window.tandem when preload exposed it, unwrapping outcomes into results and coded errors", async () => {
    const calls: unknown[] = [];
    const listeners: string[] = [];
    const bridge = {
      on: (event: string) => {
        listeners.push(event);
        return () => {};
      },
    } as Record<string, unknown>;
    for (const method of windowMethodNames) {
      bridge[method] = async (params: unknown) => {
        calls.push([method, params]);
        return method === "sendMessage"
          ? { ok: false, error: { code: "BUSY", message: "A reply is being written" } }
          : { ok: true, result: `${method}-result` };
      };
    }
    window.tandem = bridge as unknown as TandemBridge;
    const client = getClient();
    await expect(client.getSettings({})).resolves.toBe("getSettings-result");
    const error = await client.sendMessage({ conversationId: "c", content: "hi" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TandemApiError);
    expect(error).toMatchObject({ code: "BUSY", message: "A reply is being written" });
    client.on("tokens", () => {});
    expect(listeners).toEqual(["tokens"]);
    expect(calls).toEqual([["getSettings", {}], ["sendMessage", { conversationId: "c", content: "hi" }]]);
  });
});
