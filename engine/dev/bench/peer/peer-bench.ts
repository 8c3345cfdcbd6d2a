/**
 * `tandem bench --peer llama.cpp`: Tandem against llama.cpp itself, on the same model files, threads, prompt tokens
 * and reply length, measured in one run. Per prompt, every configuration runs back to back (Tandem's plain decoding
 * and speculation modes, then llama-speculative-simple with each of its speculators), then again in the reverse
 * order, so that drift on a noisy machine hits every side alike. llama-bench gives the plain-decoding peer and the
 * native costs of the honest bound: the target's decode time at each batch size and the draft's per-token cost,
 * measured without any of Tandem's overhead.
 *
 * Speeds are decode speeds: Tandem's is tokens after the first over the time after the first token;
 * llama-speculative-simple's is its own figure (every generated token over its decode loop, which includes the
 * decode of the prompt's last token: at most one step more than Tandem's, against it).
 */
import path from "node:path";
import { benchMachine, decodeRate, loadBenchEngine, rate, round, type Sample } from "../../../bench/bench.js";
import { median } from "../../../median.js";
import type { BenchMode, SpeculationStats, ThreadsSetting } from "../../../../contracts/engine/protocol.js";
import type { LlamaCppTools } from "./llama-cpp-tools.js";
import { runLlamaBench, runSpeculativeSimple, type PeerSpecType, type SpeculativeSimpleRun } from "./llama-cpp-run.js";

export interface PeerBenchOptions {
  model: string;
  draft?: string;
  prompts: string[];
  maxTokens: number;
  threads: ThreadsSetting;
  contextSize?: number;
  /** Tandem's speculation modes, each compared with plain decoding and with llama.cpp's best. */
  modes: BenchMode[];
  /** Tandem's upper bound on the draft length. */
  maxDraftTokens: number;
  /** llama.cpp's speculators (draft-simple needs the draft model). */
  peerTypes: PeerSpecType[];
  /** draft-simple's `--spec-draft-n-max` values; the best is reported. */
  draftNMax: number[];
  tools: LlamaCppTools;
  cacheDir: string;
  log?: (line: string) => void;
}

/** Where one generated token's time goes, ms: Tandem's measured split against the native costs of the same steps. */
export interface TimeSplit {
  draft: number;
  verify: number;
  /** Everything else in Tandem's decode loop: sampling, detokenizing, the policy, the bindings' hops. 0 natively. */
  other: number;
  total: number;
}

export interface PeerModeResult {
  mode: BenchMode;
  tokensPerSecond: number;
  /** Median over prompts of (this mode / Tandem's plain decoding). */
  speedupMedian: number;
  /** Tandem's output equals its plain decoding on every prompt (greedy). */
  identicalToPlain: boolean;
  acceptanceRate: number;
  /** Accepted draft tokens per target decode. */
  acceptedPerDecode: number;
  /** This mode / the best llama.cpp speculator, on the summed rates, and the median of the per-prompt ratios. */
  vsBestLlamaCpp: number;
  vsBestLlamaCppMedian: number;
  /**
   * The honest bound: the time Tandem's own steps (the same drafts, verify batches and plain decodes) take at
   * llama.cpp's measured costs. efficiency = Tandem's speed / that bound's speed.
   */
  bound: { tokensPerSecond: number; efficiency: number; tandem: TimeSplit; native: TimeSplit };
}

export interface PeerConfigResult {
  name: string;
  type: PeerSpecType;
  draftMax: number | null;
  tokensPerSecond: number;
  acceptanceRate: number;
  /** Prompts whose llama.cpp reply matched Tandem's plain reply (the shorter a prefix of the longer). */
  sameText: number;
  comparedText: number;
}

export interface PeerBenchReport {
  machine: { cpu: string; cores: number; ramGB: number; platform: string; backend: string; threads: number; draftThreads: number | null };
  llamaCpp: { revision: string; buildSeconds: number; reused: boolean };
  model: string;
  draft: string | null;
  prompts: number;
  maxTokens: number;
  contextSize: number;
  /** Prompt tokens per prompt as Tandem renders them, and whether llama.cpp read the same number from that text. */
  promptTokens: number[];
  promptTokensMatch: boolean;
  plain: { tandem: number; llamaBench: number; ratio: number };
  modes: PeerModeResult[];
  peers: PeerConfigResult[];
  bestPeer: { name: string; tokensPerSecond: number } | null;
  /** The native costs of the bound (ms), from llama-bench at the prompts' median depth. */
  nativeCosts: { depth: number; targetDecodeMs: number; verifyMs: Record<string, number>; draftTokenMs: number | null };
}

type TandemSample = Sample;

interface PeerConfig {
  name: string;
  type: PeerSpecType;
  draftMax: number | undefined;
}

const peerRate = (s: SpeculativeSimpleRun) => (s.decodeSeconds > 0 ? s.decodedTokens / s.decodeSeconds : 0);

export function peerConfigs(peerTypes: readonly PeerSpecType[], draftNMax: readonly number[], hasDraft: boolean): PeerConfig[] {
  const configs: PeerConfig[] = [];
  for (const type of peerTypes) {
    if (type === "draft-simple") {
      if (!hasDraft) continue;
      for (const k of draftNMax) configs.push({ name: `draft-simple k=${k}`, type, draftMax: k });
    } else {
      configs.push({ name: type, type, draftMax: undefined });
    }
  }
  return configs;
}

/** Whether two greedy replies agree: equal, or the shorter a prefix of the longer (their token limits differ). */
export function sameGreedyText(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

export async function runPeerBench(options: PeerBenchOptions): Promise<PeerBenchReport> {
  const log = options.log ?? (() => {});
  const { engine, target, draft } = await loadBenchEngine(options);
  try {
    const system = await engine.systemInfo();
    const contextSize = target.contextSize;
    const configs = peerConfigs(options.peerTypes, options.draftNMax, draft !== undefined);
    const rendered = options.prompts.map((p) => engine.renderPromptText([{ role: "user", content: p }], options.maxTokens));
    const depth = Math.round(median(rendered.map((r) => r.tokens)));

    // Native costs, before and after the prompts (the plain-decoding peer is the median of both).
    const maxBatch = Math.max(options.maxDraftTokens, ...options.draftNMax) + 1;
    // llama-bench's depth run (-d) crashes on some files (a segfault on the synthetic models here, in its state
    // copy between repetitions): then the costs are measured at depth 0, and the report says so.
    let benchDepth = depth;
    const llamaBench = async (model: string, threads: number, prompts?: number[]) => {
      const run = (d: number) =>
        runLlamaBench({ binary: options.tools.paths["llama-bench"], model, threads, prompts, gen: options.maxTokens, depth: d, repetitions: 5 });
      if (benchDepth > 0) {
        try {
          return await run(benchDepth);
        } catch (error) {
          log(`llama-bench failed at depth ${benchDepth} (${error instanceof Error ? error.message.split(":")[0] : String(error)}); measuring at depth 0`);
          benchDepth = 0;
        }
      }
      return run(0);
    };
    const nativeCosts = async () => {
      const targetRuns = await llamaBench(options.model, target.threads, Array.from({ length: maxBatch }, (_, i) => i + 1));
      const draftRuns = draft ? await llamaBench(options.draft!, draft.threads) : [];
      const tg = targetRuns.find((r) => r.nGen > 0)!;
      const verify = new Map(targetRuns.filter((r) => r.nPrompt > 0).map((r) => [r.nPrompt, r.avgMs]));
      const draftTg = draftRuns.find((r) => r.nGen > 0);
      return { tgTokensPerSecond: tg.tokensPerSecond, targetDecodeMs: tg.avgMs / tg.nGen, verify, draftTokenMs: draftTg ? draftTg.avgMs / draftTg.nGen : null };
    };
    log(`llama-bench: decode costs at depth ${depth} (batches of 1-${maxBatch}, and ${options.maxTokens} single-token decodes)`);
    const costsBefore = await nativeCosts();

    const generate = async (prompt: string, mode: BenchMode | "off", id: string, learn = false): Promise<TandemSample> => {
      let firstAt = 0;
      let lastAt = 0;
      const result = await engine.generate(
        {
          messageId: id,
          conversationId: "peer-bench",
          messages: [{ role: "user", content: prompt }],
          maxTokens: options.maxTokens,
          sampling: { temperature: 0 },
          speculation: { mode, maxDraftTokens: options.maxDraftTokens },
        },
        (tokens) => {
          for (const token of tokens) {
            if (firstAt === 0) firstAt = token.t;
            lastAt = token.t;
          }
        },
        // The n-gram table (a fresh one, in the bench's own folder) learns only when asked: see the prompt loop.
        { learn },
      );
      return { tokens: result.stats.tokens, decodeMs: lastAt - firstAt, text: result.text, result };
    };
    const runPeer = (config: PeerConfig, promptText: string) =>
      runSpeculativeSimple({
        binary: options.tools.paths["llama-speculative-simple"],
        model: options.model,
        draft: config.type === "draft-simple" ? options.draft : undefined,
        type: config.type,
        draftMax: config.draftMax,
        prompt: promptText,
        maxTokens: options.maxTokens,
        threads: target.threads,
        draftThreads: draft?.threads,
        contextSize,
      });

    // Warm-up: page the model in and measure Tandem's verify curve before anything is timed.
    let counter = 0;
    await generate(options.prompts[0]!, "off", `peer-${counter++}`);
    for (const mode of options.modes) await generate(options.prompts[0]!, mode, `peer-${counter++}`);

    type Side = { kind: "tandem"; mode: BenchMode | "off" } | { kind: "peer"; config: PeerConfig };
    const sides: Side[] = [
      { kind: "tandem", mode: "off" },
      ...options.modes.map((mode): Side => ({ kind: "tandem", mode })),
      ...configs.map((config): Side => ({ kind: "peer", config })),
    ];
    const tandemSamples = new Map<string, TandemSample[][]>(); // mode -> per prompt -> runs
    const peerSamples = new Map<string, SpeculativeSimpleRun[][]>();
    const promptTokensMatch: boolean[] = [];
    for (const [i, prompt] of options.prompts.entries()) {
      for (const [pass, order] of [sides, [...sides].reverse()].entries()) {
        for (const [j, side] of order.entries()) {
          if (side.kind === "tandem") {
            // The learned n-gram table learns each prompt's reply after that prompt is measured (in its very last run,
            // plain decoding at the end of the reverse pass), never before: it speeds up later prompts, as it learns
            // from past chats in the app, but never a run of the reply it has just seen. (llama.cpp's n-gram
            // speculators start empty in every process.)
            const last = pass === 1 && j === order.length - 1;
            const sample = await generate(prompt, side.mode, `peer-${counter++}`, last);
            const runs = tandemSamples.get(side.mode) ?? [];
            (runs[i] ??= []).push(sample);
            tandemSamples.set(side.mode, runs);
          } else {
            const run = await runPeer(side.config, rendered[i]!.text);
            promptTokensMatch.push(run.promptTokens === rendered[i]!.tokens);
            const runs = peerSamples.get(side.config.name) ?? [];
            (runs[i] ??= []).push(run);
            peerSamples.set(side.config.name, runs);
          }
        }
      }
      const plain = tandemSamples.get("off")![i]!;
      const line = [...tandemSamples.entries()].filter(([m]) => m !== "off").map(([m, r]) => `${m} ${(rateOf(r[i]!) / rateOf(plain)).toFixed(2)}x`);
      const best = Math.max(0, ...[...peerSamples.values()].map((r) => peerRateOf(r[i]!)));
      log(`prompt ${i + 1}/${options.prompts.length}: ${plain[0]!.tokens} tokens; Tandem plain ${rateOf(plain).toFixed(1)} tok/s, ${line.join(", ")}; best llama.cpp ${best.toFixed(1)} tok/s`);
    }
    log("llama-bench: decode costs again");
    const costsAfter = await nativeCosts();

    const llamaBenchPlain = (costsBefore.tgTokensPerSecond + costsAfter.tgTokensPerSecond) / 2;
    const verifyMs = new Map([...costsBefore.verify].map(([n, ms]) => [n, (ms + (costsAfter.verify.get(n) ?? ms)) / 2]));
    const targetDecodeMs = (costsBefore.targetDecodeMs + costsAfter.targetDecodeMs) / 2;
    const draftTokenMs = costsBefore.draftTokenMs !== null ? (costsBefore.draftTokenMs + (costsAfter.draftTokenMs ?? costsBefore.draftTokenMs)) / 2 : null;

    const plainRuns = tandemSamples.get("off")!;
    const plainRate = decodeRate(plainRuns.flat());
    const peers: PeerConfigResult[] = configs.map((config) => {
      const runs = peerSamples.get(config.name)!;
      const flat = runs.flat();
      const drafted = flat.reduce((n, r) => n + r.drafted, 0);
      const accepted = flat.reduce((n, r) => n + r.accepted, 0);
      let sameText = 0;
      let comparedText = 0;
      for (const [i, promptRuns] of runs.entries()) {
        const text = promptRuns[0]!.text;
        if (text === null) continue;
        comparedText++;
        if (sameGreedyText(text, plainRuns[i]![0]!.text)) sameText++;
      }
      return {
        name: config.name,
        type: config.type,
        draftMax: config.draftMax ?? null,
        tokensPerSecond: round(flat.reduce((n, r) => n + r.decodedTokens, 0) / Math.max(1e-9, flat.reduce((n, r) => n + r.decodeSeconds, 0)), 1),
        acceptanceRate: drafted > 0 ? round(accepted / drafted) : 0,
        sameText,
        comparedText,
      };
    });
    const bestPeer = peers.length > 0 ? peers.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a)) : null;
    const bestRuns = bestPeer ? peerSamples.get(bestPeer.name)! : null;

    const modes = options.modes.map((mode): PeerModeResult => {
      const runs = tandemSamples.get(mode)!;
      const flat = runs.flat();
      const modeRate = decodeRate(flat);
      const stats = flat.map((s) => s.result.stats.speculation).filter((s): s is SpeculationStats => s !== null);
      const proposed = stats.reduce((n, s) => n + s.proposed, 0);
      const accepted = stats.reduce((n, s) => n + s.accepted, 0);
      const targetDecodes = flat.reduce((n, s) => n + s.result.stats.targetDecodes, 0);
      const bound = honestBound(flat, { targetDecodeMs, verifyMs, draftTokenMs });
      return {
        mode,
        tokensPerSecond: round(modeRate, 1),
        speedupMedian: round(median(runs.map((r, i) => rateOf(r) / rateOf(plainRuns[i]!)))),
        identicalToPlain: runs.every((r, i) => r.every((s) => s.text === plainRuns[i]![0]!.text)),
        acceptanceRate: proposed > 0 ? round(accepted / proposed) : 0,
        acceptedPerDecode: targetDecodes > 0 ? round(accepted / targetDecodes) : 0,
        vsBestLlamaCpp: bestPeer ? round(modeRate / bestPeer.tokensPerSecond) : 0,
        vsBestLlamaCppMedian: bestRuns ? round(median(runs.map((r, i) => rateOf(r) / peerRateOf(bestRuns[i]!)))) : 0,
        bound: { tokensPerSecond: round(bound.tokensPerSecond, 1), efficiency: round(modeRate / bound.tokensPerSecond), tandem: bound.tandem, native: bound.native },
      };
    });

    return {
      machine: benchMachine(system, target.threads, draft?.threads ?? null),
      llamaCpp: { revision: options.tools.revision, buildSeconds: round(options.tools.buildSeconds, 0), reused: options.tools.reused },
      model: path.basename(options.model),
      draft: options.draft ? path.basename(options.draft) : null,
      prompts: options.prompts.length,
      maxTokens: options.maxTokens,
      contextSize,
      promptTokens: rendered.map((r) => r.tokens),
      promptTokensMatch: promptTokensMatch.every(Boolean),
      plain: { tandem: round(plainRate, 1), llamaBench: round(llamaBenchPlain, 1), ratio: round(plainRate / llamaBenchPlain) },
      modes,
      peers,
      bestPeer: bestPeer ? { name: bestPeer.name, tokensPerSecond: bestPeer.tokensPerSecond } : null,
      nativeCosts: {
        depth: benchDepth,
        targetDecodeMs: round(targetDecodeMs),
        verifyMs: Object.fromEntries([...verifyMs].map(([n, ms]) => [String(n), round(ms)])),
        draftTokenMs: draftTokenMs === null ? null : round(draftTokenMs, 4),
      },
    };
  } finally {
    await engine.dispose();
  }
}

function rateOf(samples: TandemSample[]): number {
  return samples.reduce((n, s) => n + rate(s), 0) / Math.max(1, samples.length);
}

function peerRateOf(samples: SpeculativeSimpleRun[]): number {
  return samples.reduce((n, s) => n + peerRate(s), 0) / Math.max(1, samples.length);
}


/**
 * The time Tandem's own steps would take at native costs: each verify step a batched decode of its drafts plus
 * one token (at the mean batch size, interpolated between llama-bench's sizes), each plain step a single-token
 * decode, each drafted token of the draft model one draft decode. Against it, where Tandem's time went per token.
 */
export function honestBound(
  samples: readonly TandemSample[],
  costs: { targetDecodeMs: number; verifyMs: ReadonlyMap<number, number>; draftTokenMs: number | null },
): { tokensPerSecond: number; tandem: TimeSplit; native: TimeSplit } {
  let tokens = 0;
  let decodeMs = 0;
  let draftMs = 0;
  let verifyMsTandem = 0;
  let nativeDraft = 0;
  let nativeVerify = 0;
  for (const s of samples) {
    const spec = s.result.stats.speculation;
    const decodes = s.result.stats.targetDecodes;
    tokens += Math.max(0, s.tokens - 1);
    decodeMs += s.decodeMs;
    if (!spec || spec.verifySteps === 0) {
      verifyMsTandem += spec?.verifyMs ?? s.decodeMs;
      nativeVerify += Math.max(0, decodes - 1) * costs.targetDecodeMs;
      continue;
    }
    draftMs += spec.draftMs;
    verifyMsTandem += spec.verifyMs;
    const batch = 1 + spec.proposed / spec.verifySteps;
    nativeVerify += spec.verifySteps * interpolate(costs.verifyMs, batch) + Math.max(0, decodes - spec.verifySteps - 1) * costs.targetDecodeMs;
    const draftSteps = spec.stepsBySpeculator.draft ?? 0;
    if (costs.draftTokenMs !== null && draftSteps > 0) nativeDraft += spec.proposed * (draftSteps / spec.verifySteps) * costs.draftTokenMs;
  }
  const per = (ms: number) => (tokens > 0 ? round(ms / tokens, 4) : 0);
  const nativeTotal = nativeDraft + nativeVerify;
  return {
    tokensPerSecond: nativeTotal > 0 ? (tokens * 1000) / nativeTotal : 0,
    tandem: { draft: per(draftMs), verify: per(verifyMsTandem), other: per(Math.max(0, decodeMs - draftMs - verifyMsTandem)), total: per(decodeMs) },
    native: { draft: per(nativeDraft), verify: per(nativeVerify), other: 0, total: per(nativeTotal) },
  };
}

/** The cost of a batch of `n` tokens (fractional: a mean), linear between the measured sizes. */
function interpolate(costs: ReadonlyMap<number, number>, n: number): number {
  const sizes = [...costs.keys()].sort((a, b) => a - b);
  if (sizes.length === 0) return 0;
  if (n <= sizes[0]!) return costs.get(sizes[0]!)!;
  for (let i = 1; i < sizes.length; i++) {
    const hi = sizes[i]!;
    if (n <= hi) {
      const lo = sizes[i - 1]!;
      const f = (n - lo) / (hi - lo);
      return costs.get(lo)! * (1 - f) + costs.get(hi)! * f;
    }
  }
  return costs.get(sizes.at(-1)!)!;
}
