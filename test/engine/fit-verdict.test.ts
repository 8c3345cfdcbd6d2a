/** The fit arithmetic with fake figures: verdicts, suggested context sizes and GPU layers, messages (GPU paths too). */
import { describe, expect, it } from "vitest";
import { assessFit, formatBytes, smallerContextSizes, verdictOf, type FitConfig, type FitQuestion } from "../../engine/fit-verdict.js";
import type { FitPart } from "../../contracts/engine/protocol.js";

const GB = 1e9;

/**
 * A fake 32-layer model: 8 GB of weights spread evenly over its layers (offloaded layers move to VRAM), and a KV
 * cache of 0.5 MB per token per slot that follows the layers (the offloaded share lives in VRAM).
 */
function fakeModel(options: { slots?: number; draft?: boolean } = {}) {
  const totalLayers = 32;
  const slots = options.slots ?? 1;
  const calls: FitConfig[] = [];
  const partsAt = async (config: FitConfig) => {
    calls.push(config);
    const onGpu = config.gpuLayers / totalLayers;
    const weights = 8 * GB;
    const kv = config.contextSize * slots * 0.5e6;
    const parts: FitPart[] = [
      { part: "target-weights", ramBytes: weights * (1 - onGpu), vramBytes: weights * onGpu },
      { part: "target-context", ramBytes: kv * (1 - onGpu), vramBytes: kv * onGpu },
    ];
    if (options.draft) {
      parts.push({ part: "draft-weights", ramBytes: 0.5 * GB, vramBytes: 0 });
      parts.push({ part: "draft-context", ramBytes: config.contextSize * 0.05e6, vramBytes: 0 });
    }
    return { parts, cacheSlots: slots };
  };
  return { totalLayers, partsAt, calls };
}

function question(config: FitConfig, available: { ramBytes: number; vramBytes: number }, model = fakeModel()): FitQuestion {
  return { modelName: "fake-8b.gguf", totalLayers: model.totalLayers, config, cacheSlots: 1, available, partsAt: model.partsAt };
}

describe("verdictOf", () => {
  it("fits below 80% of the free memory, is tight above it, and won't fit above 100%", () => {
    const free = { ramBytes: 10 * GB, vramBytes: 0 };
    expect(verdictOf({ ramBytes: 7.9 * GB, vramBytes: 0 }, free)).toBe("fits");
    expect(verdictOf({ ramBytes: 8.1 * GB, vramBytes: 0 }, free)).toBe("tight");
    expect(verdictOf({ ramBytes: 10 * GB, vramBytes: 0 }, free)).toBe("tight");
    expect(verdictOf({ ramBytes: 10.1 * GB, vramBytes: 0 }, free)).toBe("wont-fit");
  });

  it("judges VRAM the same way, and any VRAM need without a GPU won't fit", () => {
    expect(verdictOf({ ramBytes: 1 * GB, vramBytes: 5 * GB }, { ramBytes: 10 * GB, vramBytes: 4 * GB })).toBe("wont-fit");
    expect(verdictOf({ ramBytes: 1 * GB, vramBytes: 3.5 * GB }, { ramBytes: 10 * GB, vramBytes: 4 * GB })).toBe("tight");
    expect(verdictOf({ ramBytes: 1 * GB, vramBytes: 0 }, { ramBytes: 10 * GB, vramBytes: 0 })).toBe("fits");
    expect(verdictOf({ ramBytes: 1 * GB, vramBytes: 1 }, { ramBytes: 10 * GB, vramBytes: 0 })).toBe("wont-fit");
  });
});

describe("smallerContextSizes", () => {
  it("halves down to 512, rounding to multiples of 256", () => {
    expect(smallerContextSizes(8192)).toEqual([4096, 2048, 1024, 512]);
    expect(smallerContextSizes(6000)).toEqual([2816, 1280, 512]);
    expect(smallerContextSizes(1024)).toEqual([512]);
    expect(smallerContextSizes(512)).toEqual([]);
    expect(smallerContextSizes(256)).toEqual([]);
  });
});

describe("formatBytes", () => {
  it("writes GB with one decimal, MB and KB whole", () => {
    expect(formatBytes(9.8e9)).toBe("9.8 GB");
    expect(formatBytes(123.4e9)).toBe("123 GB");
    expect(formatBytes(28_053_504)).toBe("28 MB");
    expect(formatBytes(40_000)).toBe("40 KB");
  });
});

describe("assessFit on the CPU", () => {
  it("fits with room to spare: no suggestion, the figures in the message", async () => {
    const estimate = await assessFit(question({ contextSize: 4096, gpuLayers: 0 }, { ramBytes: 20 * GB, vramBytes: 0 }));
    expect(estimate.verdict).toBe("fits");
    expect(estimate.suggestion).toBeNull();
    expect(estimate.ramBytes).toBe(8 * GB + 4096 * 0.5e6);
    expect(estimate.message).toBe("Fits in memory: needs about 10.0 GB of RAM (20.0 GB free).");
  });

  it("won't fit: suggests the largest halved context that fits", async () => {
    // 8 GB weights + 8192 tokens x 0.5 MB = 12.1 GB needed, 11 GB free: 4096 tokens (10.0 GB) is tight, 2048 (9.0) fits.
    const estimate = await assessFit(question({ contextSize: 8192, gpuLayers: 0 }, { ramBytes: 11.5 * GB, vramBytes: 0 }));
    expect(estimate.verdict).toBe("wont-fit");
    expect(estimate.suggestion).toEqual({ contextSize: 2048 });
    expect(estimate.message).toBe("Needs about 12.1 GB of RAM but 11.5 GB is free. A 2048-token context would fit.");
  });

  it("falls back to a tight context when none fits comfortably", async () => {
    // 512 tokens need 8.26 GB: tight in 9 GB free, so that is the suggestion.
    const estimate = await assessFit(question({ contextSize: 8192, gpuLayers: 0 }, { ramBytes: 9 * GB, vramBytes: 0 }));
    expect(estimate.verdict).toBe("wont-fit");
    expect(estimate.suggestion).toEqual({ contextSize: 1024 });
  });

  it("says so when even the smallest context won't fit", async () => {
    const estimate = await assessFit(question({ contextSize: 4096, gpuLayers: 0 }, { ramBytes: 6 * GB, vramBytes: 0 }));
    expect(estimate.verdict).toBe("wont-fit");
    expect(estimate.suggestion).toBeNull();
    expect(estimate.message).toBe(
      "Needs about 10.0 GB of RAM but 6.0 GB is free. Even a 512-token context would not fit: try a smaller model or a lower quantization.",
    );
  });

  it("tight: suggests a context that fits comfortably", async () => {
    const estimate = await assessFit(question({ contextSize: 4096, gpuLayers: 0 }, { ramBytes: 11 * GB, vramBytes: 0 }));
    expect(estimate.verdict).toBe("tight");
    expect(estimate.suggestion).toEqual({ contextSize: 1024 });
    expect(estimate.message).toBe(
      "A tight fit: needs about 10.0 GB of RAM of the 11.0 GB free, so other apps may be pushed to swap. A 1024-token context would leave more room.",
    );
  });

  it("counts the draft's parts in the totals and the suggestion", async () => {
    const model = fakeModel({ draft: true });
    const estimate = await assessFit(question({ contextSize: 4096, gpuLayers: 0 }, { ramBytes: 11.5 * GB, vramBytes: 0 }, model));
    expect(estimate.parts.map((p) => p.part)).toEqual(["target-weights", "target-context", "draft-weights", "draft-context"]);
    expect(estimate.ramBytes).toBeCloseTo(8 * GB + 2.048 * GB + 0.5 * GB + 4096 * 0.05e6, -3);
    expect(estimate.verdict).toBe("tight");
    expect(estimate.suggestion).toEqual({ contextSize: 1024 });
  });
});

describe("assessFit with a GPU", () => {
  it("fits with every layer offloaded: the VRAM figure joins the message", async () => {
    const estimate = await assessFit(question({ contextSize: 2048, gpuLayers: 32 }, { ramBytes: 16 * GB, vramBytes: 24 * GB }));
    expect(estimate.verdict).toBe("fits");
    expect(estimate.vramBytes).toBe(8 * GB + 2048 * 0.5e6);
    expect(estimate.ramBytes).toBe(0);
    expect(estimate.message).toBe("Fits in memory: needs about 0 KB of RAM (16.0 GB free) and 9.0 GB of VRAM (24.0 GB free).");
  });

  it("VRAM too small: suggests the most GPU layers that fit comfortably", async () => {
    // All 32 layers at 2048 tokens: 9.0 GB of VRAM, 6 GB free.
    const estimate = await assessFit(question({ contextSize: 2048, gpuLayers: 32 }, { ramBytes: 32 * GB, vramBytes: 6 * GB }));
    expect(estimate.verdict).toBe("wont-fit");
    // n/32 x 9 GB <= 80% of 6 GB -> n = 17 (4.8 GB); a smaller context alone (8.3 GB at 512 tokens) is not enough.
    expect(estimate.suggestion).toEqual({ gpuLayers: 17 });
    expect(estimate.message).toBe("Needs about 9.0 GB of VRAM but 6.0 GB is free. Offloading 17 layers to the GPU would fit.");
  });

  it("falls back to the most layers that fit at all when fewer would overflow RAM", async () => {
    // 9.0 GB in all at 2048 tokens. 80% of 7 GB VRAM takes 19 layers, leaving 3.7 GB in RAM (3 GB free): no good.
    // All of the 7 GB takes 24 layers (6.8 GB, tight), leaving 2.3 GB in RAM: that is the suggestion.
    const estimate = await assessFit(question({ contextSize: 2048, gpuLayers: 32 }, { ramBytes: 3 * GB, vramBytes: 7 * GB }));
    expect(estimate.verdict).toBe("wont-fit");
    expect(estimate.suggestion).toEqual({ gpuLayers: 24 });
  });

  it("suggests no GPU layers that would push RAM over", async () => {
    const estimate = await assessFit(question({ contextSize: 2048, gpuLayers: 32 }, { ramBytes: 2 * GB, vramBytes: 6 * GB }));
    expect(estimate.verdict).toBe("wont-fit");
    expect(estimate.suggestion).toBeNull();
  });

  it("tight on VRAM: suggests layers that fit comfortably", async () => {
    const estimate = await assessFit(question({ contextSize: 1024, gpuLayers: 32 }, { ramBytes: 32 * GB, vramBytes: 9 * GB }));
    expect(estimate.verdict).toBe("tight"); // 8.5 GB of 9 GB
    // n/32 x 8.5 GB <= 7.2 GB -> n = 27.
    expect(estimate.suggestion).toEqual({ gpuLayers: 27 });
  });

  it("both: a smaller context or fewer layers", async () => {
    // 32 layers at 8192 tokens: 12.1 GB of VRAM, 11.5 GB free; 2048 tokens (9.0 GB) fits, so do 24 layers (9.1 GB).
    const estimate = await assessFit(question({ contextSize: 8192, gpuLayers: 32 }, { ramBytes: 32 * GB, vramBytes: 11.5 * GB }));
    expect(estimate.verdict).toBe("wont-fit");
    expect(estimate.suggestion).toEqual({ contextSize: 2048, gpuLayers: 24 });
    expect(estimate.message).toBe("Needs about 12.1 GB of VRAM but 11.5 GB is free. A 2048-token context or 24 GPU layers would fit.");
  });
});
