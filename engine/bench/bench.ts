import os from "node:os";
import path from "node:path";
import { Engine } from "../engine.js";
import { EngineFailure } from "../errors.js";
import type { BenchReport, GenerationResult, SpeculationMode, SystemInfo, ThreadsSetting } from "../../contracts/engine/protocol.js";
import { expectedTokensPerStep } from "../speculation/cost-model.js";
import { median } from "../median.js";
import { engineParams } from "../../contracts/engine/protocol.js";

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

export type { BenchReport };

/** How the bench runs on an engine that already holds the target (and draft). */
export interface BenchOnEngineOptions {
  prompts: string[];
  /** Each mode is compared with plain decoding on every prompt (ABBA), one report per mode. */
  modes: SpeculationMode[];
  maxTokens: number;
  maxDraftTokens: number;
  /** Default 0 (greedy: the identical-output check needs it). */
  temperature?: number;
  /** Whether the speculative runs teach the n-gram table. The CLI's table is a throwaway one (or the user asked to
   * keep theirs); the app's bench never teaches the user's table (false). Baselines never teach it. */
  learn?: boolean;
  /** Aborting stops the reply being generated and fails the bench with ABORTED. */
  signal?: AbortSignal;
  /** After each prompt of each mode: `done` of `total` (= modes × prompts). */
  onProgress?: (progress: { done: number; total: number; mode: SpeculationMode }) => void;
  log?: (line: string) => void;
  /** Prefix of the bench's message ids and its conversation id (one bench at a time per prefix). */
  id?: string;
}

/** One timed reply: its tokens, the time from its first token to its last, its text and stats. */
export interface Sample {
  tokens: number;
  decodeMs: number;
  text: string;
  result: GenerationResult;
}


/** The machine a bench ran on, as its report records it. */
export function benchMachine(system: SystemInfo, threads: number, draftThreads: number | null) {
  return {
    cpu: system.cpu.model,
    cores: system.cpu.cores,
    ramGB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
    backend: system.backend,
    threads,
    draftThreads,
  };
}

export const round = (x: number, digits = 3) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : 0);

/**
 * An in-process engine holding the bench's target (and draft) with the threads asked for. The draft's threads are
 * measured on their own: a tiny draft wants 1 thread where a 1B target wants 2, and the comparison that must be
 * like for like is the target's (baseline and speculative use the same threads).
 */
export async function loadBenchEngine(options: Pick<BenchOptions, "model" | "draft" | "threads" | "contextSize" | "cacheDir" | "log">) {
  const log = options.log ?? (() => {});
  const engine = new Engine((level, message) => {
    if (level === "warn" || level === "error") log(`[${level}] ${message}`);
  });
  try {
    await engine.init({ gpu: "auto", cacheDir: options.cacheDir });
    const target = await engine.loadModel(
      engineParams("loadModel", { modelPath: options.model, contextSize: options.contextSize ?? "auto", threads: options.threads, gpuLayers: "auto" }),
      () => {},
    );
    const draft = options.draft ? await engine.loadDraftModel({ modelPath: options.draft, threads: "auto" }) : undefined;
    log(`target ${target.name}: ${target.threads} threads, context ${target.contextSize}; ${draft ? `draft ${draft.name}: ${draft.threads} threads` : "no draft"}`);
    return { engine, target, draft };
  } catch (error) {
    await engine.dispose();
    throw error;
  }
}

export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const { engine } = await loadBenchEngine(options);
  try {
    const [report] = await benchOnEngine(engine, {
      prompts: options.prompts,
      modes: [options.mode],
      maxTokens: options.maxTokens,
      maxDraftTokens: options.maxDraftTokens,
      temperature: options.temperature,
      // The CLI's table is a fresh one in a temporary folder (or the user asked for theirs with --ngram-table keep).
      learn: true,
      log,
    });
    return report!;
  } finally {
    await engine.dispose();
  }
}

/**
 * The bench on an engine that already holds the target (and draft, if any), with the model's own threads: for
 * each mode, plain decoding against that mode on every prompt, ABBA. Baseline replies never teach the n-gram
 * table; speculative ones only with `learn`. A cancelled bench fails with ABORTED and leaves the engine usable.
 */
export async function benchOnEngine(engine: Engine, options: BenchOnEngineOptions): Promise<BenchReport[]> {
  const log = options.log ?? (() => {});
  const temperature = options.temperature ?? 0;
  const target = engine.loadedModel;
  if (!target) throw new EngineFailure("NO_MODEL", "No model is loaded: choose a model before running a benchmark");
  if (options.prompts.length === 0) throw new EngineFailure("BAD_REQUEST", "The benchmark needs at least one prompt");
  const draft = engine.loadedDraft;
  if (options.modes.includes("draft") && !draft) {
    throw new EngineFailure("NO_DRAFT_MODEL", "The draft mode needs a draft model: load one, or leave draft out of the benchmark");
  }
  const system = await engine.systemInfo();
  const id = options.id ?? "bench";
  const signal = options.signal;
  const checkAborted = () => {
    if (signal?.aborted) throw new EngineFailure("ABORTED", "The benchmark was cancelled");
  };

  let counter = 0;
  const generate = async (prompt: string, mode: SpeculationMode): Promise<Sample> => {
    checkAborted();
    let firstAt = 0;
    let lastAt = 0;
    const messageId = `${id}-${counter++}`;
    const onAbort = () => engine.abort(messageId);
    signal?.addEventListener("abort", onAbort);
    try {
      const result = await engine.generate(
        {
          messageId,
          conversationId: id,
          messages: [{ role: "user", content: prompt }],
          maxTokens: options.maxTokens,
          sampling: { temperature, ...(temperature > 0 ? { seed: 1234 } : {}) },
          speculation: { mode, maxDraftTokens: options.maxDraftTokens },
        },
        (tokens) => {
          for (const token of tokens) {
            if (firstAt === 0) firstAt = token.t;
            lastAt = token.t;
          }
        },
        // Baselines never teach the n-gram table: it must never see a baseline reply to the same prompt before the
        // speculative run is measured.
        { learn: mode !== "off" && options.learn === true },
      );
      // The abort may have landed while the request was queued (it then never started) or mid-reply.
      checkAborted();
      return { tokens: result.stats.tokens, decodeMs: lastAt - firstAt, text: result.text, result };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  };

  const total = options.modes.length * options.prompts.length;
  let done = 0;
  const reports: BenchReport[] = [];
  // Warm-up: page in the model and measure the verify curve before anything is timed.
  await generate(options.prompts[0]!, "off");
  for (const mode of options.modes) {
    if (mode !== "off") await generate(options.prompts[0]!, mode);
    // ABBA per prompt: each mode runs once first and once second on every prompt. The run order matters on this
    // hardware (the second run of a prompt reuses its evaluated prefix and finds caches warm): with plain
    // alternation, off-vs-off measured 0.92-0.95x; with ABBA the order cancels out on every prompt.
    const baseline: Sample[] = [];
    const speculative: Sample[] = [];
    for (const [i, prompt] of options.prompts.entries()) {
      const b1 = await generate(prompt, "off");
      const s1 = await generate(prompt, mode);
      const s2 = await generate(prompt, mode);
      const b2 = await generate(prompt, "off");
      baseline.push(b1, b2);
      speculative.push(s1, s2);
      log(`${options.modes.length > 1 ? `${mode}: ` : ""}prompt ${i + 1}/${options.prompts.length}: ${b1.tokens} tokens, speedup ${((rate(s1) + rate(s2)) / Math.max(1e-9, rate(b1) + rate(b2))).toFixed(2)}x`);
      options.onProgress?.({ done: ++done, total, mode });
    }
    reports.push(report({ system, target, draft, mode, options, temperature, baseline, speculative }));
  }
  return reports;
}

function report(input: {
  system: SystemInfo;
  target: NonNullable<Engine["loadedModel"]>;
  draft: Engine["loadedDraft"];
  mode: SpeculationMode;
  options: BenchOnEngineOptions;
  temperature: number;
  baseline: Sample[];
  speculative: Sample[];
}): BenchReport {
  const { system, target, draft, mode, options, temperature, baseline, speculative } = input;
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
    machine: benchMachine(system, target.threads, draft?.threads ?? null),
    model: path.basename(target.modelPath),
    draft: draft ? path.basename(draft.modelPath) : null,
    mode,
    prompts: options.prompts.length,
    maxTokens: options.maxTokens,
    temperature,
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
    identicalOutputs: temperature === 0 ? baseline.every((b, i) => b.text === speculative[i]!.text) : null,
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
}

/** One reply's decode speed: tokens after the first over the time after the first token. */
export function rate(sample: Pick<Sample, "tokens" | "decodeMs">): number {
  return sample.decodeMs > 0 ? ((sample.tokens - 1) * 1000) / sample.decodeMs : 0;
}

/** Several replies' decode speed, summed over their tokens and times (not a mean of their speeds). */
export function decodeRate(samples: ReadonlyArray<Pick<Sample, "tokens" | "decodeMs">>): number {
  const tokens = samples.reduce((n, s) => n + Math.max(0, s.tokens - 1), 0);
  const ms = samples.reduce((n, s) => n + s.decodeMs, 0);
  return ms > 0 ? (tokens * 1000) / ms : 0;
}
