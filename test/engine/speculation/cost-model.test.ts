import { describe, expect, it } from "vitest";
import { AcceptanceEstimate, SpeculationCostModel, expectedSpeedup, expectedTokensPerStep } from "../../../engine/speculation/cost-model.js";

describe("cost model", () => {
  it("uses Leviathan et al.'s expected tokens per step", () => {
    expect(expectedTokensPerStep(0, 4)).toBe(1);
    expect(expectedTokensPerStep(1, 4)).toBe(5);
    expect(expectedTokensPerStep(0.5, 2)).toBeCloseTo(1 + 0.5 + 0.25);
    expect(expectedTokensPerStep(0.8, 3)).toBeCloseTo((1 - 0.8 ** 4) / 0.2);
    expect(expectedSpeedup(0.8, 3, 0.05, 2)).toBeCloseTo(expectedTokensPerStep(0.8, 3) / (0.15 + 2));
  });

  it("estimates per-position acceptance from verify steps (stops at the first rejection)", () => {
    const estimate = new AcceptanceEstimate({ alpha: 0.5, weight: 0 }, 1);
    estimate.record(4, 4); // 4 successes, no failure
    estimate.record(4, 1); // 1 success, 1 failure
    estimate.record(4, 0); // 1 failure
    expect(estimate.alpha).toBeCloseTo(5 / 7);
    expect(estimate.observations).toBe(3);
    estimate.record(0, 0); // nothing proposed: no evidence
    expect(estimate.observations).toBe(3);
  });

  it("interpolates the measured verify curve and extrapolates past it", () => {
    const costs = new SpeculationCostModel();
    costs.recordVerify(1, 10);
    costs.recordVerify(2, 16);
    costs.recordVerify(4, 24);
    expect(costs.verifyCostRatio(1)).toBe(1);
    expect(costs.verifyCostRatio(3)).toBeCloseTo(2);
    expect(costs.verifyCostRatio(6)).toBeCloseTo(3.2); // slope of the last segment: 4 ms per position
  });

  it("picks the draft length that maximises E(k)/(k·c + v(k+1))", () => {
    const costs = new SpeculationCostModel();
    // A CPU-like curve: each extra position costs 40% of a decode.
    for (let n = 1; n <= 9; n++) costs.recordVerify(n, 10 * (1 + 0.4 * (n - 1)));
    costs.recordDraft("draft", 10, 5); // 0.5 ms per drafted token: c = 0.05
    const high = costs.best("draft", 8, { alphaOverride: 0.9 });
    const low = costs.best("draft", 8, { alphaOverride: 0.3 });
    expect(high.k).toBeGreaterThan(low.k);
    let manual = { k: 0, s: 0 };
    for (let k = 1; k <= 8; k++) {
      const s = expectedSpeedup(0.9, k, 0.05, 1 + 0.4 * k);
      if (s > manual.s) manual = { k, s };
    }
    expect(high.k).toBe(manual.k);
    expect(high.speedup).toBeCloseTo(manual.s);
    expect(low.speedup).toBeLessThan(1); // speculation would not pay at α = 0.3
  });

  it("takes v(n) from rolling medians of the last 31 measurements (outliers and old steps drop out)", () => {
    const costs = new SpeculationCostModel();
    const ones: number[] = [];
    for (let i = 0; i < 50; i++) {
      const ms = i % 7 === 0 ? 100 : 10 + ((i * 13) % 5); // a GC pause now and then
      ones.push(ms);
      costs.recordVerify(1, ms);
    }
    for (let i = 0; i < 5; i++) costs.recordVerify(2, 30);
    const window = ones.slice(-31).sort((a, b) => a - b);
    expect(costs.verifyCostRatio(2)).toBeCloseTo(30 / window[15]!);
  });
});

