import os from "node:os";
import path from "node:path";
import {
  resolveChatWrapper,
  type ChatWrapper,
  type GgufInsights,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from "node-llama-cpp";
import { EngineFailure } from "./errors.js";
import { assertGgufFile } from "./gguf-check.js";
import { BatchGate } from "./batch-gate.js";
import { IMMEDIATE_DISPATCH } from "./sequence-utils.js";
import { chooseCacheSlots, type SlotChoice } from "./kv-cache/slot-budget.js";
import { asOutOfMemory } from "./memory-errors.js";
import type { CacheSlotsSetting, ContextSizeSetting, GpuLayersSetting, LoadedModel, ThreadsSetting } from "../contracts/engine/protocol.js";
import { calibrateThreads } from "./threads.js";

/** "auto" context: the trained size, capped so a 128k-context model doesn't reserve gigabytes of KV by default. */
const AUTO_CONTEXT_CAP = 8192;

/** The context size "auto" means for a model trained on `trainContextSize` tokens (the fit estimate uses it too). */
export function autoContextSize(trainContextSize: number): number {
  return Math.min(trainContextSize, AUTO_CONTEXT_CAP);
}

/** Everything that belongs to one loaded model. Disposed in reverse order of creation. */
export interface ActiveModel {
  info: LoadedModel;
  model: LlamaModel;
  context: LlamaContext;
  /** The context's sequences: the KV pager's slots. Each has the full context size. */
  sequences: LlamaContextSequence[];
  wrapper: ChatWrapper;
  /** Lines up concurrent replies' decodes on this context so they go out as one batch (see BatchGate). */
  gate: BatchGate;
}

export interface LoadModelOptions {
  llama: Llama;
  backend: string;
  modelPath: string;
  contextSize: ContextSizeSetting;
  threads: ThreadsSetting;
  gpuLayers: GpuLayersSetting;
  /** Sequences (conversation slots) of the context: a number, or "auto" from a memory budget. */
  slots: CacheSlotsSetting;
  cacheDir: string;
  onProgress(progress: number): void;
}

export async function loadActiveModel(options: LoadModelOptions): Promise<ActiveModel> {
  const started = performance.now();
  const modelPath = path.resolve(options.modelPath);
  const { sizeBytes } = await assertGgufFile(modelPath);

  let model: LlamaModel;
  try {
    model = await options.llama.loadModel({
      modelPath,
      gpuLayers: options.backend === "cpu" ? 0 : options.gpuLayers,
      onLoadProgress: (progress) => options.onProgress(Math.min(1, Math.max(0, progress))),
    });
  } catch (error) {
    const failure = asOutOfMemory(error, `the model ${path.basename(modelPath)}`);
    if (failure instanceof EngineFailure) throw failure;
    throw new EngineFailure("MODEL_LOAD_FAILED", `Could not load ${path.basename(modelPath)}: ${error instanceof Error ? error.message : String(error)}`);
  }

  try {
    let threads: number;
    let threadsSource: LoadedModel["threadsSource"] = "user";
    let threadsCalibration: Record<string, number> | undefined;
    if (options.threads === "auto") {
      const calibration = await calibrateThreads({ model, modelPath, backend: options.backend, cacheDir: options.cacheDir });
      threads = calibration.threads;
      threadsSource = calibration.source;
      threadsCalibration = calibration.measured;
    } else {
      threads = options.threads;
    }

    const contextSize = options.contextSize === "auto" ? autoContextSize(model.trainContextSize) : options.contextSize;
    const choice = await chooseSlots(options.llama, model.fileInsights, model.gpuLayers, contextSize, options.slots);
    let context: LlamaContext;
    const gate = new BatchGate();
    try {
      // node-llama-cpp gives each sequence its own `contextSize` cells: memory grows with the slot count.
      context = await model.createContext({ contextSize, threads, sequences: choice.slots, batching: IMMEDIATE_DISPATCH });
    } catch (error) {
      const what = `a ${contextSize}-token context${choice.slots > 1 ? ` with ${choice.slots} cache slots` : ""}`;
      const failure = asOutOfMemory(error, what);
      if (failure instanceof EngineFailure) throw failure;
      throw new EngineFailure("MODEL_LOAD_FAILED", `Could not create ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const sequences = Array.from({ length: choice.slots }, () => context.getSequence());
    const wrapper = resolveChatWrapper(model);
    const info: LoadedModel = {
      modelPath,
      name: path.basename(modelPath),
      sizeBytes,
      trainedContextSize: model.trainContextSize,
      contextSize: context.contextSize,
      threads,
      threadsSource,
      ...(threadsCalibration ? { threadsCalibration } : {}),
      gpuLayers: model.gpuLayers,
      chatWrapper: wrapper.wrapperName,
      loadMs: Math.round(performance.now() - started),
      cacheSlots: choice.slots,
      cacheMemoryBytes: Math.round(choice.memoryBytes),
    };
    return { info, model, context, sequences, wrapper, gate };
  } catch (error) {
    await model.dispose();
    // Thread calibration allocates a context of its own: running out of memory there is the same problem.
    throw asOutOfMemory(error, `${path.basename(modelPath)}'s context`);
  }
}

export async function disposeActiveModel(active: ActiveModel): Promise<void> {
  for (const sequence of active.sequences) await sequence.dispose();
  await active.context.dispose();
  await active.model.dispose();
}

/**
 * The slot count for this context from node-llama-cpp's estimate of its memory (see slot-budget.ts). The fit
 * estimate calls it with a header's insights, so "auto" slots are resolved the same way before a load.
 */
export async function chooseSlots(
  llama: Llama,
  insights: GgufInsights,
  gpuLayers: number,
  contextSize: number,
  setting: CacheSlotsSetting,
): Promise<SlotChoice> {
  const vram = gpuLayers > 0 ? await llama.getVramState() : undefined;
  return chooseCacheSlots({
    setting,
    estimate: (sequences) => insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: gpuLayers, sequences }),
    memory: { ram: { total: os.totalmem(), free: os.freemem() }, ...(vram ? { vram: { total: vram.total, free: vram.free } } : {}) },
    gpuOffloaded: gpuLayers > 0,
  });
}
