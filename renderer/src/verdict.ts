/**
 * The A/B benchmark's result in plain words: one line per mode saying how much faster or slower it was on this
 * machine and what to do about it ("Draft model: 30% slower on this machine — keep Auto").
 */
import type { BenchmarkResult } from "../../contracts/window/index.js";
import type { BenchReport, SpeculationMode } from "../../contracts/engine/protocol.js";

export const BENCH_MODE_LABELS: Record<SpeculationMode, string> = {
  off: "Off",
  draft: "Draft model",
  lookup: "Prompt lookup",
  ngram: "Learned n-grams",
  auto: "Auto",
};

/** Within this much of plain decoding a mode counts as "about as fast" (the runs' own noise). */
const SAME_SPEED = 0.05;

export interface Verdict {
  mode: SpeculationMode;
  /** "faster", "slower" or "same" than plain decoding. */
  outcome: "faster" | "slower" | "same";
  line: string;
}

function advice(report: BenchReport, outcome: Verdict["outcome"], all: readonly BenchReport[]): string {
  const auto = all.find((r) => r.mode === "auto");
  const autoSlower = auto !== undefined && auto.speedup < 1 - SAME_SPEED;
  if (outcome === "faster") return report.mode === "auto" ? "keep Auto" : "worth using";
  if (report.mode === "auto" || autoSlower) return "speculation Off is fastest here";
  return "keep Auto";
}

/** One verdict per measured mode, in the result's order. */
export function benchVerdicts(result: Pick<BenchmarkResult, "reports">): Verdict[] {
  return result.reports.map((report) => {
    const ratio = report.speedup;
    const label = BENCH_MODE_LABELS[report.mode];
    const outcome: Verdict["outcome"] = ratio >= 1 + SAME_SPEED ? "faster" : ratio <= 1 - SAME_SPEED ? "slower" : "same";
    const differs = report.identicalOutputs === false ? " (but its text differed from plain decoding)" : "";
    if (outcome === "same") return { mode: report.mode, outcome, line: `${label}: about as fast as without it on this machine — no gain${differs}` };
    const percent = Math.round(Math.abs(ratio - 1) * 100);
    return { mode: report.mode, outcome, line: `${label}: ${percent}% ${outcome} on this machine — ${advice(report, outcome, result.reports)}${differs}` };
  });
}

/**
 * What was measured, for text that would otherwise promise speed (welcome screen, Settings): null when nothing was
 * measured yet, else e.g. "Measured on this machine: Draft model 30% slower, Prompt lookup 12% faster."
 */
export function measuredSummary(result: Pick<BenchmarkResult, "reports"> | null): string | null {
  if (!result || result.reports.length === 0) return null;
  const parts = benchVerdicts(result).map((v) => {
    const report = result.reports.find((r) => r.mode === v.mode)!;
    const label = BENCH_MODE_LABELS[v.mode];
    return v.outcome === "same" ? `${label} about the same` : `${label} ${Math.round(Math.abs(report.speedup - 1) * 100)}% ${v.outcome}`;
  });
  return `Measured on this machine: ${parts.join(", ")}.`;
}
