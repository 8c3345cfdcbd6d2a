import { describe, expect, it } from "vitest";
import { runCacheBench } from "../../../../engine/dev/bench/cache-bench.js";
import { makeModelPair } from "../../../../engine/dev/synthetic/make-model.js";
import { targetModel } from "../../../helpers/models.js";
import { tempDir } from "../../kv-cache/helpers.js";

describe("cache-bench", () => {
  it("measures every cache outcome at a length, with figures that reconcile", async () => {
    const result = await runCacheBench({ modelPath: targetModel(), lengths: [200], threads: 1, repeats: 1 });
    expect(result.threads).toBe(1);
    const [row] = result.rows;
    expect(row!.tokens).toBe(200);
    expect(row!.prefixReuseEvaluated).toBe(32);
    expect(row!.stateBytes).toBeGreaterThan(0);
    expect(row!.bytesPerToken).toBe(Math.round(row!.stateBytes / 200));
    for (const ms of Object.values(row!.ttftMs)) expect(ms).toBeGreaterThan(0);
    expect(row!.speedup.slotHit).toBeCloseTo(row!.ttftMs.cold / row!.ttftMs.slotHit, 0);
  });

  it("runs where node-llama-cpp pads the context (301 asked, 512 given): the saved state is restored, not refused", async () => {
    // What broke `cache-bench` on the 300M and 1B models: the store was opened for the requested size and refused
    // the states saved from the padded one. A tiny model trained on 1024 tokens pads the same way.
    const pair = await makeModelPair({ params: "3m", draftParams: "600k", agreement: 0.5, context: 1024, quant: "q8_0", vocab: 2048, outDir: tempDir("bench-padded"), threads: 1 });
    const log: string[] = [];
    const result = await runCacheBench({ modelPath: pair.target, lengths: [300], threads: 1, repeats: 1, log: (line) => log.push(line) });
    expect(result.contextSize).toBe(512);
    expect(result.rows[0]!.tokens).toBe(300);
    expect(result.rows[0]!.prefixReuseEvaluated).toBe(32);
    expect(log.join("\n")).not.toMatch(/Deleted|Kept|Did not load/);
  });
});
