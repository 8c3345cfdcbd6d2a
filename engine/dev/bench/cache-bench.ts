import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { initBackend } from "../../backend.js";
import { BenchUsageError } from "./usage-error.js";
import { runDecodeLoop } from "../../decode-loop.js";
import { assertGgufFile } from "../../gguf-check.js";
import { KvPager } from "../../kv-cache/kv-pager.js";
import { modelContentHash } from "../../kv-cache/model-identity.js";
import { fileCrc32, KvStateStore, stateParamsOf } from "../../kv-cache/state-store.js";

export const CACHE_BENCH_HELP = `  cache-bench --model <gguf> --context-tokens <n,n,...> [options]
                              Time to first token of one conversation per prompt length: cold re-prefill,
                              slot hit, disk restore and prefix reuse; state bytes per token; save/load ms and
                              the CRC-32 check a restore after a restart adds.
      --threads <n>           CPU threads (default 2 for models over 100 MB, else 1)
      --repeats <n>           Runs per length; each figure is the median (default 3)
      --json                  One JSON object on stdout
`;

export interface CacheBenchRow {
  /** Prompt tokens (a length beyond the context is cut to what fits). */
  tokens: number;
  ttftMs: { cold: number; slotHit: number; diskRestore: number; prefixReuse: number };
  stateBytes: number;
  bytesPerToken: number;
  saveMs: number;
  loadMs: number;
  /**
   * CRC-32 check of the state file: what a restore after a restart adds to loadMs (within one run the store trusts
   * the files it wrote itself and skips it, which is what diskRestore measures).
   */
  verifyMs: number;
  /** Prompt tokens the prefix-reuse case evaluated (the part after the shared prefix). */
  prefixReuseEvaluated: number;
  /** How many times faster than the cold re-prefill each case reaches its first token. */
  speedup: { slotHit: number; diskRestore: number; prefixReuse: number };
}

const PREFIX_TAIL = 32;
const round1 = (value: number) => Math.round(value * 10) / 10;

/** A deterministic text long enough for any context: numbered lines, so it does not repeat itself. */
function benchTokens(model: LlamaModel, count: number, salt: string): Token[] {
  const words = ["light", "water", "earth", "stone", "river", "field", "house", "bread", "voice", "night", "mountain", "city"];
  const tokens: Token[] = [];
  for (let line = 0; tokens.length < count; line++) {
    const text = `${salt} ${line}: the ${words[line % words.length]} and the ${words[(line * 7 + 3) % words.length]} of ${line * 13}.\n`;
    tokens.push(...model.tokenize(text, false));
  }
  return tokens.slice(0, count);
}

/** Acquires the conversation's slot from the pager and decodes its first token: the user-visible TTFT. */
async function firstToken(pager: KvPager, model: LlamaModel, key: string, prompt: readonly Token[]) {
  const startedAt = performance.now();
  const acquired = await pager.acquire(key, prompt);
  try {
    const outcome = await runDecodeLoop({
      sequence: acquired.sequence,
      model,
      promptTokens: prompt,
      maxTokens: 1,
      sampling: { temperature: 0 },
      signal: new AbortController().signal,
      startedAt,
      onStep: () => {},
    });
    return { ...acquired, ttftMs: outcome.timeToFirstTokenMs, evaluated: outcome.evaluatedPromptTokens };
  } finally {
    pager.release(key);
  }
}

/** One run at one length: cold, slot hit, page-out (save), disk restore, prefix reuse; the cache is cleared after. */
async function measureLength(pager: KvPager, model: LlamaModel, store: KvStateStore, length: number, run: number): Promise<CacheBenchRow> {
  const prompt = benchTokens(model, length, `chat ${run}`);
  const key = `bench-${length}-${run}`;
  const cold = await firstToken(pager, model, key, prompt);
  const hit = await firstToken(pager, model, key, prompt);
  // Another conversation takes the slot: paging this one out is its save.
  const other = await pager.acquire(`other-${key}`, benchTokens(model, 1, "other"));
  pager.release(`other-${key}`);
  const saved = store.forConversation(key);
  if (!saved) throw new Error("the state was not saved (see the warnings)");
  const restore = await firstToken(pager, model, key, prompt);
  // A new conversation sharing all but the last PREFIX_TAIL tokens: loads the saved state, evaluates the tail.
  const edited = [...prompt.slice(0, length - PREFIX_TAIL), ...benchTokens(model, PREFIX_TAIL, "edit")];
  const reuse = await firstToken(pager, model, `edited-${key}`, edited);
  const verifyStarted = performance.now();
  await fileCrc32(path.join(store.folder, `${saved.id}.state`));
  const verifyMs = performance.now() - verifyStarted;
  if (cold.outcome !== "cold" || hit.outcome !== "slot-hit" || restore.outcome !== "disk-restore" || reuse.outcome !== "prefix-reuse") {
    throw new Error(`unexpected cache outcomes: ${cold.outcome}, ${hit.outcome}, ${restore.outcome}, ${reuse.outcome}`);
  }
  await pager.clear(); // the next run starts from an empty cache
  return {
    tokens: length,
    ttftMs: { cold: round1(cold.ttftMs), slotHit: round1(hit.ttftMs), diskRestore: round1(restore.ttftMs), prefixReuse: round1(reuse.ttftMs) },
    stateBytes: saved.bytes,
    bytesPerToken: Math.round(saved.bytes / length),
    saveMs: round1(other.restoreMs),
    loadMs: round1(restore.restoreMs),
    verifyMs: round1(verifyMs),
    prefixReuseEvaluated: reuse.evaluated,
    speedup: { slotHit: 0, diskRestore: 0, prefixReuse: 0 },
  };
}

export async function runCacheBench(options: { modelPath: string; lengths: number[]; threads?: number; repeats?: number; log?: (line: string) => void }) {
  const repeats = options.repeats ?? 3;
  const { sizeBytes } = await assertGgufFile(options.modelPath);
  const threads = options.threads ?? (sizeBytes > 100e6 ? 2 : 1);
  const backend = await initBackend("auto", () => {});
  const model = await backend.llama.loadModel({ modelPath: options.modelPath, gpuLayers: backend.backend === "cpu" ? 0 : "auto" });
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "tandem-cache-bench-"));
  const requestedContext = Math.min(model.trainContextSize, Math.max(...options.lengths) + 1);
  // One slot: every conversation switch pages the previous one out, which is exactly what is measured.
  const context = await model.createContext({ contextSize: requestedContext, threads, sequences: 1 });
  // node-llama-cpp pads the size (2049 becomes 2304 on a 4096-token model): the store must be opened for the
  // sequence's actual size, the one states are saved from and loaded into, never the requested one.
  const contextSize = context.contextSize;
  const rows: CacheBenchRow[] = [];
  try {
    const sequence: LlamaContextSequence = context.getSequence();
    const store = await KvStateStore.open({
      cacheDir,
      modelHash: await modelContentHash(options.modelPath, cacheDir),
      contextSize: sequence.contextSize,
      params: stateParamsOf(context),
      warn: (m) => options.log?.(m),
    });
    const pager = new KvPager([sequence], store);
    await firstToken(pager, model, "warm-up", benchTokens(model, 32, "warm")); // weights into memory

    for (const requested of options.lengths) {
      const length = Math.min(requested, contextSize - 1);
      const runs: CacheBenchRow[] = [];
      // Several runs, median per figure: one slow run (another process on these 2 cores) must not be the figure.
      for (let run = 0; run < repeats; run++) runs.push(await measureLength(pager, model, store, length, run));
      const median = (pick: (row: CacheBenchRow) => number) => {
        const values = runs.map(pick).sort((a, b) => a - b);
        return values[values.length >> 1]!;
      };
      const ttftMs = {
        cold: median((r) => r.ttftMs.cold),
        slotHit: median((r) => r.ttftMs.slotHit),
        diskRestore: median((r) => r.ttftMs.diskRestore),
        prefixReuse: median((r) => r.ttftMs.prefixReuse),
      };
      const row: CacheBenchRow = {
        tokens: length,
        ttftMs,
        stateBytes: runs[0]!.stateBytes,
        bytesPerToken: runs[0]!.bytesPerToken,
        saveMs: median((r) => r.saveMs),
        loadMs: median((r) => r.loadMs),
        verifyMs: median((r) => r.verifyMs),
        prefixReuseEvaluated: runs[0]!.prefixReuseEvaluated,
        speedup: {
          slotHit: round1(ttftMs.cold / ttftMs.slotHit),
          diskRestore: round1(ttftMs.cold / ttftMs.diskRestore),
          prefixReuse: round1(ttftMs.cold / ttftMs.prefixReuse),
        },
      };
      rows.push(row);
      options.log?.(`${length} tokens: ${JSON.stringify(runs.map((r) => r.ttftMs))}`);
    }
  } finally {
    await context.dispose();
    await model.dispose();
    await backend.llama.dispose();
    await rm(cacheDir, { recursive: true, force: true });
  }
  return { model: path.basename(options.modelPath), threads, contextSize, backend: backend.backend, rows };
}

function parseLengths(value: string | undefined): number[] {
  if (!value) throw new BenchUsageError("cache-bench needs --context-tokens (e.g. 256,1024,2048)");
  const lengths = value.split(",").map((part) => Number(part.trim()));
  if (lengths.some((n) => !Number.isInteger(n) || n < PREFIX_TAIL + 64)) {
    throw new BenchUsageError(`--context-tokens must be integers of at least ${PREFIX_TAIL + 64} (got "${value}")`);
  }
  return lengths;
}

export async function cacheBenchCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { model: { type: "string" }, "context-tokens": { type: "string" }, threads: { type: "string" }, repeats: { type: "string" }, json: { type: "boolean", default: false } },
    }));
  } catch (error) {
    throw new BenchUsageError(`cache-bench: ${(error as Error).message}`);
  }
  if (!values.model) throw new BenchUsageError("cache-bench needs --model");
  const lengths = parseLengths(values["context-tokens"]);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) {
    throw new BenchUsageError(`--threads must be an integer from 1 to 256 (got "${values.threads}")`);
  }
  const repeats = values.repeats === undefined ? 3 : Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) throw new BenchUsageError(`--repeats must be an integer from 1 to 100 (got "${values.repeats}")`);
  const result = await runCacheBench({ modelPath: values.model, lengths, threads, repeats, log: (line) => process.stderr.write(`${line}\n`) });
  if (values.json) {
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
  }
  process.stdout.write(`${result.model}: ${result.threads} threads, context ${result.contextSize}, ${result.backend}\n`);
  process.stdout.write("tokens  cold ms  hit ms (x)      restore ms (x)   prefix ms (x)    bytes/token  save ms  load ms  verify ms\n");
  for (const row of result.rows) {
    const cell = (ms: number, x: number) => `${ms} (${x}x)`.padEnd(16);
    process.stdout.write(
      `${String(row.tokens).padEnd(8)}${String(row.ttftMs.cold).padEnd(9)}${cell(row.ttftMs.slotHit, row.speedup.slotHit)}` +
        `${cell(row.ttftMs.diskRestore, row.speedup.diskRestore)}${cell(row.ttftMs.prefixReuse, row.speedup.prefixReuse)}` +
        `${String(row.bytesPerToken).padEnd(13)}${String(row.saveMs).padEnd(9)}${String(row.loadMs).padEnd(9)}${row.verifyMs}\n`,
    );
  }
  return 0;
}
