import type { ControlledEvaluateInputItem, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { DecodeGate } from "../batch-gate.js";
import { Mutex } from "../lock.js";

/** One position's sampling options, in node-llama-cpp's `generateNext.options` shape. */
export type PositionOptions = NonNullable<NonNullable<Extract<ControlledEvaluateInputItem, unknown[]>[1]>["generateNext"]>["options"];

/**
 * Evaluates tokens on one sequence and samples output positions one at a time, stopping as soon as the caller has
 * what it needs. Used for the target's verify batch (stop at the first rejected draft) and for the draft model's
 * steps.
 *
 * Why not `controlledEvaluate`: in node-llama-cpp 3.21.1 it creates and disposes a native sampler on every call, and
 * it samples every position that asked for a token before it returns. Each sample is a separate native call through
 * the thread pool (about 0.1-0.4 ms on these CPUs), so a verify batch of k+1 positions paid k+1 of them even when
 * the first draft was rejected. Here one sampler lives as long as the reply, and positions after the first rejected
 * draft are never sampled. On a small model this is a large share of a step; on a 1B model it is small but free.
 *
 * This drives three of node-llama-cpp's internal members (`_decodeTokens`, `_resolveSamplerConfig` and the native
 * `sampleToken`), which is why node-llama-cpp is pinned to an exact version. `SequenceSampler.supported` checks they
 * exist; when they don't, the same calls go through `controlledEvaluate`, sampling every position (slower, same
 * tokens). test/engine/speculation/sequence-sampler.int.test.ts fails on a version that lacks them.
 */
export class SequenceSampler {
  private readonly internals: Internals | null;
  private native: NativeSampler | null = null;
  /** The config last applied to the native sampler: applying the same one again is skipped. */
  private appliedKey: string | null = null;
  private disposed = false;

  constructor(
    private readonly sequence: LlamaContextSequence,
    model: LlamaModel,
    /** The target context's barrier (concurrent replies queue their decodes together); none for the draft. */
    private readonly gate?: DecodeGate,
  ) {
    this.internals = internalsOf(sequence, model);
  }

  /** Whether the lazy path is available (false means every call falls back to controlledEvaluate). */
  get lazy(): boolean {
    return this.internals !== null;
  }

  /**
   * Evaluates `tokens` and samples positions `from`, `from + 1`, … in order: `options(i)` gives position i's
   * sampling options, and after each sample `more(i, token)` says whether to sample the next position. Returns the
   * sampled tokens (position `from` first). Every token is evaluated, whatever is sampled.
   */
  async evaluate(
    tokens: readonly Token[],
    from: number,
    options: (index: number) => PositionOptions,
    more: (index: number, token: Token) => boolean,
  ): Promise<Token[]> {
    if (this.disposed) throw new Error("the sequence sampler is disposed");
    if (from < 0 || from >= tokens.length) throw new Error("no position to sample");
    const arrived = this.gate?.arrive(this.internals?.sequenceId ?? 0);
    if (arrived) await arrived;
    this.gate?.started();
    try {
      return await this.evaluateNow(tokens, from, options, more);
    } finally {
      this.gate?.finished();
    }
  }

  private async evaluateNow(
    tokens: readonly Token[],
    from: number,
    options: (index: number) => PositionOptions,
    more: (index: number, token: Token) => boolean,
  ): Promise<Token[]> {
    if (!this.internals) return this.evaluateControlled(tokens, from, options, more);
    const sampled: Token[] = [];
    const logits = tokens.map((_, index) => index >= from);
    let stopped = false;
    await this.internals.decodeTokens(
      tokens,
      logits,
      (batchLogitIndex, tokenIndex) => {
        // Called in position order, each after the previous one's promise settled: once stopped, no native call.
        if (stopped || tokenIndex < from) return undefined;
        return this.sample(batchLogitIndex, options(tokenIndex)).then((token) => {
          if (token == null) {
            stopped = true;
            return undefined;
          }
          sampled.push(token);
          if (!more(tokenIndex, token)) stopped = true;
          return undefined;
        });
      },
    );
    return sampled;
  }

  /** Frees the native sampler; the sequence itself belongs to its owner. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.native?.dispose();
    this.native = null;
  }

  private sample(batchLogitIndex: number, options: PositionOptions): Promise<Token | null> {
    return this.internals!.samplingLock.run(() => this.sampleNow(batchLogitIndex, options));
  }

  private async sampleNow(batchLogitIndex: number, options: PositionOptions): Promise<Token | null> {
    const internals = this.internals!;
    const config = internals.resolveConfig(options ?? {});
    // The config holds typed arrays (repeat-penalty tokens): JSON of them is exact and cheap at these sizes.
    const key = JSON.stringify(config, (_, value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as Uint32Array) : value));
    this.native ??= internals.createSampler();
    if (key !== this.appliedKey) {
      this.native.applyConfig(config);
      this.appliedKey = key;
    }
    const token = await internals.sampleToken(batchLogitIndex, this.native);
    return token === -1 ? null : token;
  }

  private async evaluateControlled(
    tokens: readonly Token[],
    from: number,
    options: (index: number) => PositionOptions,
    more: (index: number, token: Token) => boolean,
  ): Promise<Token[]> {
    const input: ControlledEvaluateInputItem[] = tokens.map((token, index) =>
      index >= from ? [token, { generateNext: { token: true, options: options(index) } }] : token,
    );
    const results = await this.sequence.controlledEvaluate(input);
    const sampled: Token[] = [];
    for (let index = from; index < tokens.length; index++) {
      const token = results[index]?.next.token;
      if (token == null) break;
      sampled.push(token);
      if (!more(index, token)) break;
    }
    return sampled;
  }
}

interface NativeSampler {
  applyConfig(config: object): void;
  dispose(): void;
}

/**
 * One lock per llama.cpp context for reading its logits. After a decode of several sequences, llama.cpp reorders
 * the output rows in place on the first read (`llama_context::output_reorder`, called by `llama_get_logits_ith`),
 * and node-llama-cpp's `sampleToken` reads them on a worker thread: two replies sampling from one batch at once
 * raced there and swapped rows, so each reply continued the other's text (seen with four concurrent KJV replies).
 * Samples from one context therefore run one at a time; different contexts (target, draft) don't wait for each other.
 */
const samplingLocks = new WeakMap<object, Mutex>();

function samplingLockOf(context: object): Mutex {
  let lock = samplingLocks.get(context);
  if (!lock) samplingLocks.set(context, (lock = new Mutex()));
  return lock;
}

interface Internals {
  samplingLock: Mutex;
  /** The sequence's id in its context (orders concurrent replies' decodes, see BatchGate). */
  sequenceId: number;
  decodeTokens(tokens: readonly Token[], logits: boolean[], mapper: (batchLogitIndex: number, tokenIndex: number) => Promise<undefined> | undefined): Promise<unknown>;
  resolveConfig(options: NonNullable<PositionOptions>): object;
  createSampler(): NativeSampler;
  sampleToken(batchLogitIndex: number, sampler: NativeSampler): Promise<Token | -1>;
}

/** The internal members this relies on (node-llama-cpp 3.21.1), or null when any is missing. */
function internalsOf(sequence: LlamaContextSequence, model: LlamaModel): Internals | null {
  /* eslint-disable @typescript-eslint/no-explicit-any -- node-llama-cpp's internals have no public types */
  const seq = sequence as any;
  const context = seq._context;
  const bindings = (model as any)._llama?._bindings;
  const nativeModel = (model as any)._model;
  if (
    typeof seq._decodeTokens !== "function" ||
    typeof seq._resolveSamplerConfig !== "function" ||
    typeof context?._ctx?.sampleToken !== "function" ||
    typeof bindings?.AddonSampler !== "function" ||
    nativeModel == null
  ) {
    return null;
  }
  return {
    samplingLock: samplingLockOf(context),
    sequenceId: typeof seq._sequenceId === "number" ? seq._sequenceId : 0,
    decodeTokens: (tokens, logits, mapper) =>
      seq._decodeTokens(tokens, logits, undefined, seq._tokenMeter, seq._contextShift, mapper, seq._takeIntervalCheckpointIfNeededAfterBatch),
    resolveConfig: (options) => seq._resolveSamplerConfig(options),
    createSampler: () => new bindings.AddonSampler(nativeModel) as NativeSampler,
    sampleToken: (batchLogitIndex, sampler) => context._ctx.sampleToken(batchLogitIndex, sampler),
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
}
