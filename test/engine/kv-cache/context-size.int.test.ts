import { cp, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../../engine/engine.js";
import { stateIdFor } from "../../../engine/kv-cache/state-store.js";
import type { ChatMessage } from "../../../contracts/engine/protocol.js";
import { makeModelPair } from "../../../engine/dev/synthetic/make-model.js";
import { engineTracker, followUp, tempDir, turn, verses, type Turn } from "./helpers.js";
import { engineParams } from "../../../contracts/engine/protocol.js";

/**
 * Saved conversation states across restarts that change the context: a state loads into any context that holds its
 * tokens, whatever size it was saved from, and is refused (kept on disk, never loaded) when the context cannot hold
 * it or has another KV layout. The KJV model is trained on 256 tokens; node-llama-cpp pads a context size to a
 * multiple of 256 only when that stays below the trained size, so on this model `sequence.contextSize` is exactly
 * what was asked (192 stays 192, on 256 cells in llama.cpp; 512 stays 512).
 */

const { open, quit, track } = engineTracker();

const user = (text: string): ChatMessage[] => [{ role: "user", content: text }];

/** The second turn of a conversation in an engine that never pages: what any resumed run must reproduce. */
async function neverPaged(contextSize: number, first: ChatMessage[], firstReply: Turn, next: ChatMessage[]) {
  const { engine } = await open(tempDir(`ref-${contextSize}`), { contextSize });
  expect((await turn(engine, "a", first)).ids).toEqual(firstReply.ids);
  const expected = await turn(engine, "a", next);
  expect(expected.result.stats.cache?.outcome).toBe("slot-hit");
  return expected;
}

describe("saved states across a restart with another context size (real KJV model)", () => {
  for (const contextSize of [192, 512]) {
    it(`a conversation saved at context 256 resumes from disk at context ${contextSize}, token for token`, async () => {
      const cacheDir = tempDir(`resize-${contextSize}`);
      const first = user(verses[3]!);
      const before = (await open(cacheDir, { contextSize: 256 })).engine;
      const firstReply = await turn(before, "a", first);
      await quit(before); // saves the slot: a state of ~45 tokens from a 256-token context

      const next = followUp(first, firstReply, verses[4]!);
      const expected = await neverPaged(contextSize, first, firstReply, next);

      const { engine, warnings } = await open(cacheDir, { contextSize });
      expect(engine.loadedModel?.contextSize).toBe(contextSize); // not padded on this model (see above)
      const resumed = await turn(engine, "a", next);
      expect(warnings).toEqual([]);
      expect(resumed.result.stats.cache?.outcome).toBe("disk-restore");
      // Only the new turn is evaluated: the restored prefix is the whole saved conversation.
      expect(resumed.result.stats.cache?.restoredTokens).toBe(expected.result.stats.reusedPromptTokens);
      expect(resumed.result.stats.evaluatedPromptTokens).toBe(expected.result.stats.evaluatedPromptTokens);
      expect(resumed.result.stats.evaluatedPromptTokens).toBeLessThan(resumed.result.stats.promptTokens / 2);
      expect(resumed.ids).toEqual(expected.ids);
    });
  }

  it("a state saved at context 512 that holds more tokens than a 256-token context is kept, not loaded; the reply re-prefills", async () => {
    const cacheDir = tempDir("too-long");
    // Six turns: about 300 tokens, more than a 256-token context holds.
    const before = (await open(cacheDir, { contextSize: 512 })).engine;
    let history = user(verses[0]!);
    for (let i = 1; i <= 6; i++) history = followUp(history, await turn(before, "a", history), verses[i % verses.length]!);
    await quit(before);
    const folder = path.join(cacheDir, "kv", (await readdir(path.join(cacheDir, "kv")))[0]!);
    const kept = await readdir(folder);
    expect(kept).toHaveLength(2);

    const reference = (await open(tempDir("too-long-ref"), { contextSize: 256 })).engine;
    const expected = await turn(reference, "a", history);
    expect(expected.result.stats.truncatedMessages).toBeGreaterThan(0); // the oldest turns no longer fit

    const { engine, warnings } = await open(cacheDir, { contextSize: 256 });
    const id = stateIdFor("a");
    expect(warnings.join("\n")).toMatch(
      new RegExp(`Kept the saved conversation state ${id} on disk but will not load it here: its \\d{3} tokens do not fit this context \\(256 tokens, of which 255 usable\\)`),
    );
    expect(engine.cacheInfo().diskStates).toBe(1); // still on disk, for a context that holds it
    expect((await readdir(folder)).sort()).toEqual(kept.sort());
    const again = await turn(engine, "a", history);
    expect(again.result.stats.cache).toMatchObject({ outcome: "cold", restoredTokens: 0 });
    expect(again.result.stats.evaluatedPromptTokens).toBe(again.result.stats.promptTokens);
    expect(again.ids).toEqual(expected.ids);
  });

  it("a state saved with another slot count is kept, not loaded (llama.cpp would refuse it), and loads again with the same count", async () => {
    const cacheDir = tempDir("slots");
    const first = user(verses[6]!);
    const before = (await open(cacheDir, { slots: 2 })).engine;
    const firstReply = await turn(before, "a", first);
    await quit(before);
    const next = followUp(first, firstReply, verses[7]!);
    const expected = await neverPaged(256, first, firstReply, next);

    // A copy of the cache, as the next launch would find it, opened with one slot.
    const copy = tempDir("slots-copy");
    await cp(cacheDir, copy, { recursive: true });
    const one = await open(copy, { slots: 1 });
    expect(one.warnings.join("\n")).toMatch(/will not load it here: it was saved with other context parameters \(sequences 2, here 1\)/);
    const cold = await turn(one.engine, "a", next);
    expect(cold.result.stats.cache?.outcome).toBe("cold");
    expect(cold.ids).toEqual(expected.ids);

    // The original, opened with two slots again: restored.
    const two = await open(cacheDir, { slots: 2 });
    expect(two.warnings).toEqual([]);
    const resumed = await turn(two.engine, "a", next);
    expect(resumed.result.stats.cache?.outcome).toBe("disk-restore");
    expect(resumed.ids).toEqual(expected.ids);
  });

  it("on a model whose context sizes node-llama-cpp pads (300 asked, 512 given; 200 asked, 256 given), a state saved at one resumes at the other", async () => {
    // Trained on 1024 tokens: sizes are padded to a multiple of 256 that stays below that, unlike on the KJV model.
    const pair = await makeModelPair({ params: "3m", draftParams: "600k", agreement: 0.5, context: 1024, quant: "q8_0", vocab: 2048, outDir: tempDir("padded-model"), threads: 1 });
    const synthetic = async (cacheDir: string, contextSize: number) => {
      const warnings: string[] = [];
      const engine = new Engine((level, message) => void (level === "warn" && warnings.push(message)));
      track(engine);
      await engine.init({ gpu: "cpu", cacheDir });
      const loaded = await engine.loadModel(engineParams("loadModel", { modelPath: pair.target, contextSize, threads: 1, gpuLayers: "auto", cacheSlots: 1 }), () => {});
      return { engine, warnings, contextSize: loaded.contextSize };
    };
    const first = user(verses[0]!);
    const reference = await synthetic(tempDir("padded-ref"), 200);
    expect(reference.contextSize).toBe(256);
    const firstReply = await turn(reference.engine, "a", first, "off", 12);
    const next = followUp(first, firstReply, verses[1]!);
    const expected = await turn(reference.engine, "a", next, "off", 12);

    const cacheDir = tempDir("padded");
    const before = await synthetic(cacheDir, 300);
    expect(before.contextSize).toBe(512);
    expect((await turn(before.engine, "a", first, "off", 12)).ids).toEqual(firstReply.ids);
    await quit(before.engine);

    const after = await synthetic(cacheDir, 200);
    const resumed = await turn(after.engine, "a", next, "off", 12);
    expect(after.warnings).toEqual([]);
    expect(resumed.result.stats.cache?.outcome).toBe("disk-restore");
    expect(resumed.result.stats.evaluatedPromptTokens).toBe(expected.result.stats.evaluatedPromptTokens);
    expect(resumed.ids).toEqual(expected.ids);
  });
});
