/**
 * The metrics panel's figures of one reply: live from the streamed steps and token timestamps while it is being
 * generated, from its stats once finished (the engine's counters are then the authority, so they reconcile with
 * `tandem bench` and the stats line: proposed = accepted + rejected, acceptance = accepted / proposed).
 */
import type { GenerationStats, StopReason } from "../../contracts/engine/protocol.js";
import { speculatorsUsed } from "./format.js";
import type { LiveReply } from "./stores/metrics.js";

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
  };
}
