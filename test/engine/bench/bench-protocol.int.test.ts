import { fork } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchReport, type EngineToHostMessage } from "../../../contracts/engine/protocol.js";
import { TEST_THREADS, repoPath, sharedModel, targetModel } from "../../helpers/models.js";

type Response = Extract<EngineToHostMessage, { kind: "response" }>;
type Event = Extract<EngineToHostMessage, { kind: "event" }>;

/** The built engine process driven over its IPC channel, as the host drives it. */
const child = fork(repoPath("dist/engine/main.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
const messages: EngineToHostMessage[] = [];
const waiters = new Set<() => void>();
child.on("message", (message) => {
  messages.push(message as EngineToHostMessage);
  for (const wake of waiters) wake();
});
let nextId = 1;

async function waitFor<T extends EngineToHostMessage>(match: (m: EngineToHostMessage) => m is T, timeoutMs = 110_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = messages.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error("timed out waiting for an engine message");
    await new Promise<void>((resolve) => {
      const wake = () => {
        waiters.delete(wake);
        resolve();
      };
      waiters.add(wake);
      setTimeout(wake, 200);
    });
  }
}

function request(method: string, params: unknown): Promise<Response> {
  const id = nextId++;
  child.send({ kind: "request", id, method, params });
  return waitFor((m): m is Response => m.kind === "response" && m.id === id);
}

const progressOf = (benchmarkId: string) =>
  messages.filter((m): m is Event => m.kind === "event" && m.event === "benchmarkProgress" && (m.data as { benchmarkId: string }).benchmarkId === benchmarkId).map((m) => m.data);

const cacheDir = mkdtempSync(path.join(os.tmpdir(), "tandem-bench-proto-"));

beforeAll(async () => {
  expect((await request("hello", {})).ok).toBe(true);
  expect((await request("init", { gpu: "auto", cacheDir })).ok).toBe(true);
  expect((await request("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS })).ok).toBe(true);
  expect((await request("loadDraftModel", { modelPath: sharedModel("kjv-chat-draft-1m.gguf"), threads: TEST_THREADS })).ok).toBe(true);
});
afterAll(() => {
  if (child.exitCode === null) child.kill();
});

const PROMPTS = ["The LORD is my shepherd; I shall not want.", "Blessed are the meek: for they shall inherit the earth."];

describe("runBenchmark over the protocol", () => {
  it("benches draft and ngram on the loaded pair: identical outputs, counters that reconcile, progress per prompt", async () => {
    const response = await request("runBenchmark", { benchmarkId: "b1", prompts: PROMPTS, modes: ["draft", "ngram"], maxTokens: 24, maxDraftTokens: 8 });
    expect(response, JSON.stringify(response)).toMatchObject({ ok: true });
    const result = (response as Extract<Response, { ok: true }>).result as { benchmarkId: string; reports: unknown[] };
    expect(result.benchmarkId).toBe("b1");
    const reports = result.reports.map((r) => BenchReport.parse(r));
    expect(reports.map((r) => r.mode)).toEqual(["draft", "ngram"]);
    for (const report of reports) {
      expect(report).toMatchObject({ model: "kjv-chat-6m.gguf", draft: "kjv-chat-draft-1m.gguf", prompts: 2, maxTokens: 24, identicalOutputs: true });
      expect(report.machine.threads).toBe(TEST_THREADS); // the model's own threads
      const s = report.speculative;
      expect(s.proposed).toBe(s.accepted + s.rejected);
      if (s.proposed > 0) expect(s.acceptanceRate).toBeCloseTo(s.accepted / s.proposed, 2);
      expect(report.baseline.tokens).toBe(s.tokens);
      expect(report.speedup).toBeCloseTo(s.tokensPerSecond / report.baseline.tokensPerSecond, 1);
    }
    expect(reports[0]!.speculative.proposed).toBeGreaterThan(0);
    expect(progressOf("b1")).toEqual([
      { benchmarkId: "b1", done: 1, total: 4, mode: "draft" },
      { benchmarkId: "b1", done: 2, total: 4, mode: "draft" },
      { benchmarkId: "b1", done: 3, total: 4, mode: "ngram" },
      { benchmarkId: "b1", done: 4, total: 4, mode: "ngram" },
    ]);
    // No bench reply taught the learned n-gram table (it would have been saved under cacheDir/ngram).
    expect(existsSync(path.join(cacheDir, "ngram"))).toBe(false);
  });

  it("cancels with ABORTED and leaves the engine usable", async () => {
    const running = request("runBenchmark", { benchmarkId: "b2", prompts: [...PROMPTS, ...PROMPTS, ...PROMPTS], modes: ["draft"], maxTokens: 64 });
    await waitFor((m): m is Event => m.kind === "event" && m.event === "benchmarkProgress" && (m.data as { benchmarkId: string }).benchmarkId === "b2");
    expect(await request("cancelBenchmark", { benchmarkId: "b2" })).toMatchObject({ ok: true, result: { cancelled: true } });
    expect(await running).toMatchObject({ ok: false, error: { code: "ABORTED" } });
    expect(progressOf("b2").length).toBeLessThan(6);
    expect(await request("cancelBenchmark", { benchmarkId: "b2" })).toMatchObject({ ok: true, result: { cancelled: false } });

    const reply = await request("generate", {
      messageId: "after-bench",
      conversationId: "s",
      messages: [{ role: "user", content: PROMPTS[0] }],
      maxTokens: 8,
      sampling: { temperature: 0 },
      speculation: { mode: "draft", maxDraftTokens: 4 },
    });
    expect(reply).toMatchObject({ ok: true, result: { messageId: "after-bench" } });
  });
});
