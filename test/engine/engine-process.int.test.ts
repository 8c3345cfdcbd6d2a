import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, type EngineToHostMessage } from "../../contracts/engine/protocol.js";
import { TEST_THREADS, repoPath, targetModel } from "../helpers/models.js";

/** Drives the built engine process over its IPC channel with raw protocol messages (as the host would). */
class RawEngine {
  readonly child: ChildProcess;
  readonly messages: EngineToHostMessage[] = [];
  private nextId = 1;
  private waiters: Array<() => void> = [];

  constructor() {
    this.child = fork(repoPath("dist/engine/main.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
    this.child.on("message", (message) => {
      this.messages.push(message as EngineToHostMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(message: unknown): void {
    this.child.send(message as never);
  }

  async waitFor<T extends EngineToHostMessage>(match: (m: EngineToHostMessage) => m is T, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error("timed out waiting for an engine message");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async request(method: string, params: unknown): Promise<Extract<EngineToHostMessage, { kind: "response" }>> {
    const id = this.nextId++;
    this.send({ kind: "request", id, method, params });
    return this.waitFor((m): m is Extract<EngineToHostMessage, { kind: "response" }> => m.kind === "response" && m.id === id);
  }
}

const engine = new RawEngine();
const cacheDir = mkdtempSync(path.join(os.tmpdir(), "tandem-engine-proc-"));

beforeAll(async () => {
  const hello = await engine.request("hello", {});
  expect(hello).toMatchObject({ ok: true, result: { protocolVersion: PROTOCOL_VERSION } });
});
afterAll(() => {
  if (engine.child.exitCode === null) engine.child.kill();
});

describe("engine process", () => {
  it("answers malformed and invalid messages with errors and stays up", async () => {
    engine.send({ hello: "world" }); // no id: logged, no reply possible
    engine.send("not even an object");
    const bad = await engine.request("generate", { messages: "nope" });
    expect(bad).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    const unknown = await engine.request("rm -rf", {});
    expect(unknown).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
    const early = await engine.request("loadModel", { modelPath: targetModel(), contextSize: 256, threads: 1 });
    expect(early).toMatchObject({ ok: false, error: { code: "NOT_INITIALISED" } });
    const noId = engine.messages.filter((m) => m.kind === "event" && m.event === "log");
    expect(noId.length).toBeGreaterThanOrEqual(2);
    const hello = await engine.request("hello", {});
    expect(hello.ok).toBe(true);
    expect(engine.child.exitCode).toBeNull();
  });

  it("initialises, loads a model with progress events, and streams a generation", async () => {
    const init = await engine.request("init", { gpu: "auto", cacheDir });
    expect(init).toMatchObject({ ok: true, result: { backend: "cpu" } });

    const notGguf = await engine.request("loadModel", { modelPath: repoPath("package.json"), contextSize: 256, threads: 1 });
    expect(notGguf).toMatchObject({ ok: false, error: { code: "NOT_GGUF" } });

    const loaded = await engine.request("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS });
    expect(loaded).toMatchObject({ ok: true, result: { contextSize: 256, threads: TEST_THREADS, threadsSource: "user", chatWrapper: "ChatML" } });
    const progress = engine.messages.filter((m) => m.kind === "event" && m.event === "modelLoadProgress");
    expect(progress.length).toBeGreaterThan(0);

    const generated = await engine.request("generate", {
      messageId: "p1",
      conversationId: "c1",
      messages: [{ role: "user", content: "Blessed are the poor in spirit." }],
      maxTokens: 24,
      sampling: { temperature: 0 },
    });
    expect(generated.ok).toBe(true);
    const result = (generated as { result: { text: string; stats: { tokens: number } } }).result;
    const streamed = engine.messages.flatMap((m) =>
      m.kind === "event" && m.event === "tokens" ? (m.data as { messageId: string; tokens: { text: string }[] }).tokens : [],
    );
    expect(streamed.length).toBe(result.stats.tokens);
    expect(streamed.map((t) => t.text).join("")).toBe(result.text);
  });

  it("shuts down cleanly on request", async () => {
    const exited = new Promise<number | null>((resolve) => engine.child.once("exit", (code) => resolve(code)));
    const reply = await engine.request("shutdown", {});
    expect(reply.ok).toBe(true);
    expect(await exited).toBe(0);
  });
});
