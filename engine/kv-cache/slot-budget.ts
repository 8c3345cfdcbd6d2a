import type { CacheSlotsSetting } from "../../contracts/engine/protocol.js";

/**
 * How many context sequences (conversation slots) a model gets.
 *
 * node-llama-cpp gives every sequence the full context size, so the KV cache grows linearly with the slot count.
 * "auto" takes the most slots (up to AUTO_MAX_SLOTS) whose estimated context memory — node-llama-cpp's GGUF
 * insights estimate of the KV cache and compute buffers — fits a budget of min(25% of total, 50% of free) RAM, and
 * the same share of VRAM when layers are offloaded to a GPU. One slot is always allowed: the model needs a context
 * to chat at all, and a load that cannot afford it fails in createContext with a clear message.
 */

export const AUTO_MAX_SLOTS = 8;

/** What one context with `slots` sequences is estimated to take, bytes (node-llama-cpp's GgufInsights shape). */
export interface ContextEstimate {
  cpuRam: number;
  gpuVram: number;
}

export interface MemoryState {
  ram: { total: number; free: number };
  /** Absent (or total 0) without a GPU. */
  vram?: { total: number; free: number };
}

export interface SlotChoice {
  slots: number;
  /** Estimated memory of the context with these slots (RAM + VRAM). */
  memoryBytes: number;
  /** The memory budget "auto" compared against (RAM; VRAM when offloading). */
  budget: { ram: number; vram: number | null };
}

/** min(25% of total, 50% of free). */
export function memoryBudget(total: number, free: number): number {
  return Math.max(0, Math.min(total * 0.25, free * 0.5));
}

export function chooseCacheSlots(options: {
  setting: CacheSlotsSetting;
  estimate(slots: number): ContextEstimate;
  memory: MemoryState;
  /** Whether any model layer runs on the GPU (then VRAM is budgeted too). */
  gpuOffloaded: boolean;
}): SlotChoice {
  const { setting, estimate, memory } = options;
  const ram = memoryBudget(memory.ram.total, memory.ram.free);
  const useVram = options.gpuOffloaded && memory.vram !== undefined && memory.vram.total > 0;
  const vram = useVram ? memoryBudget(memory.vram!.total, memory.vram!.free) : null;
  const total = (e: ContextEstimate) => e.cpuRam + (useVram ? e.gpuVram : 0);

  if (setting !== "auto") return { slots: setting, memoryBytes: total(estimate(setting)), budget: { ram, vram } };

  let chosen = 1;
  let chosenEstimate = estimate(1);
  for (let slots = 2; slots <= AUTO_MAX_SLOTS; slots++) {
    const e = estimate(slots);
    const fits = e.cpuRam <= ram && (vram === null || e.gpuVram <= vram);
    if (!fits) break; // the estimate only grows with the slot count
    chosen = slots;
    chosenEstimate = e;
  }
  return { slots: chosen, memoryBytes: total(chosenEstimate), budget: { ram, vram } };
}
