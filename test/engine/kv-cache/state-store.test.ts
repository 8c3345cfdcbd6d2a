import { mkdtempSync } from "node:fs";
import { readdir, readFile, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LlamaContextSequence } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { storeFolder } from "../../../engine/cache-layout.js";
import { KvStateStore, stateIdFor, type KvStateStoreOptions } from "../../../engine/kv-cache/state-store.js";

/**
 * The store's file handling with a stand-in sequence (its "state" is its tokens as JSON padded to a size), so
 * budgets, validation and failures are tested without a model. The real-model tests cover llama.cpp's files.
 */
class FakeSequence {
  contextTokens: number[] = [];
  loads = 0;
  constructor(
    readonly contextSize = 256,
    private readonly bytesPerToken = 100,
  ) {}
  async saveStateToFile(filePath: string): Promise<{ fileSize: number }> {
    const body = JSON.stringify(this.contextTokens).padEnd(this.contextTokens.length * this.bytesPerToken, " ");
    await writeFile(filePath, body);
    return { fileSize: body.length };
  }
  async loadStateFromFile(filePath: string): Promise<void> {
    this.loads++;
    this.contextTokens = JSON.parse(await readFile(filePath, "utf8")) as number[];
  }
  async clearHistory(): Promise<void> {
    this.contextTokens = [];
  }
}

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);
const asSequence = (fake: FakeSequence) => fake as unknown as LlamaContextSequence;

function setup(overrides: Partial<KvStateStoreOptions> = {}) {
  const warnings: string[] = [];
  const options: KvStateStoreOptions = {
    cacheDir: overrides.cacheDir ?? mkdtempSync(path.join(os.tmpdir(), "tandem-kv-store-")),
    modelHash: HASH_A,
    contextSize: 256,
    warn: (message) => warnings.push(message),
    ...overrides,
  };
  return { options, warnings, open: () => KvStateStore.open(options) };
}

async function saveTokens(store: KvStateStore, key: string, tokens: number[]) {
  const fake = new FakeSequence();
  fake.contextTokens = tokens;
  return store.save(asSequence(fake), key);
}

describe("KvStateStore", () => {
  it("saves, survives a reopen, and loads back the same tokens", async () => {
    const { open, options } = setup();
    const store = await open();
    const saved = await saveTokens(store, "chat-1", [1, 2, 3]);
    expect(saved?.bytes).toBe(300);
    expect(await readdir(storeFolder(options.cacheDir, HASH_A))).toEqual(expect.arrayContaining([`${saved!.id}.json`, `${saved!.id}.state`]));

    const reopened = await open();
    expect(reopened.forConversation("chat-1")?.tokens).toEqual([1, 2, 3]);
    const target = new FakeSequence();
    expect(await reopened.load(stateIdFor("chat-1"), asSequence(target))).toBe(true);
    expect(target.contextTokens).toEqual([1, 2, 3]);
  });

  it("evicts least recently used states beyond the disk budget (a load counts as a use)", async () => {
    const { open } = setup({ budgetBytes: 2500 });
    const store = await open();
    await saveTokens(store, "a", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]); // 1000 bytes each
    await saveTokens(store, "b", [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(await store.load(stateIdFor("a"), asSequence(new FakeSequence()))).toBe(true); // a is now newer than b
    await saveTokens(store, "c", [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect(store.list().map((s) => s.sessionKey).sort()).toEqual(["a", "c"]);
    expect(store.totalBytes).toBe(2000);
    expect((await open()).list().map((s) => s.sessionKey).sort()).toEqual(["a", "c"]);
  });

  it("refuses and deletes a state from another model without loading it", async () => {
    const { options, open } = setup();
    const store = await open();
    const saved = await saveTokens(store, "chat", [5, 6, 7]);
    // Same folder, different model identity: what a hash-prefix collision or a copied file would look like.
    const other = setup({ cacheDir: options.cacheDir, modelHash: HASH_A.slice(0, 16) + "c".repeat(48) });
    const foreign = await other.open();
    expect(foreign.list()).toEqual([]);
    expect(other.warnings.join()).toMatch(/another model/);
    expect(await readdir(storeFolder(options.cacheDir, HASH_A))).not.toContain(`${saved!.id}.state`);
    expect((await setup({ cacheDir: options.cacheDir, modelHash: HASH_B }).open()).list()).toEqual([]);
  });

  it("loads a state into any context that holds its tokens, whatever context it was saved from", async () => {
    const { options, open } = setup({ contextSize: 2304 });
    const big = new FakeSequence(2304);
    big.contextTokens = [1, 2, 3];
    await (await open()).save(asSequence(big), "chat");
    // Smaller and larger contexts than the one it was saved from (2304): only the 3 tokens must fit.
    for (const contextSize of [192, 4096]) {
      const other = setup({ cacheDir: options.cacheDir, contextSize });
      const store = await other.open();
      expect(store.forConversation("chat")?.contextSize).toBe(2304);
      const target = new FakeSequence(contextSize);
      expect(await store.load(stateIdFor("chat"), asSequence(target))).toBe(true);
      expect(target.contextTokens).toEqual([1, 2, 3]);
      expect(other.warnings).toEqual([]);
    }
  });

  it("keeps, but does not load, a state whose tokens do not fit this context or whose KV layout differs", async () => {
    const params = { sequences: 1, flashAttention: "false" };
    const { options, open } = setup({ params });
    await saveTokens(await open(), "long", Array.from({ length: 200 }, (_, i) => i));
    const smaller = setup({ cacheDir: options.cacheDir, contextSize: 200, params });
    const store = await smaller.open();
    expect(store.forConversation("long")).toBeUndefined();
    expect(store.index.bestMatch([0, 1, 2])).toBeUndefined();
    expect(store.list().map((s) => s.sessionKey)).toEqual(["long"]); // still on disk, still counted
    expect(smaller.warnings.join()).toMatch(/Kept .* its 200 tokens do not fit this context \(200 tokens, of which 199 usable\)/);
    const target = new FakeSequence(200);
    expect(await store.load(stateIdFor("long"), asSequence(target))).toBe(false);
    expect(target.loads).toBe(0);
    // A context that holds it loads it.
    expect(await (await setup({ cacheDir: options.cacheDir, contextSize: 201, params }).open()).load(stateIdFor("long"), asSequence(new FakeSequence(201)))).toBe(true);

    const otherSlots = setup({ cacheDir: options.cacheDir, params: { ...params, sequences: 2 } });
    expect((await otherSlots.open()).forConversation("long")).toBeUndefined();
    expect(otherSlots.warnings.join()).toMatch(/other context parameters \(sequences 1, here 2\)/);
    expect((await open()).forConversation("long")?.tokens).toHaveLength(200);
  });

  it("a state refused at load for the sequence's actual size is kept, and the sequence is not touched", async () => {
    const { open, warnings } = setup();
    const store = await open();
    await saveTokens(store, "chat", [1, 2, 3]);
    const tiny = new FakeSequence(3); // smaller than the store was told: only 2 tokens usable
    expect(await store.load(stateIdFor("chat"), asSequence(tiny))).toBe(false);
    expect(tiny.loads).toBe(0);
    expect(warnings.join()).toMatch(/Did not load .* its 3 tokens do not fit this context \(3 tokens/);
    expect(store.list()).toHaveLength(1);
  });

  it("refuses and deletes, at load, a state file changed after it was saved (same size)", async () => {
    const { options, open, warnings } = setup();
    const store = await open();
    const saved = await saveTokens(store, "chat", [1, 2, 3]);
    const file = path.join(storeFolder(options.cacheDir, HASH_A), `${saved!.id}.state`);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = 0x41; // padding the fake's parser ignores: only the CRC can notice
    await writeFile(file, bytes);
    const target = new FakeSequence();
    expect(await store.load(saved!.id, asSequence(target))).toBe(false);
    expect(target.loads).toBe(0);
    expect(warnings.join()).toMatch(/Deleted the saved conversation state .*: its state file is corrupt \(CRC-32/);
    expect(await readdir(storeFolder(options.cacheDir, HASH_A))).toEqual([]);
  });

  it("deletes a meta of an older format with a clear reason", async () => {
    const { options, open, warnings } = setup();
    const saved = await saveTokens(await open(), "chat", [1, 2, 3]);
    const metaFile = path.join(storeFolder(options.cacheDir, HASH_A), `${saved!.id}.json`);
    const { crc32: _crc, ...v1 } = JSON.parse(await readFile(metaFile, "utf8")) as Record<string, unknown>;
    await writeFile(metaFile, JSON.stringify({ ...v1, version: 1 }));
    expect((await open()).list()).toEqual([]);
    expect(warnings.join()).toMatch(/saved in another format \(version 1, this is 2\)/);
  });

  it("deletes truncated states, corrupt metas and orphaned files with a warning", async () => {
    const { options, open, warnings } = setup();
    const store = await open();
    const truncated = await saveTokens(store, "t", [1, 2, 3]);
    const corrupt = await saveTokens(store, "c", [4, 5, 6]);
    await saveTokens(store, "ok", [7, 8, 9]);
    const folder = storeFolder(options.cacheDir, HASH_A);
    await truncate(path.join(folder, `${truncated!.id}.state`), 10);
    await writeFile(path.join(folder, `${corrupt!.id}.json`), "{ not json");
    await writeFile(path.join(folder, "orphan.state"), "x");
    await writeFile(path.join(folder, "x.state.tmp-123"), "x");

    const reopened = await open();
    expect(reopened.list().map((s) => s.sessionKey)).toEqual(["ok"]);
    expect(warnings.join("\n")).toMatch(/has 10 bytes, not 300/);
    expect(warnings.join("\n")).toMatch(/meta is unreadable/);
    expect((await readdir(folder)).sort()).toEqual([`${stateIdFor("ok")}.json`, `${stateIdFor("ok")}.state`].sort());
  });

  it("never reads an implausibly large meta into memory: it is deleted as damaged", async () => {
    const { options, open, warnings } = setup();
    const saved = await saveTokens(await open(), "chat", [1, 2, 3]);
    const metaFile = path.join(storeFolder(options.cacheDir, HASH_A), `${saved!.id}.json`);
    // A sparse 40 MB file: its size alone refuses it.
    await truncate(metaFile, 40 * 1024 * 1024);
    expect((await open()).list()).toEqual([]);
    expect(warnings.join("\n")).toMatch(/meta is unreadable \(41943040 bytes, more than a meta can hold\)/);
  });

  it("a state truncated after opening is refused at load time, and the sequence stays empty", async () => {
    const { options, open, warnings } = setup();
    const store = await open();
    const saved = await saveTokens(store, "chat", [1, 2, 3]);
    await truncate(path.join(storeFolder(options.cacheDir, HASH_A), `${saved!.id}.state`), 5);
    const target = new FakeSequence();
    expect(await store.load(saved!.id, asSequence(target))).toBe(false);
    expect(target.loads).toBe(0);
    expect(store.list()).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it("a full disk during save is a warning: no temp file left, nothing recorded", async () => {
    const { options, open, warnings } = setup({
      saveState: async (_sequence, filePath) => {
        await writeFile(filePath, "partial");
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    });
    const store = await open();
    expect(await saveTokens(store, "chat", [1, 2, 3])).toBeUndefined();
    expect(warnings.join()).toMatch(/ENOSPC/);
    expect(await readdir(storeFolder(options.cacheDir, HASH_A))).toEqual([]);
  });

  it("clear deletes everything", async () => {
    const { open } = setup();
    const store = await open();
    await saveTokens(store, "a", [1]);
    await saveTokens(store, "b", [2]);
    await store.clear();
    expect(store.list()).toEqual([]);
    expect((await open()).list()).toEqual([]);
  });
});
