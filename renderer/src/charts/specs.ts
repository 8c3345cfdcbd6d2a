/** The metrics panel's charts: what each shows, and how its data is built from the stores. */
import type { Message } from "../../../contracts/window/index.js";
import type { Baseline } from "../stores/benchmarks.js";
import type { LiveReply } from "../stores/metrics.js";
import type { ChartData, ChartSpec } from "./adapter.js";
import { finishedFigures, replySpeedup } from "../figures.js";

export const replyChart: ChartSpec = {
  id: "reply",
  title: "This reply: speed and acceptance over its tokens",
  kind: "line",
  xLabel: "tokens",
  height: 150,
  scales: {
    rate: { label: "tok/s", side: "left" },
    acceptance: { label: "accepted", side: "right", min: 0, max: 1, percent: true },
  },
  series: [
    { label: "tok/s (last second)", color: "--accent", scale: "rate", fill: true },
    { label: "acceptance so far", color: "--good", scale: "acceptance" },
  ],
};

/** Acceptance per reply (two axes at most per chart: the speedup has its own chart below). */
export const conversationChart: ChartSpec = {
  id: "conversation",
  title: "This conversation: how many guesses were kept, per reply",
  kind: "line",
  xLabel: "reply",
  height: 150,
  points: true,
  scales: {
    acceptance: { label: "kept", side: "left", min: 0, max: 1, percent: true },
    perDecode: { label: "extra per step", side: "right" },
  },
  series: [
    { label: "guesses kept", color: "--good", scale: "acceptance" },
    { label: "extra tokens per step", color: "--accent", scale: "perDecode", dash: [4, 3] },
  ],
};

/** Speedup per reply over the measured baseline (only replies comparable with it have a point). */
export const speedupChart: ChartSpec = {
  id: "speedup",
  title: "This conversation: speed compared with plain decoding",
  kind: "line",
  xLabel: "reply",
  height: 110,
  points: true,
  scales: { speedup: { label: "× baseline", side: "left" } },
  series: [{ label: "speedup", color: "--warning", scale: "speedup" }],
};

export const histogramChart: ChartSpec = {
  id: "histogram",
  title: "Accepted draft tokens per verify step",
  kind: "bars",
  xLabel: "accepted",
  height: 130,
  scales: { steps: { label: "steps", side: "left" } },
  series: [{ label: "verify steps", color: "--accent", scale: "steps", fill: true }],
};

/** Per-event points of a reply: tokens so far, then tokens/s over the last second and acceptance so far. */
export function replyData(reply: LiveReply | null): ChartData {
  if (!reply) return [[], [], []];
  const s = reply.series;
  return [s.tokens.slice(), s.tokensPerSecond.slice(), s.acceptance.slice()];
}

/**
 * One point per finished assistant reply with stats, in order: acceptance, accepted per target decode, and speedup
 * (the reply's tokens/s over the model's measured baseline; all null without a baseline, never estimated).
 */
/**
 * Per finished reply: acceptance, accepted per decode, and speedup against the current model's measured baseline.
 * Replies written by another model get no speedup point: the baseline is this model's.
 */
export function conversationData(messages: readonly Message[], baseline: Baseline | null, model: string | null): ChartData {
  const x: number[] = [];
  const acceptance: (number | null)[] = [];
  const perDecode: (number | null)[] = [];
  const speedup: (number | null)[] = [];
  for (const m of messages) {
    if (m.role !== "assistant" || m.status === "streaming" || !m.stats) continue;
    const spec = m.stats.speculation && m.stats.speculation.mode !== "off" ? m.stats.speculation : null;
    x.push(x.length + 1);
    acceptance.push(spec && spec.proposed > 0 ? spec.accepted / spec.proposed : null);
    perDecode.push(spec && m.stats.targetDecodes > 0 ? spec.accepted / m.stats.targetDecodes : null);
    // Like with like only (figures.ts replySpeedup): a reply that drafted, of the baseline's model, run as it was.
    const measured = replySpeedup(finishedFigures(m.stats), baseline, model !== null && m.model === model);
    speedup.push("value" in measured ? measured.value : null);
  }
  return [x, acceptance, perDecode, speedup];
}

/** Verify steps by accepted length, for 0..k (k at least the histogram's own range). */
export function histogramData(histogram: readonly number[], k: number): ChartData {
  const top = Math.max(k, histogram.length - 1, 0);
  const x: number[] = [];
  const y: number[] = [];
  for (let a = 0; a <= top; a++) {
    x.push(a);
    y.push(histogram[a] ?? 0);
  }
  return [x, y];
}
