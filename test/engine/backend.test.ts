import { describe, expect, it } from "vitest";
import type { Llama, LlamaOptions } from "node-llama-cpp";
import { describeSystem, initBackend, type GetLlama } from "../../engine/backend.js";

/** A fake llama.cpp binding: these machines have no GPU, so the GPU paths are checked against fakes. */
function fakeLlama(gpu: Llama["gpu"], devices: string[] = [], vramTotal = 0): Llama {
  return {
    gpu,
    getGpuDeviceNames: async () => devices,
    getVramState: async () => ({ total: vramTotal, used: 0, free: vramTotal, unifiedSize: 0 }),
    llamaCppRelease: { repo: "ggml-org/llama.cpp", release: "b1234" },
  } as unknown as Llama;
}

function loader(available: Array<Llama["gpu"]>): { load: GetLlama; calls: LlamaOptions[] } {
  const calls: LlamaOptions[] = [];
  const load: GetLlama = async (options) => {
    calls.push(options);
    const gpu = options.gpu;
    if (gpu === "auto") return fakeLlama(available[0] ?? false, available[0] ? ["Fake GPU 24GB"] : [], available[0] ? 24e9 : 0);
    if (gpu === false) return fakeLlama(false);
    if (typeof gpu === "string" && available.includes(gpu)) return fakeLlama(gpu, ["Fake GPU"], 8e9);
    throw new Error(`${String(gpu)} binaries are not available`);
  };
  return { load, calls };
}

const log = () => {};

describe("initBackend", () => {
  it("uses the requested GPU backend when it loads, never building from source", async () => {
    const { load, calls } = loader(["cuda", "vulkan"]);
    const init = await initBackend("vulkan", log, load);
    expect(init.backend).toBe("vulkan");
    expect(init.backendNote).toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ gpu: "vulkan", build: "never" });
    const info = await describeSystem(init);
    expect(info).toMatchObject({ backend: "vulkan", gpuRequested: "vulkan", devices: ["Fake GPU"], vram: { total: 8e9 } });
  });

  it("falls back to the CPU with a note when the requested GPU backend fails", async () => {
    const { load, calls } = loader([]);
    const init = await initBackend("cuda", log, load);
    expect(init.backend).toBe("cpu");
    expect(init.backendNote).toMatch(/cuda is not available/);
    expect(calls.map((c) => c.gpu)).toEqual(["cuda", false]);
  });

  it("auto picks what node-llama-cpp finds; cpu disables GPU offloading", async () => {
    expect((await initBackend("auto", log, loader(["metal"]).load)).backend).toBe("metal");
    expect((await initBackend("auto", log, loader([]).load)).backend).toBe("cpu");
    const { load, calls } = loader(["cuda"]);
    expect((await initBackend("cpu", log, load)).backend).toBe("cpu");
    expect(calls[0]!.gpu).toBe(false);
  });

  it("does not hide a CPU failure behind a fallback", async () => {
    const failing: GetLlama = async () => {
      throw new Error("no binary");
    };
    await expect(initBackend("cpu", log, failing)).rejects.toThrow("no binary");
  });
});
