import { describe, expect, it } from "vitest";
import { BLOCK_TOKENS, PrefixIndex, blockHashes } from "../../../engine/kv-cache/prefix-index.js";

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("PrefixIndex", () => {
  it("chains block hashes: a block's hash depends on everything before it", () => {
    const a = blockHashes(range(0, 3 * BLOCK_TOKENS));
    const b = blockHashes([999, ...range(1, 3 * BLOCK_TOKENS - 1)]);
    expect(a).toHaveLength(3);
    expect(blockHashes(range(0, 3 * BLOCK_TOKENS - 1))).toHaveLength(2);
    expect(a.every((hash, i) => hash !== b[i])).toBe(true);
  });

  it("returns the state with the longest exact shared prefix, past block boundaries", () => {
    const index = new PrefixIndex();
    const system = range(0, 100);
    index.add("short", [...system, ...range(1000, 50)]);
    index.add("long", [...system, ...range(2000, 100)]);
    const query = [...system, ...range(2000, 70), 5, 6, 7];
    expect(index.bestMatch(query)).toEqual({ id: "long", shared: 170 });
    expect(index.bestMatch([...system, 1, 2, 3])?.shared).toBe(100); // one shared block is enough
  });

  it("needs at least one shared block, and honours exclusions and removals", () => {
    const index = new PrefixIndex();
    index.add("a", range(0, 200));
    expect(index.bestMatch(range(0, 63))).toBeUndefined();
    expect(index.bestMatch([1, ...range(1, 199)])).toBeUndefined();
    expect(index.bestMatch(range(0, 200), (id) => id === "a")).toBeUndefined();
    index.remove("a");
    expect(index.bestMatch(range(0, 200))).toBeUndefined();
    expect(index.size).toBe(0);
  });

  it("re-adding an id replaces its tokens", () => {
    const index = new PrefixIndex();
    index.add("a", range(0, 128));
    index.add("a", range(500, 128));
    expect(index.bestMatch(range(0, 128))).toBeUndefined();
    expect(index.bestMatch(range(500, 128))).toEqual({ id: "a", shared: 128 });
  });
});
