import os from "node:os";
import path from "node:path";
import { Engine } from "../engine.js";
import type { GenerationResult, SpeculationMode, ThreadsSetting } from "../protocol.js";
import { expectedTokensPerStep } from "../speculation/cost-model.js";

/**
 * `tandem bench`: plain decoding (the baseline) against one speculation mode, same engine, same process, same
 * threads, same prompts, alternating which runs first so drift on a noisy machine hits both alike.
 *
 * Speed is decode speed (tokens after the first, over the time after the first token): prefill is the same work
 * in both modes and the prompt's prefix may be reused by the second run of a prompt.
 */
export interface BenchOptions {
  model: string;
  draft?: string;
  mode: SpeculationMode;
  prompts: string[];
  maxTokens: number;
  temperature: number;
  threads: ThreadsSetting;
  contextSize?: number;
  maxDraftTokens: number;
  cacheDir: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface BenchReport {
  machine: { cpu: string; cores: number; ramGB: number; platform: string; backend: string; threads: number; draftThreads: number | null };
  model: string;
  draft: string | null;
  mode: SpeculationMode;
  prompts: number;
  maxTokens: number;
  temperature: number;
  baseline: { tokensPerSecond: number; tokens: number };
  speculative: {
    tokensPerSecond: number;
    tokens: number;
    acceptanceRate: number;
    meanAcceptedPerStep: number;
    proposed: number;
    accepted: number;
    rejected: number;
    targetDecodes: number;
    verifySteps: number;
  };
  /** Aggregate decode speed ratio; the median of the per-prompt ratios is given too (noisy machines). Each prompt
   * runs four times, baseline-speculative-speculative-baseline. */
  speedup: number;
  speedupMedian: number;
  identicalOutputs: boolean | null;
  theoretical: {
    /** Per-position acceptance (geometric MLE over verify steps). */
    alpha: number;
    /** Mean drafted tokens per verify step. */
    gamma: number;
    /** Draft time per drafted token / baseline time per token. */
    draftCostRatio: number;
    /** Verify-step time / baseline time per token. */
    verifyCostRatio: number;
    /** Share of the speculative run's decodes that checked drafts (the rest were plain steps). */
    speculativeStepShare: number;
    /** Leviathan et al.'s E = (1-α^(γ+1))/(1-α) per verify step, weighted with plain steps by their share. */
    expectedSpeedup: number;
  };
  efficiency: number;
}

interface Sample {
  tokens: number;
  decodeMs: number;
  text: string;
  result: GenerationResult;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const engine = new Engine((level, message) => {
    if (level === "warn" || level === "error") log(`[${level}] ${message}`);
  });
  try {
    const system = await engine.init({ gpu: "auto", cacheDir: options.cacheDir });
    const target = await engine.loadModel(
      { modelPath: options.model, contextSize: options.contextSize ?? "auto", threads: options.threads, gpuLayers: "auto" },
      () => {},
    );
    // The draft's threads are measured on their own: a tiny draft wants 1 thread where a 1B target wants 2, and
    // the comparison that must be like for like is the target's (baseline and speculative use the same threads).
    const draft = options.draft ? await engine.loadDraftModel({ modelPath: options.draft, threads: "auto" }) : undefined;
    log(`target ${target.name}: ${target.threads} threads; ${draft ? `draft ${draft.name}: ${draft.threads} threads` : "no draft"}`);

    let counter = 0;
    const generate = async (prompt: string, mode: SpeculationMode): Promise<Sample> => {
      let firstAt = 0;
      let lastAt = 0;
      const result = await engine.generate(
        {
          generationId: `bench-${counter++}`,
          sessionKey: "bench",
          messages: [{ role: "user", content: prompt }],
          maxTokens: options.maxTokens,
          sampling: { temperature: options.temperature, ...(options.temperature > 0 ? { seed: 1234 } : {}) },
          speculation: { mode, maxDraftTokens: options.maxDraftTokens },
        },
        (tokens) => {
          for (const token of tokens) {
            if (firstAt === 0) firstAt = token.t;
            lastAt = token.t;
          }
        },
        // Only the speculative runs teach the n-gram table: it must never see a baseline reply to the same
        // prompt before the speculative run is measured.
        { learn: mode !== "off" },
      );
      return { tokens: result.stats.tokens, decodeMs: lastAt - firstAt, text: result.text, result };
    };

    // Warm-up: page in both models and measure the verify curve before anything is timed.
    await generate(options.prompts[0]!, "off");
    if (options.mode !== "off") await generate(options.prompts[0]!, options.mode);

    // ABBA per prompt: each mode runs once first and once second on every prompt. The run order matters on this
    // hardware (the second run of a prompt reuses its evaluated prefix and finds caches warm): with plain
    // alternation, off-vs-off measured 0.92-0.95x; with ABBA the order cancels out on every prompt.
    const baseline: Sample[] = [];
    const speculative: Sample[] = [];
    for (const [i, prompt] of options.prompts.entries()) {
      const b1 = await generate(prompt, "off");
      const s1 = await generate(prompt, options.mode);
      const s2 = await generate(prompt, options.mode);
      const b2 = await generate(prompt, "off");
      baseline.push(b1, b2);
      speculative.push(s1, s2);
      log(`prompt ${i + 1}/${options.prompts.length}: ${b1.tokens} tokens, speedup ${((rate(s1) + rate(s2)) / Math.max(1e-9, rate(b1) + rate(b2))).toFixed(2)}x`);
    }

    const decodeRate = (samples: Sample[]) => {
      const tokens = samples.reduce((n, s) => n + Math.max(0, s.tokens - 1), 0);
      const ms = samples.reduce((n, s) => n + s.decodeMs, 0);
      return ms > 0 ? (tokens * 1000) / ms : 0;
    };
    const baseRate = decodeRate(baseline);
    const specRate = decodeRate(speculative);
    const ratios: number[] = [];
    for (let i = 0; i + 1 < baseline.length; i += 2) {
      const ratio = (rate(speculative[i]!) + rate(speculative[i + 1]!)) / Math.max(1e-9, rate(baseline[i]!) + rate(baseline[i + 1]!));
      if (Number.isFinite(ratio) && ratio > 0) ratios.push(ratio);
    }

    // Counters over the timed speculative runs.
    const specStats = speculative.map((s) => s.result.stats.speculation).filter((s) => s !== null);
    const sum = (pick: (s: (typeof specStats)[number]) => number) => specStats.reduce((n, s) => n + pick(s), 0);
    const proposed = sum((s) => s.proposed);
    const accepted = sum((s) => s.accepted);
    const verifySteps = sum((s) => s.verifySteps);
    const targetDecodes = speculative.reduce((n, s) => n + s.result.stats.targetDecodes, 0);
    const rejectingSteps = sum((s) => s.rejectingSteps ?? 0);
    const alpha = proposed > 0 ? accepted / (accepted + rejectingSteps) : 0;
    const gamma = verifySteps > 0 ? proposed / verifySteps : 0;
    const baseMsPerToken = baseRate > 0 ? 1000 / baseRate : 0;
    const draftMs = sum((s) => s.draftMs);
    const verifyMsSpec = verifySteps > 0 ? sum((s) => s.speculativeVerifyMs ?? 0) / verifySteps : 0;
    const c = proposed > 0 && baseMsPerToken > 0 ? draftMs / proposed / baseMsPerToken : 0;
    const v = verifySteps > 0 && baseMsPerToken > 0 ? verifyMsSpec / baseMsPerToken : 1;
    const share = targetDecodes > 0 ? verifySteps / targetDecodes : 0;
    const e = gamma > 0 ? expectedTokensPerStep(Math.min(alpha, 0.999), gamma) : 1;
    const expected = share > 0 ? (share * e + (1 - share)) / (share * (gamma * c + v) + (1 - share)) : 1;
    const speedup = baseRate > 0 ? specRate / baseRate : 0;

    return {
      machine: {
        cpu: system.cpu.model,
        cores: system.cpu.cores,
        ramGB: Math.round(os.totalmem() / 2 ** 30),
        platform: `${process.platform}-${process.arch}`,
        backend: system.backend,
        threads: target.threads,
        draftThreads: draft?.threads ?? null,
      },
      model: path.basename(options.model),
      draft: options.draft ? path.basename(options.draft) : null,
      mode: options.mode,
      prompts: options.prompts.length,
      maxTokens: options.maxTokens,
      temperature: options.temperature,
      baseline: { tokensPerSecond: round(baseRate, 1), tokens: baseline.reduce((n, s) => n + s.tokens, 0) },
      speculative: {
        tokensPerSecond: round(specRate, 1),
        tokens: speculative.reduce((n, s) => n + s.tokens, 0),
        acceptanceRate: proposed > 0 ? round(accepted / proposed) : 0,
        meanAcceptedPerStep: targetDecodes > 0 ? round(accepted / targetDecodes) : 0,
        proposed,
        accepted,
        rejected: proposed - accepted,
        targetDecodes,
        verifySteps,
      },
      speedup: round(speedup),
      speedupMedian: round(median(ratios)),
      identicalOutputs: options.temperature === 0 ? baseline.every((b, i) => b.text === speculative[i]!.text) : null,
      theoretical: {
        alpha: round(alpha),
        gamma: round(gamma, 2),
        draftCostRatio: round(c),
        verifyCostRatio: round(v),
        speculativeStepShare: round(share),
        expectedSpeedup: round(expected),
      },
      efficiency: expected > 0 ? round(speedup / expected) : 0,
    };
  } finally {
    await engine.dispose();
  }
}

function rate(sample: Sample): number {
  return sample.decodeMs > 0 ? ((sample.tokens - 1) * 1000) / sample.decodeMs : 0;
}
