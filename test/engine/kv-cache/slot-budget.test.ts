import { describe, expect, it } from "vitest";
import { AUTO_MAX_SLOTS, chooseCacheSlots, memoryBudget } from "../../../engine/kv-cache/slot-budget.js";

const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** A fake GGUF-insights estimate: fixed compute buffers plus KV per slot. */
const linear = (base: number, perSlot: number, gpuShare = 0) => (slots: number) => {
  const total = base + perSlot * slots;
  return { cpuRam: total * (1 - gpuShare), gpuVram: total * gpuShare };
};

describe("cache slot choice", () => {
  it("budgets min(25% of total, 50% of free) memory", () => {
    expect(memoryBudget(16 * GB, 12 * GB)).toBe(4 * GB);
    expect(memoryBudget(16 * GB, 2 * GB)).toBe(1 * GB);
    expect(memoryBudget(16 * GB, -1)).toBe(0);
  });

  it("auto takes the most slots whose estimate fits the RAM budget", () => {
    // 16 GB total, 8 GB free -> budget 4 GB; 200 MB + 1 GB/slot fits 3 slots (3.2 GB), not 4 (4.2 GB).
    const choice = chooseCacheSlots({ setting: "auto", estimate: linear(200 * MB, GB), memory: { ram: { total: 16 * GB, free: 8 * GB } }, gpuOffloaded: false });
    expect(choice.slots).toBe(3);
    expect(choice.memoryBytes).toBe(200 * MB + 3 * GB);
    expect(choice.budget).toEqual({ ram: 4 * GB, vram: null });
  });

  it("auto is capped at 8 slots and never goes below 1", () => {
    const tiny = chooseCacheSlots({ setting: "auto", estimate: linear(MB, MB), memory: { ram: { total: 64 * GB, free: 32 * GB } }, gpuOffloaded: false });
    expect(tiny.slots).toBe(AUTO_MAX_SLOTS);
    expect(AUTO_MAX_SLOTS).toBe(8);
    const huge = chooseCacheSlots({ setting: "auto", estimate: linear(GB, 10 * GB), memory: { ram: { total: 8 * GB, free: 4 * GB } }, gpuOffloaded: false });
    expect(huge.slots).toBe(1);
    expect(huge.memoryBytes).toBe(11 * GB);
  });

  it("low free RAM lowers the count", () => {
    const estimate = linear(0, 512 * MB);
    const roomy = chooseCacheSlots({ setting: "auto", estimate, memory: { ram: { total: 16 * GB, free: 16 * GB } }, gpuOffloaded: false });
    const tight = chooseCacheSlots({ setting: "auto", estimate, memory: { ram: { total: 16 * GB, free: 2 * GB } }, gpuOffloaded: false });
    expect(roomy.slots).toBe(8);
    expect(tight.slots).toBe(2);
  });

  it("with layers offloaded, VRAM must fit too", () => {
    // Everything on the GPU: RAM is plentiful, VRAM (8 GB total, 4 GB free -> 2 GB budget) allows 3 slots of 600 MB.
    const memory = { ram: { total: 64 * GB, free: 64 * GB }, vram: { total: 8 * GB, free: 4 * GB } };
    const offloaded = chooseCacheSlots({ setting: "auto", estimate: linear(0, 600 * MB, 1), memory, gpuOffloaded: true });
    expect(offloaded.slots).toBe(3);
    expect(offloaded.budget.vram).toBe(2 * GB);
    expect(offloaded.memoryBytes).toBe(1800 * MB);
    // The same estimate on the CPU only checks RAM.
    const cpu = chooseCacheSlots({ setting: "auto", estimate: linear(0, 600 * MB), memory, gpuOffloaded: false });
    expect(cpu.slots).toBe(8);
  });

  it("a fixed setting is used as is, with its estimate", () => {
    const calls: number[] = [];
    const choice = chooseCacheSlots({
      setting: 12,
      estimate: (slots) => (calls.push(slots), { cpuRam: slots * GB, gpuVram: 0 }),
      memory: { ram: { total: 8 * GB, free: 1 * GB } },
      gpuOffloaded: false,
    });
    expect(choice).toMatchObject({ slots: 12, memoryBytes: 12 * GB });
    expect(calls).toEqual([12]);
  });
});
