import { describe, expect, it } from "vitest";
import { legendText, latestValue } from "../../renderer/src/charts/adapter.js";
import { conversationChart, histogramChart, replyChart, speedupChart } from "../../renderer/src/charts/specs.js";

describe("chart legends and axes", () => {
  it("show each series' latest value away from the cursor, not '–' until hovered", () => {
    expect(latestValue([1, 2, null, 3, null])).toBe(3);
    expect(latestValue([null, null])).toBeNull();
    expect(latestValue(undefined)).toBeNull();
    expect(legendText(latestValue([null, 0.5, 0.625]), true)).toBe("62.5%");
    expect(legendText(latestValue([12.345, 80]), false)).toBe("80");
    expect(legendText(1.5, false)).toBe("1.5");
    expect(legendText(null, false)).toBe("–");
  });

  it("put at most two y-axes on a chart (the speedup has a chart of its own)", () => {
    for (const spec of [replyChart, conversationChart, speedupChart, histogramChart]) {
      expect(Object.keys(spec.scales).length).toBeLessThanOrEqual(2);
      expect(new Set(Object.values(spec.scales).map((s) => s.side)).size).toBe(Object.keys(spec.scales).length);
    }
  });
});
