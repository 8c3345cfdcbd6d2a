import { cp, readdir } from "node:fs/promises";
import path from "node:path";
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../../engine/engine.js";
import { KvPager } from "../../../engine/kv-cache/kv-pager.js";
import { modelContentHash } from "../../../engine/kv-cache/model-identity.js";
import { storeFolder } from "../../../engine/cache-layout.js";
import { KvStateStore, stateParamsOf } from "../../../engine/kv-cache/state-store.js";
import { makeModelPair } from "../../../engine/dev/synthetic/make-model.js";
import type { Token } from "node-llama-cpp";
import { TEST_THREADS, targetModel } from "../../helpers/models.js";
import { kjvEngine, tempDir, turn, verses } from "./helpers.js";
import { engineParams } from "../../../contracts/engine/protocol.js";

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

describe("saved states are only loaded by the model that made them, into contexts of the same KV layout", () => {
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
    await engine.loadModel(engineParams("loadModel", { modelPath: pair.target, contextSize: 256, threads: 1, gpuLayers: "auto" }), () => {});
    expect(warnings.join("\n")).toMatch(/saved by another model/);
    expect(await readdir(syntheticFolder)).toEqual([]);
    const reply = await turn(engine, "a", [{ role: "user", content: verses[0]! }]);
    expect(reply.result.stats.cache?.outcome).toBe("cold");
    expect((await readdir(kjvFolder)).length).toBe(2); // the KJV model's own state is untouched
  });

  it("a state from a context of another KV cache type is kept and never loaded (llama.cpp refuses it too)", async () => {
    const llama = await getLlama({ gpu: false });
    const model = await llama.loadModel({ modelPath: targetModel() });
    const cacheDir = tempDir("kv-type");
    const modelHash = await modelContentHash(targetModel(), cacheDir);
    const tokens = model.tokenize(verses[0]!) as Token[];
    try {
      const f16 = await model.createContext({ contextSize: 256, threads: TEST_THREADS, sequences: 1 });
      const saver = await KvStateStore.open({ cacheDir, modelHash, contextSize: 256, params: stateParamsOf(f16), warn: () => {} });
      const sequence = f16.getSequence();
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      const saved = await saver.save(sequence, "a");
      expect(saved?.params).toMatchObject({ sequences: 1, kvCacheKeyType: "F16", kvCacheValueType: "F16" });
      await f16.dispose();

      const q8 = await model.createContext({ contextSize: 256, threads: TEST_THREADS, sequences: 1, experimentalKvCacheKeyType: "Q8_0" });
      try {
        const warnings: string[] = [];
        const store = await KvStateStore.open({ cacheDir, modelHash, contextSize: 256, params: stateParamsOf(q8), warn: (m) => warnings.push(m) });
        expect(warnings.join("\n")).toMatch(/will not load it here: it was saved with other context parameters \(kvCacheKeyType F16, here Q8_0\)/);
        expect(store.forConversation("a")).toBeUndefined();
        const target = q8.getSequence();
        const pager = new KvPager([target], store);
        expect((await pager.acquire("a", tokens)).outcome).toBe("cold");
        expect(target.contextTokens).toEqual([]);
        expect(store.list()).toHaveLength(1); // kept for a context of its own type
        // What the check spares llama.cpp: it refuses the file itself ("mismatched key type"), without crashing.
        await expect(target.loadStateFromFile(path.join(store.folder, `${saved!.id}.state`), { acceptRisk: true })).rejects.toThrow();
      } finally {
        await q8.dispose();
      }
    } finally {
      await model.dispose();
      await llama.dispose();
    }
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

  it("never pages out a generating (pinned) slot: with every slot generating, the next conversation waits for a release", async () => {
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
      let waited = false;
      const waiting = pager.acquire("c", tokens).then((acquired) => {
        waited = true;
        return acquired;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(waited).toBe(false); // both slots generate: c waits
      // A second request on a generating conversation waits for its own slot too, never takes another's.
      let bAgain = false;
      const secondB = pager.acquire("b", tokens).then((acquired) => {
        bAgain = true;
        return acquired;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(bAgain).toBe(false);
      pager.release("b");
      const c = await waiting; // b is idle now: its slot, never a's
      expect(c.sequence).toBe(b.sequence);
      expect(pager.assignments).toEqual(["a", "c"]);
      expect(a.sequence.contextTokens).toEqual(tokens);
      pager.release("a");
      pager.release("c");
      const again = await pager.acquire("a", tokens);
      expect(again.outcome).toBe("slot-hit");
      // b's second request got a slot once one was free (c's: a's was taken again first).
      const b2 = await secondB;
      expect(b2.sequence).toBe(c.sequence);
      expect(pager.assignments).toEqual(["a", "b"]);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });

  it("gives a new conversation a slot next to a generating one, so concurrent replies can share a decode", async () => {
    const model = await llama.loadModel({ modelPath: targetModel() });
    const context = await model.createContext({ contextSize: 256, threads: TEST_THREADS, sequences: 3 });
    try {
      const cacheDir = tempDir("adjacent");
      const store = await KvStateStore.open({ cacheDir, modelHash: await modelContentHash(targetModel(), cacheDir), contextSize: 256, warn: () => {} });
      const sequences = [context.getSequence(), context.getSequence(), context.getSequence()];
      const pager = new KvPager(sequences, store);
      const tokens = model.tokenize(verses[0]!) as Token[];
      await pager.acquire("a", tokens); // slot 0
      const b = await pager.acquire("b", tokens); // slot 1
      await b.sequence.evaluateWithoutGeneratingNewTokens(tokens);
      pager.release("b");
      pager.release("a");
      // Only b's slot (1) is next to a's (0): c takes it, paging b out, rather than the empty slot 2.
      await pager.acquire("a", tokens);
      const c = await pager.acquire("c", tokens);
      expect(c.sequence).toBe(sequences[1]);
      expect(pager.assignments).toEqual(["a", "c", undefined]);
      expect(store.forConversation("b")).toBeDefined(); // b's state was saved before its slot was reused
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});
