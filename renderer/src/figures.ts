/**
 * The metrics panel's figures of one reply: live from the streamed steps and token timestamps while it is being
 * generated, from its stats once finished (the engine's counters are then the authority, so they reconcile with
 * `tandem bench` and the stats line: proposed = accepted + rejected, acceptance = accepted / proposed).
 */
import type { GenerationStats, StopReason } from "../../contracts/engine/protocol.js";
import { speculatorsUsed } from "./format.js";
import type { LiveReply } from "./stores/metrics.js";
import type { Baseline } from "./stores/benchmarks.js";

export interface ReplyFigures {
  live: boolean;
  tokens: number;
  tokensPerSecond: number | null;
  timeToFirstTokenMs: number | null;
  /** Whether the reply speculated at all (null counters otherwise). */
  speculating: boolean;
  proposed: number;
  accepted: number;
  rejected: number;
  /** accepted / proposed; null when nothing was proposed. */
  acceptanceRate: number | null;
  /** Accepted draft tokens per target decode; null before the first decode. */
  meanAcceptedPerDecode: number | null;
  targetDecodes: number;
  /** Share of decode time spent drafting / verifying (finished replies only). */
  draftShare: number | null;
  verifyShare: number | null;
  /** The speculators that drafted, most steps first. */
  speculators: string[];
  /** The draft length in use now (live: the latest decode's proposal; finished: the engine's final length). */
  draftLength: number | null;
  stopReason: StopReason | null;
  /** Draft tokens accepted per verify step: histogram[a] = steps that accepted a. */
  histogram: number[];
  /** How the engine ran (finished replies only): a baseline is compared only when measured the same way. */
  threads: number | null;
  backend: string | null;
}

/** Figures of a reply being generated, from what streamed so far. */
export function liveFigures(reply: LiveReply): ReplyFigures {
  const elapsed = reply.firstT !== null && reply.lastT !== null ? reply.lastT - reply.firstT : 0;
  return {
    live: true,
    tokens: reply.tokens,
    // As the engine measures it: tokens after the first, over the time since the first.
    tokensPerSecond: reply.tokens > 1 && elapsed > 0 ? ((reply.tokens - 1) / elapsed) * 1000 : null,
    timeToFirstTokenMs: reply.firstT,
    speculating: reply.proposed > 0 || Object.keys(reply.stepsBySpeculator).length > 0,
    proposed: reply.proposed,
    accepted: reply.accepted,
    rejected: reply.proposed - reply.accepted,
    acceptanceRate: reply.proposed > 0 ? reply.accepted / reply.proposed : null,
    meanAcceptedPerDecode: reply.decodes > 0 ? reply.accepted / reply.decodes : null,
    targetDecodes: reply.decodes,
    draftShare: null,
    verifyShare: null,
    speculators: speculatorsUsed(reply),
    draftLength: reply.draftLength,
    stopReason: null,
    histogram: reply.histogram,
    threads: null,
    backend: null,
  };
}

/** Figures of a finished reply, from its stats. */
export function finishedFigures(stats: GenerationStats): ReplyFigures {
  const spec = stats.speculation && stats.speculation.mode !== "off" ? stats.speculation : null;
  const timed = spec ? spec.draftMs + spec.verifyMs : 0;
  return {
    live: false,
    tokens: stats.tokens,
    tokensPerSecond: stats.tokens > 1 ? stats.tokensPerSecond : null,
    timeToFirstTokenMs: stats.timeToFirstTokenMs,
    speculating: spec !== null,
    proposed: spec?.proposed ?? 0,
    accepted: spec?.accepted ?? 0,
    rejected: spec?.rejected ?? 0,
    acceptanceRate: spec && spec.proposed > 0 ? spec.accepted / spec.proposed : null,
    meanAcceptedPerDecode: spec && stats.targetDecodes > 0 ? spec.accepted / stats.targetDecodes : null,
    targetDecodes: stats.targetDecodes,
    draftShare: spec && timed > 0 ? spec.draftMs / timed : null,
    verifyShare: spec && timed > 0 ? spec.verifyMs / timed : null,
    speculators: spec ? speculatorsUsed(spec) : [],
    draftLength: spec ? spec.finalDraftLength : null,
    stopReason: stats.stopReason,
    histogram: spec?.acceptedHistogram ?? [],
    threads: stats.threads,
    backend: stats.backend,
  };
}

/**
 * A reply's speedup over the measured baseline, only like with like: the reply drafted something, it was written by
 * the model the baseline measured, and the engine ran as it did then (threads, backend). Otherwise why there is none.
 */
export type Speedup = { value: number } | { reason: string };

export function replySpeedup(
  reply: { tokensPerSecond: number | null; speculating: boolean; proposed: number; threads: number | null; backend: string | null },
  baseline: Baseline | null,
  sameModel: boolean,
): Speedup {
  if (!reply.speculating) return { reason: "speculation was off for this reply: its speed is plain decoding" };
  if (reply.proposed <= 0) return { reason: "nothing was drafted in this reply: its speed is plain decoding" };
  if (!baseline) return { reason: "no measured baseline for this model yet (run the A/B benchmark)" };
  if (!sameModel) return { reason: "the baseline was measured for another model" };
  if ((reply.threads !== null && reply.threads !== baseline.threads) || (reply.backend !== null && reply.backend !== baseline.backend)) {
    return { reason: `the baseline ran with ${baseline.threads} threads on ${baseline.backend}, this reply with ${reply.threads ?? "?"} on ${reply.backend ?? "?"}` };
  }
  if (reply.tokensPerSecond === null || reply.tokensPerSecond <= 0) return { reason: "too few tokens to measure a speed" };
  return { value: reply.tokensPerSecond / baseline.tokensPerSecond };
}
