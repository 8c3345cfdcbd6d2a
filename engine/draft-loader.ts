import path from "node:path";
import type { Llama, LlamaContext, LlamaModel } from "node-llama-cpp";
import { EngineFailure } from "./errors.js";
import { assertGgufFile } from "./gguf-check.js";
import { IMMEDIATE_DISPATCH } from "./sequence-utils.js";
import { asOutOfMemory } from "./memory-errors.js";
import type { ActiveModel } from "./model-loader.js";
import type { DraftModelInfo, ThreadsSetting } from "../contracts/engine/protocol.js";
import type { DraftModel } from "./speculation/draft-model-speculator.js";
import { SequenceSampler } from "./speculation/sequence-sampler.js";
import { compareTokenizers, tokenizerFacts } from "./speculation/tokenizer-compat.js";
import { calibrateThreads, measureDecodeSpeed } from "./threads.js";

export interface ActiveDraft {
  info: DraftModelInfo;
  model: LlamaModel;
  context: LlamaContext;
  /** One draft sequence per target slot: each reply drafts on a lane of its own (see DraftLanes). */
  lanes: DraftLanes;
  /** Measured greedy decode time per token on its own (ms), a first estimate of the draft's cost. */
  msPerToken: number;
}

/** A lane lent to one reply, and its return. */
export interface DraftLease {
  lane: DraftModel;
  release(): void;
}

/**
 * The draft context's sequences, lent one per reply. Replies run concurrently on the target's slots; sharing one
 * draft sequence would make each proposal re-prefill the other conversation's whole text (216 ms for 2,000 tokens
 * on a 20M draft here), so the draft has as many sequences as the target has slots, and a reply gets back the lane
 * that last drafted for its conversation when it is free: that lane still holds the conversation's text, and only
 * the new tokens are evaluated.
 */
export class DraftLanes {
  private readonly lanes: Array<{ lane: DraftModel; conversationId: string | undefined; busy: boolean; lastUsed: number }>;
  private clock = 0;

  constructor(lanes: DraftModel[]) {
    this.lanes = lanes.map((lane) => ({ lane, conversationId: undefined, busy: false, lastUsed: 0 }));
  }

  get size(): number {
    return this.lanes.length;
  }

  /** A free lane for `conversationId`, or null when every lane drafts for another reply (that reply then drafts without). */
  take(conversationId: string): DraftLease | null {
    const free = this.lanes.filter((entry) => !entry.busy);
    const entry = free.find((e) => e.conversationId === conversationId) ?? free.sort((a, b) => a.lastUsed - b.lastUsed)[0];
    if (!entry) return null;
    entry.busy = true;
    entry.conversationId = conversationId;
    let released = false;
    return {
      lane: entry.lane,
      release: () => {
        if (released) return;
        released = true;
        entry.busy = false;
        entry.lastUsed = ++this.clock;
      },
    };
  }

  async dispose(): Promise<void> {
    for (const { lane } of this.lanes) {
      lane.sampler.dispose();
      await lane.sequence.dispose();
    }
  }
}

/**
 * Loads a draft model for a loaded target. The tokenizers are compared before anything else is allocated, and a
 * mismatch is refused with the difference named; the draft's context has the target's size so it can follow any
 * conversation the target can hold.
 */
export async function loadDraft(options: {
  llama: Llama;
  backend: string;
  target: ActiveModel;
  modelPath: string;
  threads: ThreadsSetting;
  cacheDir: string;
}): Promise<ActiveDraft> {
  const started = performance.now();
  const modelPath = path.resolve(options.modelPath);
  const { sizeBytes } = await assertGgufFile(modelPath);
  let model;
  try {
    model = await options.llama.loadModel({ modelPath, gpuLayers: options.backend === "cpu" ? 0 : "auto" });
  } catch (error) {
    const failure = asOutOfMemory(error, `the draft model ${path.basename(modelPath)}`);
    if (failure instanceof EngineFailure) throw failure;
    const reason = error instanceof Error ? error.message : String(error);
    throw new EngineFailure("MODEL_LOAD_FAILED", `Could not load the draft model ${path.basename(modelPath)}: ${reason}`);
  }
  try {
    const mismatch = compareTokenizers(tokenizerFacts(options.target.model), tokenizerFacts(model));
    if (mismatch) {
      throw new EngineFailure(
        "DRAFT_INCOMPATIBLE",
        `${path.basename(modelPath)} cannot draft for ${options.target.info.name}: ${mismatch}`,
      );
    }
    const threads =
      options.threads === "auto"
        ? (await calibrateThreads({ model, modelPath, backend: options.backend, cacheDir: options.cacheDir })).threads
        : options.threads;
    const msPerToken = 1000 / (await measureDecodeSpeed(model, threads));
    // One lane per target slot (see DraftLanes). Lanes are not paged to disk: a conversation whose lane went to
    // another re-prefills from the common prefix (after the target's first token, so it never delays TTFT).
    // Measured on this 2-core machine (1 thread, median): the KJV draft (1M) re-prefills 200 tokens in 3.4 ms vs
    // 0.6 ms save + 1.0 ms load and last-token decode — paging would save ~2 ms per switch, less than one target
    // step. A 20M synthetic draft re-prefills 2,000 tokens in 216 ms vs 3.4 ms save + 3.8 ms load: worth paging for
    // long chats with bigger drafts (a follow-up: page the lanes with the target's slots).
    const slots = Math.max(1, options.target.sequences.length);
    const context = await model.createContext({ contextSize: options.target.info.contextSize, threads, sequences: slots, batching: IMMEDIATE_DISPATCH });
    const lanes = Array.from({ length: slots }, () => {
      const sequence = context.getSequence();
      return { model, context, sequence, sampler: new SequenceSampler(sequence, model) };
    });
    return {
      info: {
        modelPath,
        name: path.basename(modelPath),
        sizeBytes,
        threads,
        contextSize: context.contextSize,
        loadMs: Math.round(performance.now() - started),
      },
      model,
      context,
      lanes: new DraftLanes(lanes),
      msPerToken,
    };
  } catch (error) {
    await model.dispose();
    // Thread calibration, the speed measurement and the draft's context each allocate a context of their own.
    throw asOutOfMemory(error, `the draft model's ${options.target.info.contextSize}-token context`);
  }
}

export async function disposeDraft(active: ActiveDraft): Promise<void> {
  await active.lanes.dispose();
  await active.context.dispose();
  await active.model.dispose();
}
