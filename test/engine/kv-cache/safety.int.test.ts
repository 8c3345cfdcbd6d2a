import { cp, readdir } from "node:fs/promises";
import path from "node:path";
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../../engine/engine.js";
import { KvPager } from "../../../engine/kv-cache/kv-pager.js";
import { modelContentHash } from "../../../engine/kv-cache/model-identity.js";
import { KvStateStore, storeFolder } from "../../../engine/kv-cache/state-store.js";
import { makeModelPair } from "../../../engine/synthetic/make-model.js";
import type { Token } from "node-llama-cpp";
import { TEST_THREADS, targetModel } from "../../helpers/models.js";
import { kjvEngine, tempDir, turn, verses } from "./helpers.js";

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.dispose();
});

/** An engine with the KJV model whose conversation "a" was saved to disk, then disposed. */
async function savedConversation(cacheDir: string): Promise<string> {
  const { engine } = await kjvEngine(cacheDir);
  await turn(engine, "a", [{ role: "user", content: verses[0]! }]);
  await engine.dispose(); // saves the slot
  return path.join(cacheDir, "kv", (await readdir(path.join(cacheDir, "kv")))[0]!);
}

describe("saved states are only loaded into the model and context that made them", () => {
  it("a state from another model is refused and deleted, never loaded", async () => {
    const cacheDir = tempDir("foreign");
    const kjvFolder = await savedConversation(cacheDir);
    const pair = await makeModelPair({ params: "3m", draftParams: "600k", agreement: 0.5, context: 256, quant: "q8_0", vocab: 2048, outDir: tempDir("synthetic"), threads: 1 });
    // Plant the KJV state where the synthetic model looks for its own (as a copied folder or a hash collision would).
    const syntheticFolder = storeFolder(cacheDir, await modelContentHash(pair.target, cacheDir));
    await cp(kjvFolder, syntheticFolder, { recursive: true });

    const warnings: string[] = [];
    const engine = new Engine((level, message) => void (level === "warn" && warnings.push(message)));
    engines.push(engine);
    await engine.init({ gpu: "cpu", cacheDir });
    await engine.loadModel({ modelPath: pair.target, contextSize: 256, threads: 1, gpuLayers: "auto" }, () => {});
    expect(warnings.join("\n")).toMatch(/saved by another model/);
    expect(await readdir(syntheticFolder)).toEqual([]);
    const reply = await turn(engine, "a", [{ role: "user", content: verses[0]! }]);
    expect(reply.result.stats.cache?.outcome).toBe("cold");
    expect((await readdir(kjvFolder)).length).toBe(2); // the KJV model's own state is untouched
  });

  it("a state saved with a larger context is refused under a smaller one", async () => {
    const cacheDir = tempDir("smaller");
    const folder = await savedConversation(cacheDir);
    const { engine, warnings } = await kjvEngine(cacheDir, { contextSize: 128 });
    engines.push(engine);
    expect(warnings.join("\n")).toMatch(/context \(256\) is larger than this one \(128\)/);
    expect(await readdir(folder)).toEqual([]);
    expect((await turn(engine, "a", [{ role: "user", content: verses[0]! }])).result.stats.cache?.outcome).toBe("cold");
  });
});

describe("KvPager slots", () => {
  let llama: Llama;
  beforeAll(async () => {
    llama = await getLlama({ gpu: false });
  });
  afterAll(async () => {
    await llama?.dispose();
  });

  it("never pages out a generating (pinned) slot, and says so when every slot is generating", async () => {
    const model = await llama.loadModel({ modelPath: targetModel() });
    const context = await model.createContext({ contextSize: 256, threads: TEST_THREADS, sequences: 2 });
    try {
      const cacheDir = tempDir("pinned");
      const store = await KvStateStore.open({ cacheDir, modelHash: await modelContentHash(targetModel(), cacheDir), contextSize: 256, warn: () => {} });
      const pager = new KvPager([context.getSequence(), context.getSequence()], store);
      const tokens = model.tokenize(verses[0]!) as Token[];
      const a = await pager.acquire("a", tokens);
      await a.sequence.evaluateWithoutGeneratingNewTokens(tokens);
      const b = await pager.acquire("b", tokens); // a is pinned: b gets the other slot
      expect(b.sequence).not.toBe(a.sequence);
      await expect(pager.acquire("c", tokens)).rejects.toThrow(/every slot is generating/);
      pager.release("b");
      const c = await pager.acquire("c", tokens); // b is idle now: its slot, never a's
      expect(c.sequence).toBe(b.sequence);
      expect(pager.assignments).toEqual(["a", "c"]);
      expect(a.sequence.contextTokens).toEqual(tokens);
      pager.release("a");
      pager.release("c");
      const again = await pager.acquire("a", tokens);
      expect(again.outcome).toBe("slot-hit");
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});
