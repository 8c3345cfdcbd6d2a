import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { startWebServer, type WebServer } from "../../../../electron/host/web/server.js";
import type { WebServerFrame } from "../../../../contracts/window/index.js";
import { writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

const TOKEN = "a".repeat(32) + "b".repeat(32);
let host: Host;
let server: WebServer;
let staticDir: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), "tandem-web-test-"));
  staticDir = join(root, "renderer");
  mkdirSync(join(staticDir, "assets"), { recursive: true });
  writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>Tandem</title>");
  writeFileSync(join(staticDir, "assets", "app.js"), "console.log('app')");
  writeFileSync(join(staticDir, "assets", "app.css"), "body{}");
  writeFileSync(join(root, "secret.txt"), "TOP SECRET");
  symlinkSync(join(root, "secret.txt"), join(staticDir, "assets", "link.txt"));

  host = createHost(
    { dataDir: join(root, "data"), engineEntry: writeFakeEngine(), spawner: nodeForkSpawner, mode: "web", appVersion: "1.0.0" },
    { logger: recordingLogger(), env: { PATH: process.env.PATH }, supervisorTiming: { pingIntervalMs: 0, stopTimeoutMs: 500 } },
  );
  await host.start();
  server = await startWebServer({ host, port: 0, staticDir, token: TOKEN, logger: recordingLogger() });
});

afterAll(async () => {
  await server?.close();
  await host?.dispose();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: the path is sent exactly as given (no client-side normalisation). */
function get(path: string, options: { host?: string; method?: string; address?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: options.address ?? "127.0.0.1",
        port: server.port,
        path,
        method: options.method ?? "GET",
        headers: { Host: options.host ?? `127.0.0.1:${server.port}` },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function wsUrl(token: string | null, path = "/api"): string {
  return `ws://127.0.0.1:${server.port}${path}${token === null ? "" : `?token=${token}`}`;
}

/** Opens a socket; resolves with it once open, or with the HTTP status of the refusal. */
function connect(url: string, origin: string | null): Promise<{ socket: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin === null ? {} : { origin });
    socket.once("open", () => resolve({ socket }));
    socket.once("unexpected-response", (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once("error", (error) => reject(error));
  });
}

async function openSocket(): Promise<WebSocket> {
  const outcome = await connect(wsUrl(TOKEN), `http://127.0.0.1:${server.port}`);
  if (!("socket" in outcome)) throw new Error(`refused with ${outcome.refused}`);
  return outcome.socket;
}

/** Collects every frame a socket receives. */
function frames(socket: WebSocket): WebServerFrame[] {
  const received: WebServerFrame[] = [];
  socket.on("message", (data: Buffer) => received.push(JSON.parse(data.toString()) as WebServerFrame));
  return received;
}

async function until<T>(find: () => T | undefined, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("static files", () => {
  it("serves index.html for / with a strict CSP and other safety headers", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.body).toContain("<title>Tandem</title>");
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.headers["content-security-policy"]).toBe(
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:${server.port}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`,
    );
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["referrer-policy"]).toBe("no-referrer");
  });

  it("serves assets with their content types", async () => {
    const js = await get("/assets/app.js");
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["content-security-policy"]).toContain("default-src 'self'");
    expect((await get("/assets/app.css")).headers["content-type"]).toBe("text/css; charset=utf-8");
    expect((await get("/index.html?token=x")).status).toBe(200);
    expect((await get("/missing.js")).status).toBe(404);
  });

  it("cannot be tricked into serving files outside the folder", async () => {
    for (const path of [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/assets/link.txt",
      "/%00index.html",
      "/%E0%A4%A",
      "/assets",
    ]) {
      const response = await get(path);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.body, path).not.toContain("TOP SECRET");
    }
  });

  it("rejects requests for another Host name (DNS rebinding) and methods other than GET/HEAD", async () => {
    expect((await get("/", { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get("/", { host: "127.0.0.1:1" })).status).toBe(403);
    expect((await get("/", { host: `localhost:${server.port}` })).status).toBe(200);
    expect((await get("/", { method: "POST" })).status).toBe(405);
    const head = await get("/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("listens on 127.0.0.1 only", async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
    // 127.0.0.2 is loopback too on Linux: a server bound to all interfaces would answer there.
    await expect(get("/", { address: "127.0.0.2" })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("API socket", () => {
  it("refuses a wrong or missing token with 401", async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    expect(await connect(wsUrl("wrong"), origin)).toEqual({ refused: 401 });
    expect(await connect(wsUrl(TOKEN.slice(0, -1)), origin)).toEqual({ refused: 401 });
    expect(await connect(wsUrl(`${TOKEN}0`), origin)).toEqual({ refused: 401 });
    expect(await connect(wsUrl(null), origin)).toEqual({ refused: 401 });
  });

  it("refuses a foreign or missing Origin with 403, even with the right token", async () => {
    expect(await connect(wsUrl(TOKEN), "http://evil.example")).toEqual({ refused: 403 });
    expect(await connect(wsUrl(TOKEN), `http://localhost:${server.port + 1}`)).toEqual({ refused: 403 });
    expect(await connect(wsUrl(TOKEN), `https://127.0.0.1:${server.port}`)).toEqual({ refused: 403 });
    expect(await connect(wsUrl(TOKEN), null)).toEqual({ refused: 403 });
  });

  it("accepts the page under either loopback name it is served on", async () => {
    for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
      const result = await connect(wsUrl(TOKEN), origin);
      expect("socket" in result, origin).toBe(true);
      if ("socket" in result) result.socket.close();
    }
  });

  it("refuses upgrades on other paths", async () => {
    expect(await connect(wsUrl(TOKEN, "/other"), `http://127.0.0.1:${server.port}`)).toEqual({ refused: 404 });
  });

  it("answers calls and broadcasts host events to every connected socket", async () => {
    const caller = await openSocket();
    const watcher = await openSocket();
    const callerFrames = frames(caller);
    const watcherFrames = frames(watcher);

    caller.send(JSON.stringify({ kind: "call", id: 1, method: "createConversation", params: { title: "Over the wire" } }));
    const result = await until(() => callerFrames.find((f) => f.kind === "result" && f.id === 1));
    expect(result).toMatchObject({ kind: "result", id: 1, ok: true, result: { title: "Over the wire" } });
    const broadcast = await until(() => watcherFrames.find((f) => f.kind === "event" && f.event === "conversationUpdated"));
    expect(broadcast).toMatchObject({ data: { conversation: { title: "Over the wire" } } });

    caller.send(JSON.stringify({ kind: "call", id: 2, method: "listConversations", params: {} }));
    const list = await until(() => callerFrames.find((f) => f.kind === "result" && f.id === 2));
    expect(list.kind === "result" && list.ok && Array.isArray(list.result) && list.result.length).toBeGreaterThan(0);
    caller.close();
    watcher.close();
  });

  it("runs a call frame without params for a method that needs none, and names the method that needs them", async () => {
    const socket = await openSocket();
    const received = frames(socket);
    // JSON.stringify drops `params: undefined`: the frame arrives without the key at all.
    socket.send(JSON.stringify({ kind: "call", id: 11, method: "getSettings" }));
    socket.send(JSON.stringify({ kind: "call", id: 12, method: "listConversations", params: undefined }));
    socket.send(JSON.stringify({ kind: "call", id: 13, method: "getAppInfo", params: null }));
    socket.send(JSON.stringify({ kind: "call", id: 14, method: "renameConversation" }));
    socket.send(JSON.stringify({ kind: "call", id: 15, method: "getConversation" }));
    const byId = (id: number) => until(() => received.find((f) => f.kind === "result" && f.id === id));
    expect(await byId(11)).toMatchObject({ ok: true, result: { temperature: 0.7 } });
    expect(await byId(12)).toMatchObject({ ok: true, result: expect.any(Array) });
    expect(await byId(13)).toMatchObject({ ok: true, result: { mode: "web" } });
    expect(await byId(14)).toMatchObject({
      ok: false,
      error: { code: "BAD_REQUEST", message: "renameConversation needs params (id, title), but the call has none." },
    });
    expect(await byId(15)).toMatchObject({ ok: false, error: { code: "BAD_REQUEST", message: "getConversation needs params (id), but the call has none." } });
    socket.close();
  });

  it("answers bad calls with errors and survives garbage", async () => {
    const socket = await openSocket();
    const received = frames(socket);
    socket.send("this is not json");
    socket.send(JSON.stringify({ kind: "call", id: 3, method: "renameConversation", params: { id: "x", title: "" } }));
    socket.send(JSON.stringify({ kind: "call", id: 4, method: "dropDatabase", params: {} }));
    socket.send(JSON.stringify({ kind: "call", id: 5, method: 42 }));
    socket.send(JSON.stringify({ kind: "call", id: 6, method: "getConversation", params: { id: "missing" } }));
    socket.send(JSON.stringify({ kind: "call", id: 7, method: "getSettings", params: {} }));
    const byId = (id: number) => until(() => received.find((f) => f.kind === "result" && f.id === id));
    expect(await byId(3)).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    expect(await byId(4)).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
    expect(await byId(5)).toMatchObject({ ok: false, error: { code: "BAD_REQUEST", message: expect.stringMatching(/^Malformed call \(method: /) } });
    expect(await byId(6)).toMatchObject({ ok: false, error: { code: "NOT_FOUND", message: "That conversation no longer exists." } });
    expect(await byId(7)).toMatchObject({ ok: true, result: { temperature: 0.7 } });
    socket.close();
  });
});
