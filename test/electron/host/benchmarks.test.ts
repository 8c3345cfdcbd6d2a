/** The A/B benchmark in the host over the fake engine: BUSY rules both ways, progress, cancel, persistence. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { findPromptsDir, readPromptSet } from "../../../electron/host/benchmarks.js";
import { createHost } from "../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../electron/host/types.js";
import { type WindowEvent, type WindowEventData } from "../../../contracts/window/index.js";
import { waitFor, writeFakeEngine } from "./fake-engine.js";
import { recordingLogger } from "./test-logger.js";
import { apiError } from "./api-error.js";

let entry: string;
let modelPath: string;
let draftPath: string;
const hosts: Host[] = [];

beforeAll(() => {
  entry = writeFakeEngine();
  const modelsDir = mkdtempSync(join(tmpdir(), "tandem-bench-models-"));
  modelPath = join(modelsDir, "kjv-fake.gguf");
  draftPath = join(modelsDir, "kjv-fake-draft.gguf");
  writeFileSync(modelPath, "fake");
  writeFileSync(draftPath, "fake");
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function makeHost(fakeEnv: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), "tandem-bench-host-"))) {
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "test" },
    {
      logger: recordingLogger(),
      env: { PATH: process.env.PATH, ...fakeEnv },
      supervisorTiming: { pingIntervalMs: 0, backoffBaseMs: 20, stopTimeoutMs: 500 },
      persistIntervalMs: 50,
    },
  );
  hosts.push(host);
  const events: Array<{ event: WindowEvent; data: unknown }> = [];
  host.onEvent((event, data) => events.push({ event, data }));
  const of = <E extends WindowEvent>(event: E) => events.filter((e) => e.event === event).map((e) => e.data as WindowEventData<E>);
  return { host, dataDir, of };
}

async function started(fakeEnv: Record<string, string> = {}, dataDir?: string) {
  const harness = makeHost(fakeEnv, dataDir);
  await harness.host.start();
  await harness.host.api.loadModel({ path: modelPath });
  return harness;
}

describe("built-in prompt sets", () => {
  it("are found from the source tree and hold one prompt per line", async () => {
    const dir = findPromptsDir();
    const free = await readPromptSet(dir, "free-chat");
    const grounded = await readPromptSet(dir, "input-grounded");
    expect(free.length).toBeGreaterThanOrEqual(10);
    expect(grounded.length).toBeGreaterThanOrEqual(10);
    expect(grounded.length).toBeLessThanOrEqual(12);
    for (const prompt of grounded) expect(prompt).toMatch(/["{:]/); // each carries a passage to work on
    expect(free.some((p) => p.startsWith("#"))).toBe(false);
  });
});

describe("runBenchmark", () => {
  it("runs the chosen modes on the prompt set, forwards progress, and saves the result", async () => {
    const { host, of } = await started();
    await host.api.setDraftModel({ path: draftPath });
    const { result } = await host.api.runBenchmark({ promptSet: "free-chat", modes: ["draft", "lookup"], limit: 3, maxTokens: 16 });
    expect(result).toMatchObject({ model: "kjv-fake.gguf", draft: "kjv-fake-draft.gguf", promptSet: "free-chat" });
    expect(result.reports.map((r) => [r.mode, r.prompts, r.maxTokens])).toEqual([
      ["draft", 3, 16],
      ["lookup", 3, 16],
    ]);
    expect(of("benchmarkProgress")).toEqual([
      { done: 1, total: 6, mode: "draft" },
      { done: 2, total: 6, mode: "draft" },
      { done: 3, total: 6, mode: "draft" },
      { done: 4, total: 6, mode: "lookup" },
      { done: 5, total: 6, mode: "lookup" },
      { done: 6, total: 6, mode: "lookup" },
    ]);
    expect(await host.api.listBenchmarks({})).toEqual([result]);
  });

  it("keeps results across restarts, newest first", async () => {
    const first = await started({ TANDEM_FAKE_BENCH_TPS: "80" });
    const a = (await first.host.api.runBenchmark({ promptSet: "input-grounded", modes: ["lookup"], limit: 1 })).result;
    const b = (await first.host.api.runBenchmark({ promptSet: "free-chat", modes: ["ngram"], limit: 1 })).result;
    expect(a.reports[0]!.maxTokens).toBe(64); // the default
    await first.host.dispose();
    const second = makeHost({}, first.dataDir);
    const saved = await second.host.api.listBenchmarks({});
    expect(saved.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(saved[1]).toEqual(a);
  });

  it("is BUSY while a reply is generating, and a reply is BUSY while a benchmark runs", async () => {
    const { host, of } = await started({ TANDEM_FAKE_STEP_MS: "40", TANDEM_FAKE_BENCH_STEP_MS: "40" });
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "one two three four five six" });
    expect((await apiError(host.api.runBenchmark({ promptSet: "free-chat", modes: ["lookup"], limit: 1 }))).code).toBe("BUSY");
    await waitFor(() => of("messageCompleted").some((e) => e.message.id === assistantMessage.id), 10_000);

    const running = host.api.runBenchmark({ promptSet: "free-chat", modes: ["lookup"], limit: 4 });
    await waitFor(() => of("benchmarkProgress").length > 0, 5_000, "first progress");
    const busy = await apiError(host.api.sendMessage({ conversationId: conversation.id, content: "again" }));
    expect(busy.code).toBe("BUSY");
    expect(busy.message).toMatch(/benchmark is running/);
    expect((await apiError(host.api.runBenchmark({ promptSet: "free-chat", modes: ["lookup"] }))).code).toBe("BUSY");
    expect((await apiError(host.api.loadModel({ path: modelPath }))).code).toBe("BUSY");
    await running;
    // Idle again: replies work.
    await host.api.sendMessage({ conversationId: conversation.id, content: "after" });
  });

  it("cancels with ABORTED, saves nothing, and leaves the host usable", async () => {
    const { host, of } = await started({ TANDEM_FAKE_BENCH_STEP_MS: "50" });
    expect(await host.api.cancelBenchmark({})).toEqual({ cancelled: false });
    const running = apiError(host.api.runBenchmark({ promptSet: "free-chat", modes: ["lookup", "ngram"] }));
    await waitFor(() => of("benchmarkProgress").length > 0, 5_000, "first progress");
    expect(await host.api.cancelBenchmark({})).toEqual({ cancelled: true });
    const error = await running;
    expect(error.code).toBe("ABORTED");
    expect(error.message).toBe("The benchmark was cancelled.");
    expect(await host.api.listBenchmarks({})).toEqual([]);
    const { result } = await host.api.runBenchmark({ promptSet: "free-chat", modes: ["lookup"], limit: 1 });
    expect(result.reports).toHaveLength(1);
  });

  it("needs a model, and a draft model for the draft mode", async () => {
    const { host } = makeHost();
    await host.start();
    expect((await apiError(host.api.runBenchmark({ promptSet: "free-chat", modes: ["lookup"] }))).code).toBe("NO_MODEL");
    await host.api.loadModel({ path: modelPath });
    expect((await apiError(host.api.runBenchmark({ promptSet: "free-chat", modes: ["draft"] }))).code).toBe("NO_DRAFT_MODEL");
    expect((await apiError(host.api.runBenchmark({ promptSet: "free-chat", modes: [] }))).code).toBe("BAD_REQUEST");
  });
});
