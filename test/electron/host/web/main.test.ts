import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { EngineChild } from "../../../../electron/host/types.js";
import { parsePort, startWebMode } from "../../../../electron/host/web/main.js";
import type { WebServerFrame } from "../../../../contracts/window/index.js";
import { isProcessAlive, waitFor, writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

describe("parsePort", () => {
  it("reads --port, --port= and TANDEM_PORT, defaulting to 0", () => {
    expect(parsePort([], {})).toBe(0);
    expect(parsePort(["--port", "8123"], {})).toBe(8123);
    expect(parsePort(["--port=8124"], {})).toBe(8124);
    expect(parsePort([], { TANDEM_PORT: "8125" })).toBe(8125);
    expect(parsePort(["--port", "8126"], { TANDEM_PORT: "8125" })).toBe(8126);
  });

  it("rejects nonsense", () => {
    expect(() => parsePort(["--port", "http"], {})).toThrow(/Invalid port/);
    expect(() => parsePort(["--port", "70000"], {})).toThrow(/Invalid port/);
    expect(() => parsePort([], { TANDEM_PORT: "-1" })).toThrow(/Invalid port/);
  });
});

describe("startWebMode", () => {
  it("serves the API with a fresh token and shuts the engine down on close", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-web-mode-"));
    const staticDir = join(root, "renderer");
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, "index.html"), "<!doctype html>");
    const pids: number[] = [];
    const web = await startWebMode({
      dataDir: join(root, "data"),
      staticDir,
      engineEntry: writeFakeEngine(),
      spawner: {
        spawn(options): EngineChild {
          const child = nodeForkSpawner.spawn(options);
          if (child.pid) pids.push(child.pid);
          return child;
        },
      },
      logger: recordingLogger(),
      hostInternals: { env: { PATH: process.env.PATH }, supervisorTiming: { pingIntervalMs: 0 } },
    });
    try {
      await web.ready;
      expect(web.token).toMatch(/^[0-9a-f]{64}$/);
      expect(web.url).toBe(`http://127.0.0.1:${web.port}/?token=${web.token}`);
      const socket = new WebSocket(`ws://127.0.0.1:${web.port}/api?token=${web.token}`, { origin: `http://127.0.0.1:${web.port}` });
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      const reply = new Promise<WebServerFrame>((resolve) => socket.once("message", (data: Buffer) => resolve(JSON.parse(data.toString()) as WebServerFrame)));
      socket.send(JSON.stringify({ kind: "call", id: 1, method: "getAppInfo", params: {} }));
      expect(await reply).toMatchObject({ kind: "result", id: 1, ok: true, result: { mode: "web", dataDir: join(root, "data"), canPickFolder: false } });
      socket.close();
    } finally {
      await web.close();
    }
    expect(pids).toHaveLength(1);
    await waitFor(() => !isProcessAlive(pids[0]), 3_000, "the engine to exit");
  });
});

describe("startWebMode and the database", () => {
  const options = (dataDir: string, staticDir: string) => ({
    dataDir,
    staticDir,
    engineEntry: writeFakeEngine(),
    logger: recordingLogger(),
    hostInternals: { env: { PATH: process.env.PATH }, supervisorTiming: { pingIntervalMs: 0 } },
  });
  const staticFolder = (root: string) => {
    const dir = join(root, "renderer");
    mkdirSync(dir);
    writeFileSync(join(dir, "index.html"), "<!doctype html>");
    return dir;
  };

  it("fails before serving anything (no URL, no engine) when the database can't be opened", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-web-db-"));
    const dataDir = join(root, "data");
    mkdirSync(join(dataDir, "tandem.db"), { recursive: true });
    const spawned: string[] = [];
    const failure = await startWebMode({
      ...options(dataDir, staticFolder(root)),
      spawner: {
        spawn(spawnOptions): EngineChild {
          spawned.push(spawnOptions.entry);
          return nodeForkSpawner.spawn(spawnOptions);
        },
      },
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      code: "DATABASE_UNAVAILABLE",
      message: `Tandem can't open its database ${join(dataDir, "tandem.db")}: that path is a folder, not a database file.`,
    });
    expect(spawned).toEqual([]);
  });

  it("serves a damaged database (the page shows the recovery screen) and says so", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-web-db-"));
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "tandem.db"), "not a database ".repeat(400));
    const web = await startWebMode({ ...options(dataDir, staticFolder(root)), spawner: nodeForkSpawner });
    try {
      expect(web.database).toMatchObject({ state: "damaged", problem: "not-a-database" });
      await web.ready;
      expect((await web.host.api.getEngineStatus({})).state).toBe("ready");
      const page = await fetch(web.url);
      expect(page.status).toBe(200);
    } finally {
      await web.close();
    }
  });
});
