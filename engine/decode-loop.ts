import { randomInt } from "node:crypto";
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { SamplingOptions, StopReason, StreamedToken, TokenSource, VerifyStep } from "../contracts/engine/protocol.js";
import { commonPrefixLength, usableContext } from "./sequence-utils.js";
import type { SpeculationCostModel } from "./speculation/cost-model.js";
import { SpeculationMetrics } from "./speculation/metrics.js";
import type { PlannedStep, SpeculationPolicy } from "./speculation/policy.js";
import type { DecodeGate } from "./batch-gate.js";
import { SequenceSampler } from "./speculation/sequence-sampler.js";
import { prefill, verifyDrafts } from "./speculation/verifier.js";
import { IncrementalDetokenizer } from "./text-stream.js";

export { commonPrefixLength, usableContext };

/** What one reply's decode needs: its sequence and prompt, its limits and sampling, and where its steps go. */
export interface DecodeRequest {
  sequence: LlamaContextSequence;
  model: LlamaModel;
  promptTokens: readonly Token[];
  maxTokens: number;
  sampling: SamplingOptions;
  signal: AbortSignal;
  /** performance.now() when the request arrived; token timestamps and TTFT are measured from it. */
  startedAt: number;
  /** Called once per target decode with the tokens it produced (held-back tokens may arrive one step later). */
  onStep(tokens: StreamedToken[], step: VerifyStep): void;
  /** Speculation: absent or mode "off" decodes plainly. */
  policy?: SpeculationPolicy;
  costs?: SpeculationCostModel;
  /** Extra wait after each step: simulates a slower machine (tests that must act mid-reply use it). */
  stepDelayMs?: number;
  /** The target context's barrier, so concurrent replies' decodes go out together (see BatchGate). */
  gate?: DecodeGate;
  /** Called once the prompt is evaluated (before the first token is streamed): tokens kept and evaluated. */
  onPromptEvaluated?(prompt: { reusedTokens: number; evaluatedTokens: number; at: number }): void;
}

export interface DecodeOutcome {
  text: string;
  tokens: Token[];
  stopReason: StopReason;
  reusedPromptTokens: number;
  evaluatedPromptTokens: number;
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  durationMs: number;
  /** Target model evaluations (the prompt's counts once). */
  targetDecodes: number;
  metrics: SpeculationMetrics;
}

/** Turns produced tokens into streamed tokens, holding back those whose text is still an incomplete character. */
class TokenEmitter {
  private readonly detokenizer: IncrementalDetokenizer;
  private held: StreamedToken[] = [];
  text = "";

  constructor(
    model: LlamaModel,
    private readonly startedAt: number,
  ) {
    this.detokenizer = new IncrementalDetokenizer(model);
  }

  /** Returns the tokens ready to stream (each event's pieces concatenate to the reply's text). */
  push(token: Token, source: TokenSource, step: number, at: number): StreamedToken[] {
    const piece = this.detokenizer.push(token);
    this.text += piece;
    this.held.push({ id: token, text: "", source, t: at - this.startedAt, step });
    if (piece === "") return [];
    this.held[this.held.length - 1]!.text = piece;
    const ready = this.held;
    this.held = [];
    return ready;
  }

  flush(): StreamedToken[] {
    const tail = this.detokenizer.flush();
    this.text += tail;
    if (this.held.length === 0) return [];
    this.held[this.held.length - 1]!.text = tail;
    const ready = this.held;
    this.held = [];
    return ready;
  }
}

const PLAIN_STEP: PlannedStep = { plan: { speculator: null, k: 0 }, proposal: [] };

/**
 * The engine's own decode loop over one context sequence, rather than node-llama-cpp's chat session (whose token
 * predictor accepts at most one drafted token per decode in 3.21.1), so that the loop is ours:
 *
 * 1. prefix reuse: the sequence keeps what it holds of the prompt (all but the last prompt token at most) and the
 *    rest is erased;
 * 2. prefill: the rest of the prompt is evaluated and the first token sampled (step 0); `onPromptEvaluated` fires;
 * 3. then one step per target decode until EOG, max tokens, abort or a full context (checked before each step, and
 *    abort again after it, dropping that step's tokens): the policy plans a speculator and proposes drafts (none when
 *    plain, or with no policy), the target verifies them in one decode through SequenceSampler (sampling stops at the
 *    first rejected draft), the costs and metrics record the step, and the accepted drafts plus the target's own
 *    token are streamed with that step (`onStep`).
 *
 * Plain decoding is simply a verify step with no drafts: one code path, so speculation cannot drift from it.
 */
export async function runDecodeLoop(request: DecodeRequest): Promise<DecodeOutcome> {
  if (request.promptTokens.length === 0) throw new Error("empty prompt");
  // One native sampler for the whole reply (see SequenceSampler), freed when the reply ends, however it ends.
  const sampler = new SequenceSampler(request.sequence, request.model, request.gate);
  try {
    return await decode(request, sampler);
  } finally {
    sampler.dispose();
  }
}

async function decode(request: DecodeRequest, sampler: SequenceSampler): Promise<DecodeOutcome> {
  const { sequence, model, promptTokens, sampling, signal, policy, costs } = request;

  // Reuse the evaluated prefix: keep what matches, erase the rest. At least the last prompt token is evaluated
  // again, because its logits are what the first reply token is sampled from.
  const reused = Math.min(commonPrefixLength(sequence.contextTokens, promptTokens), promptTokens.length - 1);
  if (reused < sequence.nextTokenIndex) {
    await sequence.eraseContextTokenRanges([{ start: reused, end: sequence.nextTokenIndex }]);
  }

  const emitter = new TokenEmitter(model, request.startedAt);
  const metrics = new SpeculationMetrics();
  const output: Token[] = [];
  const history: Token[] = [...promptTokens];
  let firstTokenAt = 0;
  let stopReason: StopReason | undefined;
  let stepIndex = 0;

  /** Emits one step's produced tokens; returns false once the reply must end (EOG reached). */
  const emitStep = (produced: Array<{ token: Token; source: TokenSource }>, step: VerifyStep): boolean => {
    const ready: StreamedToken[] = [];
    let ended = false;
    for (const { token, source } of produced) {
      if (model.isEogToken(token)) {
        ended = true;
        break;
      }
      const now = performance.now();
      if (output.length === 0) firstTokenAt = now;
      output.push(token);
      history.push(token);
      ready.push(...emitter.push(token, source, step.index, now));
    }
    if (ready.length > 0) request.onStep(ready, step);
    return !ended;
  };

  const positionSampling = { sampling, replySeed: sampling.seed ?? randomInt(0, 2 ** 32) };
  await policy?.begin(promptTokens);
  let last = await prefill({ sampler, tokens: promptTokens.slice(reused), sampling: positionSampling });
  metrics.recordPrefill();
  request.onPromptEvaluated?.({ reusedTokens: reused, evaluatedTokens: promptTokens.length - reused, at: performance.now() });
  if (!emitStep([{ token: last, source: "target" }], { index: stepIndex++, speculator: null, proposed: 0, accepted: 0 })) {
    stopReason = "eog";
  }

  while (!stopReason) {
    if (output.length >= request.maxTokens) stopReason = "max-tokens";
    else if (signal.aborted) stopReason = "abort";
    else if (sequence.nextTokenIndex + 1 > usableContext(sequence)) stopReason = "context-full";
    if (stopReason) break;

    if (request.stepDelayMs) await new Promise((resolve) => setTimeout(resolve, request.stepDelayMs));

    // Never draft past the reply's token budget or the context's end: a step then never produces tokens that
    // would have to be thrown away, which keeps the counters exact.
    const budget = Math.min(request.maxTokens - output.length - 1, usableContext(sequence) - sequence.nextTokenIndex - 1);
    const draftStart = performance.now();
    // Awaited only when it is a promise (a draft model was asked): see SpeculationPolicy.plan.
    const planned = policy ? policy.plan(history, budget) : PLAIN_STEP;
    const { plan, proposal } = planned instanceof Promise ? await planned : planned;
    const drafts = proposal.slice(0, Math.max(0, budget));
    const draftMs = performance.now() - draftStart;

    const verifyStart = performance.now();
    const verifying = verifyDrafts({ sequence, sampler, model, last, drafts, sampling: positionSampling, outputSoFar: output });
    // Drafting time counts whether or not it produced a proposal: a draft model that ends up proposing nothing
    // (low confidence) has still spent its decodes, and the cost model and the counters must see that.
    const asked = plan.speculator?.kind ?? null;
    // The policy's bookkeeping runs while the target decodes, off the path between two decodes. Two hops:
    // node-llama-cpp dispatches the batch in a setImmediate queued after this one (the sampler's decode awaits
    // before queueing it), and the bookkeeping must not delay that dispatch.
    if (policy) setImmediate(() => setImmediate(() => policy.idle(history, asked)));
    const verified = await verifying;
    const verifyMs = performance.now() - verifyStart;

    const kind = drafts.length > 0 ? asked : null;
    costs?.recordVerify(verified.positions, verifyMs);
    if (asked) {
      costs?.recordDraft(asked, drafts.length, draftMs);
      if (kind) costs?.recordAcceptance(kind, drafts.length, verified.accepted.length);
    }
    metrics.recordStep(kind, drafts.length, verified.accepted.length, draftMs, verifyMs);
    policy?.verified(kind, drafts.length, verified.accepted.length);

    if (signal.aborted) {
      // The user asked to stop while this step ran: its tokens are dropped.
      stopReason = "abort";
      break;
    }
    const step: VerifyStep = { index: stepIndex++, speculator: kind, proposed: drafts.length, accepted: verified.accepted.length };
    const produced = [
      ...verified.accepted.map((token) => ({ token, source: "draft" as const })),
      { token: verified.targetToken, source: "target" as const },
    ];
    const goOn = emitStep(produced, step);
    policy?.observe(history);
    if (!goOn) stopReason = "eog";
    last = verified.targetToken;
  }

  const tail = emitter.flush();
  if (tail.length > 0) request.onStep(tail, { index: stepIndex - 1, speculator: null, proposed: 0, accepted: 0 });
  await policy?.end(output);

  const end = performance.now();
  const decodeSeconds = (end - firstTokenAt) / 1000;
  return {
    text: emitter.text,
    tokens: output,
    stopReason: stopReason ?? "eog",
    reusedPromptTokens: reused,
    evaluatedPromptTokens: promptTokens.length - reused,
    timeToFirstTokenMs: output.length > 0 ? firstTokenAt - request.startedAt : end - request.startedAt,
    tokensPerSecond: output.length > 1 && decodeSeconds > 0 ? (output.length - 1) / decodeSeconds : 0,
    durationMs: end - request.startedAt,
    targetDecodes: metrics.targetDecodes,
    metrics,
  };
}
