import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { LlamaModel } from "node-llama-cpp";
import { calibrateThreads, isDecisive, pickFastest, threadCandidates } from "../../engine/threads.js";

describe("thread choice", () => {
  it("tries 1, powers of two and the core count, never more than the cores", () => {
    expect(threadCandidates(1)).toEqual([1]);
    expect(threadCandidates(2)).toEqual([1, 2]);
    expect(threadCandidates(6)).toEqual([1, 2, 4, 6]);
    expect(threadCandidates(16)).toEqual([1, 2, 4, 8, 16]);
  });

  it("keeps the fewest threads unless more are clearly (>5%) faster", () => {
    expect(pickFastest({ 1: 506, 2: 60 })).toBe(1); // the 6M KJV model on 2 vCPUs
    expect(pickFastest({ 1: 26, 2: 39 })).toBe(2); // a ~1B model on 2 vCPUs
    expect(pickFastest({ 1: 100, 2: 104 })).toBe(1);
    expect(pickFastest({ 1: 10, 2: 20, 4: 20.5 })).toBe(2);
  });

  it("measures more rounds when one round is not decisive, and lets each candidate's median decide", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-threads-"));
    const modelPath = path.join(dir, "m.gguf");
    writeFileSync(modelPath, "x");
    // The first 1-thread run is interrupted (50 tok/s instead of ~500): alone it would pick 2 threads.
    const oneThread = [50, 500, 480];
    const calls: number[] = [];
    const measure = async (threads: number) => {
      calls.push(threads);
      return threads === 1 ? oneThread.shift()! : 60;
    };
    const result = await calibrateThreads({ model: {} as LlamaModel, modelPath, backend: "cpu", cacheDir: dir, measure, candidates: [1, 2] });
    expect(result.threads).toBe(1);
    // Round two runs in reverse order and is decisive: medians 275 against 60.
    expect(calls).toEqual([1, 2, 2, 1]);
    expect(result.measured).toEqual({ 1: 275, 2: 60 });
    expect(isDecisive({ 1: 100, 2: 104 })).toBe(false);
    expect(isDecisive({ 1: 26, 2: 39 })).toBe(true);
  });

  it("measures once, then answers from the cache (keyed by the model file)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-threads-"));
    const modelPath = path.join(dir, "m.gguf");
    writeFileSync(modelPath, "x");
    const measured: number[] = [];
    const measure = async (threads: number) => {
      measured.push(threads);
      return threads === 2 ? 40 : 25;
    };
    const model = {} as LlamaModel;
    const first = await calibrateThreads({ model, modelPath, backend: "cpu", cacheDir: dir, measure, candidates: [1, 2] });
    expect(first).toEqual({ threads: 2, measured: { 1: 25, 2: 40 }, source: "calibrated" });
    const second = await calibrateThreads({ model, modelPath, backend: "cpu", cacheDir: dir, measure, candidates: [1, 2] });
    expect(second.source).toBe("cached");
    expect(second.threads).toBe(2);
    expect(measured).toEqual([1, 2]);

    // Another backend is another measurement.
    const gpu = await calibrateThreads({ model, modelPath, backend: "cuda", cacheDir: dir, measure, candidates: [1, 2] });
    expect(gpu.source).toBe("calibrated");

    // A changed model file (new size) is measured again.
    writeFileSync(modelPath, "xy");
    expect((await calibrateThreads({ model, modelPath, backend: "cpu", cacheDir: dir, measure, candidates: [1, 2] })).source).toBe("calibrated");

    // A corrupt cache file is ignored and rewritten.
    writeFileSync(path.join(dir, "threads-v2.json"), "{not json");
    expect((await calibrateThreads({ model, modelPath, backend: "cpu", cacheDir: dir, measure, candidates: [1, 2] })).source).toBe("calibrated");
    expect(() => JSON.parse(readFileSync(path.join(dir, "threads-v2.json"), "utf8"))).not.toThrow();
  });
});
