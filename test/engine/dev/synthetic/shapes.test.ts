import { describe, expect, it } from "vitest";
import { parseParamCount, shapeFor } from "../../../../engine/dev/synthetic/shapes.js";

describe("llama shapes for a parameter count", () => {
  it("gives real-llama shapes for the presets", () => {
    expect(shapeFor(parseParamCount("1b"), 32000)).toMatchObject({ dim: 2048, layers: 19, ffn: 5632, heads: 32, kvHeads: 8, headDim: 64 });
    expect(shapeFor(parseParamCount("300m"), 32000)).toMatchObject({ dim: 1024, layers: 21, ffn: 2816, heads: 16, kvHeads: 4 });
    expect(shapeFor(parseParamCount("20m"), 32000)).toMatchObject({ dim: 256, layers: 4, ffn: 768, heads: 4, kvHeads: 4 });
  });

  it("lands near the requested size", () => {
    for (const [params, vocab] of [[1e9, 32000], [3e8, 32000], [2e7, 32000], [1e8, 32000], [3e6, 4096], [7e9, 32000]]) {
      const shape = shapeFor(params, vocab);
      expect(Math.abs(shape.params - params) / params).toBeLessThan(0.1);
      expect(shape.dim % 32).toBe(0); // Q8_0 rows
      expect(shape.ffn % 32).toBe(0);
      expect(shape.heads * shape.headDim).toBe(shape.dim);
    }
  });

  it("parses sizes", () => {
    expect(parseParamCount("3m")).toBe(3_000_000);
    expect(parseParamCount("600k")).toBe(600_000);
    expect(parseParamCount("2500000")).toBe(2_500_000);
    expect(parseParamCount(42)).toBe(42);
    expect(() => parseParamCount("big")).toThrow(/not a number/);
  });
});
