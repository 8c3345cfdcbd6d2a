import { describe, expect, it } from "vitest";
import { predictedNoise, probit, searchNoise } from "../../../../engine/dev/synthetic/calibrate.js";
import { Rng } from "../../../../engine/dev/synthetic/prng.js";
import { buildVocabulary } from "../../../../engine/dev/synthetic/tokenizer.js";
import { sharedStructure } from "../../../../engine/dev/synthetic/weights.js";

describe("shared successor chain", () => {
  const vocab = buildVocabulary(4096);
  const { succ, pred, embedRow } = sharedStructure(vocab, 1);

  it("is one cycle through every word piece and never leads to a special or byte token", () => {
    const first = vocab.firstPieceId;
    let t = first;
    const seen = new Set<number>();
    do {
      seen.add(t);
      t = succ[t];
      expect(t).toBeGreaterThanOrEqual(first);
    } while (t !== first);
    expect(seen.size).toBe(4096 - first);
    for (let j = first; j < 4096; j++) expect(succ[pred[j]]).toBe(j);
    for (let j = 0; j < first; j++) {
      expect(pred[j]).toBe(-1);
      expect(embedRow[j]).toBeGreaterThanOrEqual(first);
      expect(succ[j]).toBe(succ[embedRow[j]]);
    }
  });

  it("is determined by the shared seed", () => {
    expect(sharedStructure(vocab, 1).succ).toEqual(succ);
    expect(sharedStructure(vocab, 2).succ).not.toEqual(succ);
  });
});

describe("seeded PRNG", () => {
  it("is deterministic per key and fills uniform values of the requested RMS", () => {
    const a = new Float32Array(100_000);
    const b = new Float32Array(100_000);
    new Rng(3, 4).fillUniform(a, 0.5);
    new Rng(3, 4).fillUniform(b, 0.5);
    expect(a).toEqual(b);
    const rms = Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(rms).toBeCloseTo(0.5, 2);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    new Rng(3, 5).fillUniform(b, 0.5);
    expect(a).not.toEqual(b);
  });
});

describe("noise calibration", () => {
  it("has a working probit", () => {
    expect(probit(0.5)).toBeCloseTo(0, 9);
    expect(probit(0.975)).toBeCloseTo(1.959964, 5);
    expect(probit(0.01)).toBeCloseTo(-2.326348, 5);
  });

  it("predicts more noise for lower agreement", () => {
    expect(predictedNoise(0.5, 32000)).toBeGreaterThan(predictedNoise(0.9, 32000));
    expect(predictedNoise(0.9, 32000)).toBeGreaterThan(0.1);
    expect(predictedNoise(0.9, 32000)).toBeLessThan(0.3);
  });

  it("finds the noise for a requested agreement on a monotone curve unlike the theory's", async () => {
    // A made-up steeper, shifted curve: agreement = Phi(2 * (1/noise - 5))^2.
    const phi = (x: number) => 0.5 * (1 + Math.tanh(0.7978845608 * (x + 0.044715 * x ** 3)));
    const curve = (noise: number) => phi(2 * (1 / noise - 5)) ** 2;
    const { best, points } = await searchNoise({ requested: 0.7, vocab: 32000, tolerance: 0.01, maxSteps: 8, measure: async (n) => curve(n) });
    expect(Math.abs(best.agreement - 0.7)).toBeLessThanOrEqual(0.01);
    expect(points.length).toBeLessThanOrEqual(8);
  });
});
