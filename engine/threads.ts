import os from "node:os";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { LlamaModel, Token } from "node-llama-cpp";
import { median } from "./median.js";

/**
 * Chooses the thread count for a model by measuring it.
 *
 * Why: node-llama-cpp defaults to 4 threads; on a 2-vCPU machine that oversubscribes the CPU so badly that a small
 * model drops from ~500 tok/s (1 thread) to ~1.4 tok/s. Which count is best depends on the model (a ~1B model
 * prefers 2 threads there), so we time a short greedy decode at each candidate count and keep the fastest. The
 * result is cached per model file (path, size, mtime), CPU and backend, so only the first load pays for it.
 */

export interface CalibrationResult {
  threads: number;
  /** tokens/s per candidate */
  measured: Record<string, number>;
  source: "calibrated" | "cached";
}

// v2: choices made by one round of measurements (v1) are measured again (see DECISIVE_GAIN).
const CACHE_FILE = "threads-v2.json";
const DECODE_TOKENS = 16;
const WARMUP_TOKENS = 4;
/** Fewer threads win unless more are clearly faster: spare cores keep the UI and the OS responsive. */
const MIN_GAIN = 1.05;
/**
 * One round decides when the winner is this much faster than every other candidate: no hiccup of a 16-token
 * measurement flips that (the KJV models measure 8-25x between 1 and 2 threads on 2 vCPUs). Closer calls get more
 * rounds, in alternating order, and the median of each candidate's rounds decides: a single round once picked 2
 * threads for the 1M KJV draft in CI, where 1 thread is ~10x faster, because one 1-thread run was interrupted.
 */
const DECISIVE_GAIN = 1.5;
const MAX_ROUNDS = 3;

export function threadCandidates(cores = os.availableParallelism()): number[] {
  const candidates = new Set<number>([1]);
  for (let n = 2; n <= cores; n *= 2) candidates.add(n);
  candidates.add(Math.max(1, cores));
  return [...candidates].sort((a, b) => a - b);
}

async function cacheKey(modelPath: string, backend: string): Promise<string> {
  const info = await stat(modelPath);
  const cpu = os.cpus()[0]?.model.trim() ?? "cpu";
  return [path.resolve(modelPath), info.size, Math.round(info.mtimeMs), cpu, os.availableParallelism(), backend].join("|");
}

async function readCache(cacheDir: string): Promise<Record<string, { threads: number; measured: Record<string, number> }>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(cacheDir, CACHE_FILE), "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, { threads: number; measured: Record<string, number> }>) : {};
  } catch {
    return {}; // missing or corrupt: measure again
  }
}

async function writeCache(cacheDir: string, cache: object): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const target = path.join(cacheDir, CACHE_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(cache, null, 2));
  await rename(temp, target);
}

/** Greedy decode speed (tokens/s) of `model` at `threads`, measured on a throwaway context. */
export async function measureDecodeSpeed(model: LlamaModel, threads: number): Promise<number> {
  const context = await model.createContext({ contextSize: Math.min(128, model.trainContextSize), threads, sequences: 1 });
  try {
    const sequence = context.getSequence();
    const prompt = model.tokenize("In the beginning", false);
    let input: Token[] = prompt.length > 0 ? prompt : [model.tokens.bos ?? (0 as Token)];
    let start = 0;
    for (let i = 0; i < DECODE_TOKENS + WARMUP_TOKENS; i++) {
      if (i === WARMUP_TOKENS) start = performance.now();
      const last = input.length - 1;
      const results = await sequence.controlledEvaluate(
        input.map((token, index) => (index === last ? [token, { generateNext: { token: true, options: { temperature: 0 } } }] : token)),
      );
      const next = results[last]?.next.token;
      // An EOG token is still a decoded token; feed a fixed one so the measurement always runs the same length.
      input = [next == null || model.isEogToken(next) ? prompt[0] ?? (0 as Token) : next];
    }
    return DECODE_TOKENS / ((performance.now() - start) / 1000);
  } finally {
    await context.dispose();
  }
}

export function pickFastest(measured: Record<string, number>): number {
  let best = 0;
  let bestSpeed = 0;
  for (const [threadsText, speed] of Object.entries(measured).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    if (best === 0 || speed > bestSpeed * MIN_GAIN) {
      best = Number(threadsText);
      bestSpeed = speed;
    }
  }
  return best;
}

/** Each candidate's median speed (tokens/s, one decimal). */
function medians(rounds: Map<number, number[]>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [threads, speeds] of rounds) result[threads] = Math.round(median(speeds) * 10) / 10;
  return result;
}

/** Whether the pick stands clear of every other candidate (see DECISIVE_GAIN). */
export function isDecisive(measured: Record<string, number>): boolean {
  const best = pickFastest(measured);
  const bestSpeed = measured[best]!;
  return Object.entries(measured).every(([threads, speed]) => Number(threads) === best || bestSpeed >= speed * DECISIVE_GAIN);
}

export async function calibrateThreads(options: {
  model: LlamaModel;
  modelPath: string;
  backend: string;
  cacheDir: string;
  measure?: (threads: number) => Promise<number>;
  candidates?: number[];
}): Promise<CalibrationResult> {
  const key = await cacheKey(options.modelPath, options.backend);
  const cache = await readCache(options.cacheDir);
  const hit = cache[key];
  if (hit && Number.isInteger(hit.threads) && hit.threads > 0) return { threads: hit.threads, measured: hit.measured, source: "cached" };

  const measure = options.measure ?? ((threads: number) => measureDecodeSpeed(options.model, threads));
  const candidates = options.candidates ?? threadCandidates();
  const rounds = new Map<number, number[]>(candidates.map((threads) => [threads, []]));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const threads of round % 2 === 0 ? candidates : [...candidates].reverse()) rounds.get(threads)!.push(await measure(threads));
    if (isDecisive(medians(rounds))) break;
  }
  const measured = medians(rounds);
  const threads = pickFastest(measured);
  cache[key] = { threads, measured };
  try {
    await writeCache(options.cacheDir, cache);
  } catch {
    // A read-only or full disk only costs a re-measurement next time.
  }
  return { threads, measured, source: "calibrated" };
}
