import { create } from "zustand";
import type { BenchmarkResult } from "../../../contracts/window/index.js";
import type { BenchMode } from "../../../contracts/engine/protocol.js";

/** The A/B benchmark: saved results (the metrics panel's baseline) and the run in progress. */
export interface BenchmarksState {
  /** Saved results, newest first; null until loaded. */
  results: BenchmarkResult[] | null;
  /** The run in progress (progress null until the first prompt is done). */
  running: { done: number; total: number; mode: BenchMode | null } | null;
  /** Why the last run ended without a result ("cancelled" included). */
  error: string | null;
  setResults(results: BenchmarkResult[]): void;
  started(): void;
  progress(p: { done: number; total: number; mode: BenchMode }): void;
  finished(outcome: { result: BenchmarkResult } | { error: string }): void;
}

export const useBenchmarksStore = create<BenchmarksState>()((set) => ({
  results: null,
  running: null,
  error: null,
  setResults: (results) => set({ results }),
  started: () => set({ running: { done: 0, total: 0, mode: null }, error: null }),
  progress: (p) => set((s) => (s.running ? { running: { ...p } } : s)),
  finished: (outcome) =>
    set((s) =>
      "result" in outcome
        ? { running: null, error: null, results: [outcome.result, ...(s.results ?? []).filter((r) => r.id !== outcome.result.id)] }
        : { running: null, error: outcome.error },
    ),
}));

/** A model's measured plain-decode speed: the latest saved benchmark of that model (file name). */
export interface Baseline {
  tokensPerSecond: number;
  measuredAt: number;
  resultId: string;
  /** How the engine ran when it was measured: a reply run otherwise is not compared with it. */
  threads: number;
  backend: string;
}

export function baselineFor(results: readonly BenchmarkResult[] | null, model: string | null): Baseline | null {
  if (!results || !model) return null;
  const latest = results.filter((r) => r.model === model).sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!latest) return null;
  // Each mode's report measured the baseline on the same prompts; their runs are pooled by tokens.
  const runs = latest.reports.filter((r) => r.baseline.tokensPerSecond > 0);
  if (runs.length === 0) return null;
  const tokens = runs.reduce((n, r) => n + r.baseline.tokens, 0);
  const tokensPerSecond =
    tokens > 0 ? runs.reduce((n, r) => n + r.baseline.tokensPerSecond * r.baseline.tokens, 0) / tokens : runs[0].baseline.tokensPerSecond;
  return { tokensPerSecond, measuredAt: latest.createdAt, resultId: latest.id, threads: runs[0].machine.threads, backend: runs[0].machine.backend };
}
