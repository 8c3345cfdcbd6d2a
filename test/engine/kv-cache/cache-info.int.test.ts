import { readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine, type CacheOutcomeReport } from "../../../engine/engine.js";
import { TEST_THREADS, targetModel } from "../../helpers/models.js";
import { tempDir, verses } from "./helpers.js";
import { engineParams } from "../../../contracts/engine/protocol.js";

describe("cache slots, info, clear and outcome reports with the real KJV model", () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  it("chooses the slots from memory, reports the outcome before the reply ends, and clears the disk", async () => {
    const cacheDir = tempDir("info");
    engine = new Engine();
    await engine.init({ gpu: "cpu", cacheDir });
    expect(engine.cacheInfo()).toMatchObject({ slots: 0, slotsInUse: 0, diskBytes: 0, diskStates: 0 });
    const loaded = await engine.loadModel(
      engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto", cacheDiskBudgetBytes: 50_000_000 }),
      () => {},
    );
    // A 6M model at 256 tokens is a few MB per slot: "auto" takes the maximum.
    expect(loaded.cacheSlots).toBe(8);
    expect(loaded.cacheMemoryBytes).toBeGreaterThan(0);
    expect(engine.cacheInfo()).toEqual({ slots: 8, slotsInUse: 0, diskBytes: 0, diskStates: 0, diskBudgetBytes: 50_000_000, memoryBytes: loaded.cacheMemoryBytes });

    const events: Array<{ report: CacheOutcomeReport; tokensBefore: number }> = [];
    let streamed = 0;
    const ask = (conversationId: string, content: string) =>
      engine!.generate(
        engineParams("generate", { messageId: `g-${conversationId}-${streamed}`, conversationId, messages: [{ role: "user", content }], maxTokens: 12, sampling: { temperature: 0 } }),
        (tokens) => (streamed += tokens.length),
        { onCacheOutcome: (report) => events.push({ report, tokensBefore: streamed }) },
      );
    const first = await ask("a", verses[0]!);
    expect(events).toHaveLength(1);
    expect(events[0]!.tokensBefore).toBe(0); // reported before the first token streamed
    expect(events[0]!.report).toMatchObject({ outcome: "cold", restoredTokens: 0, evaluatedTokens: first.stats.promptTokens });
    expect(events[0]!.report.ms).toBeGreaterThan(0);
    expect(events[0]!.report.ms).toBeLessThanOrEqual(first.stats.timeToFirstTokenMs + 1);

    const again = await ask("a", verses[0]!);
    expect(events[1]!.report).toMatchObject({ outcome: "slot-hit", restoredTokens: again.stats.reusedPromptTokens, evaluatedTokens: again.stats.evaluatedPromptTokens });
    expect(again.stats.cache?.outcome).toBe("slot-hit");
    expect(engine.cacheInfo().slotsInUse).toBe(1);

    // Unloading pages the conversation out to disk; the next load sees its state.
    await engine.unloadModel();
    await engine.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, cacheSlots: 2 }), () => {});
    const info = engine.cacheInfo();
    expect(info).toMatchObject({ slots: 2, slotsInUse: 0, diskStates: 1 });
    expect(info.diskBytes).toBeGreaterThan(0);

    const cleared = await engine.clearCache();
    expect(cleared).toEqual({ deletedStates: 1, freedBytes: expect.any(Number) });
    expect(cleared.freedBytes).toBeGreaterThanOrEqual(info.diskBytes);
    expect(engine.cacheInfo()).toMatchObject({ diskStates: 0, diskBytes: 0 });
    const kv = path.join(cacheDir, "kv");
    expect(readdirSync(kv).flatMap((folder) => readdirSync(path.join(kv, folder)))).toEqual([]);
    await ask("a", verses[0]!);
    expect(events.at(-1)!.report.outcome).toBe("cold");
  });
});
