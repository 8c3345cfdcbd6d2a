import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { SamplingOptions } from "../../contracts/engine/protocol.js";
import type { PositionOptions, SequenceSampler } from "./sequence-sampler.js";

const REPEAT_PENALTY_WINDOW = 64;

/**
 * The seed for sampling output token number `position` of a reply.
 *
 * Why: node-llama-cpp creates a fresh sampler for every `controlledEvaluate` call and, without a seed, seeds it
 * with the current second, so every token sampled within one second would reuse the same random draw. Seeding each
 * position from (reply seed, position) makes every draw independent, and makes a seeded reply reproducible: plain
 * and speculative decoding draw output token n with the same seed from the same distribution, so they agree token
 * for token at any temperature, not only at 0.
 */
export function positionSeed(replySeed: number, position: number): number {
  let x = (replySeed ^ Math.imul(position + 1, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Sampling for one position; `replySeed` is the request's seed or a random one drawn once per reply. */
export interface PositionSampling {
  sampling: SamplingOptions;
  replySeed: number;
}

/**
 * Sampling options for output position `position`; the repeat penalty sees exactly the tokens before it
 * (`output` then `drafts`, the last REPEAT_PENALTY_WINDOW of them), built only when a penalty is set.
 */
function positionOptions({ sampling, replySeed }: PositionSampling, position: number, output: readonly Token[], drafts: readonly Token[] = []): PositionOptions {
  return {
    temperature: sampling.temperature,
    ...(sampling.topK !== undefined ? { topK: sampling.topK } : {}),
    ...(sampling.topP !== undefined ? { topP: sampling.topP } : {}),
    ...(sampling.minP !== undefined ? { minP: sampling.minP } : {}),
    // Greedy sampling ignores the seed; a constant one leaves the sampler's config unchanged from one position to
    // the next, so it is not rebuilt at every position.
    seed: sampling.temperature > 0 ? positionSeed(replySeed, position) : 0,
    ...(sampling.repeatPenalty !== undefined && sampling.repeatPenalty !== 1
      ? { repeatPenalty: { punishTokens: [...output.slice(-REPEAT_PENALTY_WINDOW), ...drafts].slice(-REPEAT_PENALTY_WINDOW), penalty: sampling.repeatPenalty } }
      : {}),
  };
}

export interface VerifyOutcome {
  /** Drafted tokens the target agreed with, in order (never an end-of-generation token). */
  accepted: Token[];
  /** The target's own token after the accepted ones: its choice at the first disagreement, or the bonus token. */
  targetToken: Token;
  /** Positions evaluated in the batch (1 + drafted). */
  positions: number;
}

/**
 * One target decode over [last, d1..dk]: the target samples its own token at every position in a single batch,
 * and the longest prefix of drafts that equals the target's choices is kept, followed by the target's choice at
 * the first mismatch (or after the last draft). Rejected drafts are erased from the target's KV cache.
 *
 * Why this is exact: at each kept position the emitted token is the target's own sample given exactly the tokens
 * before it, as in plain decoding. At temperature 0 the sample is the argmax, so the output is token-for-token
 * the plain decode; at temperature > 0 each position is a fresh draw from the target's distribution, and accepting
 * a draft only when it equals that draw leaves the output distribution the target's. Per-position sampling also
 * keeps the repeat penalty right: each position is penalised by the output before it, drafts included.
 *
 * `last` is the newest emitted token, not yet in the context; `outputSoFar` is the reply's emitted tokens (for
 * the repeat penalty). With no drafts this is one plain decode step.
 */
export async function verifyDrafts(options: {
  sequence: LlamaContextSequence;
  sampler: SequenceSampler;
  model: LlamaModel;
  last: Token;
  drafts: readonly Token[];
  sampling: PositionSampling;
  /** The reply's emitted tokens, `last` included: the batch samples output positions outputSoFar.length + i. */
  outputSoFar: readonly Token[];
}): Promise<VerifyOutcome> {
  const { sequence, sampler, model, last, drafts, sampling, outputSoFar } = options;
  const start = sequence.nextTokenIndex;
  const batch = [last, ...drafts];
  // Positions are sampled in order and sampling stops at the first one that rejects its draft (or has none): the
  // positions after it would be erased anyway, so their samples could never be used.
  const choices = await sampler.evaluate(
    batch,
    0,
    (index) => positionOptions(sampling, outputSoFar.length + index, outputSoFar, drafts.slice(0, index)),
    (index, choice) => drafts[index] !== undefined && choice === drafts[index] && !model.isEogToken(choice),
  );

  const accepted: Token[] = [];
  let targetToken: Token | undefined;
  for (let i = 0; i < batch.length; i++) {
    const choice = choices[i];
    if (choice == null) throw new Error("llama.cpp returned no token for a verified position");
    const draft = drafts[i];
    if (draft !== undefined && choice === draft && !model.isEogToken(draft)) {
      accepted.push(draft);
      continue;
    }
    targetToken = choice;
    break;
  }
  // Keep [last, accepted...] in the cache; erase the positions of rejected drafts.
  const keepEnd = start + 1 + accepted.length;
  if (keepEnd < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keepEnd, end: sequence.nextTokenIndex }]);
  return { accepted, targetToken: targetToken!, positions: batch.length };
}

/** Evaluates the prompt (after the reused prefix) and samples the first reply token. */
export async function prefill(options: {
  sampler: SequenceSampler;
  tokens: readonly Token[];
  sampling: PositionSampling;
}): Promise<Token> {
  const { sampler, tokens, sampling } = options;
  const [next] = await sampler.evaluate(tokens, tokens.length - 1, () => positionOptions(sampling, 0, []), () => false);
  if (next == null) throw new Error("llama.cpp returned no token for the last prompt position");
  return next;
}
