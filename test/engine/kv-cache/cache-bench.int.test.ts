import { describe, expect, it } from "vitest";
import { runCacheBench } from "../../../engine/kv-cache/cache-bench.js";
import { targetModel } from "../../helpers/models.js";

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
});
