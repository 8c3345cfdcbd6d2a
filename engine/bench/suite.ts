import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCacheBench, type CacheBenchRow } from "../kv-cache/cache-bench.js";
import { makeModelPair } from "../synthetic/make-model.js";
import { parsePromptFile } from "./prompt-file.js";
import { runBench, type BenchReport } from "./bench.js";
import type { SpeculationMode } from "../protocol.js";

/**
 * `npm run bench`: the standard suite. Each row is one `tandem bench` run (baseline and speculative in the same
 * process, ABBA per prompt); results go to engine/bench/results.{json,md} and into README.md between the
 * bench markers. The synthetic pair is generated once into .cache/models (about a minute) and reused.
 */
/** The repository root: the nearest folder above this file with a package.json (dist/ when built). */
function findRepo(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const repo = findRepo();
const promptsDir = path.join(repo, "engine", "bench", "prompts");
const sharedModels = process.env.TANDEM_SHARED_MODELS ?? path.resolve(repo, "..", "shared", "models");

interface SuiteRow {
  name: string;
  model: string;
  draft?: string;
  mode: SpeculationMode;
  prompts: string;
  threads: number;
  maxTokens: number;
  maxDraftTokens: number;
  contextSize?: number;
}

async function readPrompts(file: string, limit?: number): Promise<string[]> {
  const lines = parsePromptFile(await readFile(path.join(promptsDir, file), "utf8"));
  return limit ? lines.slice(0, limit) : lines;
}

function markdown(results: Array<{ row: SuiteRow; report: BenchReport }>, when: string): string {
  const lines = [
    `Measured ${when} on ${results[0]?.report.machine.cpu ?? "?"} (${results[0]?.report.machine.cores} cores, ${results[0]?.report.machine.backend}), temperature 0, ABBA order per prompt. ` +
      "Speed is decode speed (tokens after the first). Bound: Leviathan et al.'s E = (1-α^(γ+1))/(1-α) with the measured α, γ, draft cost c and verify cost v, weighted by the share of decodes that speculated; efficiency = speedup / bound.",
    "",
    "| run | mode | prompts | threads | baseline tok/s | speculative tok/s | speedup (median) | identical | acceptance | accepted / decode | α | γ | c | v | bound | efficiency |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const { row, report: r } of results) {
    const t = r.theoretical;
    lines.push(
      `| ${row.name} | ${r.mode} | ${r.prompts} ${row.prompts.replace(/\.txt$/, "")} | ${r.machine.threads}${r.machine.draftThreads ? `+${r.machine.draftThreads}` : ""} | ${r.baseline.tokensPerSecond} | ${r.speculative.tokensPerSecond} | **${r.speedup}x** (${r.speedupMedian}x) | ${r.identicalOutputs ? "yes" : "NO"} | ${r.speculative.acceptanceRate} | ${r.speculative.meanAcceptedPerStep} | ${t.alpha} | ${t.gamma} | ${t.draftCostRatio} | ${t.verifyCostRatio} | ${t.expectedSpeedup}x | ${r.efficiency} |`,
    );
  }
  return lines.join("\n") + "\n";
}

interface CacheSuiteResult {
  name: string;
  model: string;
  threads: number;
  contextSize: number;
  backend: string;
  rows: CacheBenchRow[];
}

/** The conversation-cache table: time to first token of each cache outcome against a cold re-prefill. */
function cacheMarkdown(results: CacheSuiteResult[], when: string, repeats: number): string {
  const lines = [
    `Measured ${when}, one conversation slot (every switch pages the other conversation out), median of ${repeats} runs per length. ` +
      "Time to first token (ms) of a conversation of that many prompt tokens: cold = re-prefill from its text; slot hit = still in its slot; " +
      "disk restore = its saved state loaded; prefix reuse = a new conversation sharing all but the last 32 tokens with a saved one. " +
      "Save and load are the state file's write and read.",
    "",
    "| model | threads | tokens | cold | slot hit | disk restore | prefix reuse | state size | bytes / token | save ms | load ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const result of results) {
    for (const row of result.rows) {
      const t = row.ttftMs;
      lines.push(
        `| ${result.name} | ${result.threads} | ${row.tokens} | ${t.cold} | ${t.slotHit} (**${row.speedup.slotHit}x**) | ${t.diskRestore} (**${row.speedup.diskRestore}x**) | ` +
          `${t.prefixReuse} (${row.speedup.prefixReuse}x) | ${(row.stateBytes / 1024 ** 2).toFixed(1)} MB | ${row.bytesPerToken} | ${row.saveMs} | ${row.loadMs} |`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** Replaces what lies between a pair of markers in README.md (nothing happens without both markers). */
async function writeReadmeSection(start: string, end: string, body: string): Promise<void> {
  const readmePath = path.join(repo, "README.md");
  const readme = await readFile(readmePath, "utf8");
  if (!readme.includes(start) || !readme.includes(end)) return;
  await writeFile(readmePath, readme.slice(0, readme.indexOf(start) + start.length) + "\n" + body + readme.slice(readme.indexOf(end)));
}

/** The suite's synthetic pairs: Q8_0, a 20M draft at agreement 0.9, context 2048, cached in .cache/models. */
function syntheticPair(params: "300m" | "1b", log: (line: string) => void) {
  return makeModelPair({ params, draftParams: "20m", agreement: 0.9, context: 2048, quant: "q8_0", outDir: path.join(repo, ".cache", "models"), log });
}

/** Paged KV cache rows: the KJV model at its context limit and the synthetic 300M model at growing lengths. */
async function cacheSuite(quick: boolean, kjv: string, log: (line: string) => void): Promise<number> {
  log("\nsynthetic 300M Q8_0 (context 2048): generating or reusing .cache/models …");
  const pair300m = await syntheticPair("300m", log);
  const repeats = quick ? 1 : 3;
  const runs = [
    { name: "KJV 6M", model: kjv, lengths: [200], threads: 1 },
    { name: "synthetic 300M Q8_0", model: pair300m.target, lengths: quick ? [256, 1024] : [256, 1024, 2048], threads: 2 },
  ];
  const results: CacheSuiteResult[] = [];
  for (const run of runs) {
    log(`\n== cache-bench: ${run.name} at ${run.lengths.join(", ")} tokens`);
    const result = await runCacheBench({ modelPath: run.model, lengths: run.lengths, threads: run.threads, repeats, log });
    for (const row of result.rows) {
      log(`   ${row.tokens} tokens: slot hit ${row.speedup.slotHit}x, disk restore ${row.speedup.diskRestore}x, prefix reuse ${row.speedup.prefixReuse}x`);
    }
    results.push({ name: run.name, ...result });
  }
  const table = cacheMarkdown(results, new Date().toISOString().slice(0, 10), repeats);
  const outDir = path.join(repo, "engine", "bench");
  await writeFile(path.join(outDir, "cache-results.json"), JSON.stringify(results, null, 2) + "\n");
  await writeFile(path.join(outDir, "cache-results.md"), table);
  await writeReadmeSection("<!-- cache-bench:start -->", "<!-- cache-bench:end -->", table);
  process.stdout.write("\n" + table);
  return 0;
}

export async function benchSuiteCommand(argv: string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const kjv = path.join(sharedModels, "kjv-chat-6m.gguf");
  // The conversation-cache rows alone (a few minutes less than the whole suite).
  if (argv.includes("--cache-only")) return cacheSuite(quick, kjv, log);
  const kjvDraft = path.join(sharedModels, "kjv-chat-draft-1m.gguf");
  log("synthetic 1B Q8_0 pair (agreement 0.9): generating or reusing .cache/models …");
  const pair = await syntheticPair("1b", log);
  const synthPrompts = quick ? 4 : 12;
  const rows: SuiteRow[] = [
    { name: `synthetic 1B Q8_0 + 20M draft (agreement ${pair.measuredAgreement.toFixed(2)})`, model: pair.target, draft: pair.draft, mode: "draft", prompts: "general-chat.txt", threads: 2, maxTokens: 64, maxDraftTokens: 8 },
    { name: "synthetic 1B Q8_0 + 20M draft", model: pair.target, draft: pair.draft, mode: "auto", prompts: "general-chat.txt", threads: 2, maxTokens: 64, maxDraftTokens: 8 },
    { name: "KJV 6M + 1M draft", model: kjv, draft: kjvDraft, mode: "draft", prompts: "kjv-free-chat.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M + 1M draft", model: kjv, draft: kjvDraft, mode: "auto", prompts: "kjv-free-chat.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M + 1M draft, held-out prompts", model: kjv, draft: kjvDraft, mode: "auto", prompts: "kjv-held-out.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M", model: kjv, mode: "lookup", prompts: "kjv-input-grounded.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M", model: kjv, mode: "ngram", prompts: "kjv-input-grounded.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M", model: kjv, mode: "auto", prompts: "kjv-input-grounded.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M", model: kjv, mode: "lookup", prompts: "kjv-free-chat.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
    { name: "KJV 6M", model: kjv, mode: "ngram", prompts: "kjv-free-chat.txt", threads: 1, maxTokens: 64, maxDraftTokens: 8, contextSize: 256 },
  ];
  const results: Array<{ row: SuiteRow; report: BenchReport }> = [];
  for (const row of rows) {
    log(`\n== ${row.name}: ${row.mode} on ${row.prompts}`);
    const isSynthetic = row.model === pair.target;
    const prompts = await readPrompts(row.prompts, isSynthetic ? synthPrompts : quick ? 6 : undefined);
    const report = await runBench({
      model: row.model,
      draft: row.draft,
      mode: row.mode,
      prompts,
      maxTokens: row.maxTokens,
      temperature: 0,
      threads: row.threads,
      maxDraftTokens: row.maxDraftTokens,
      contextSize: row.contextSize,
      // A fresh n-gram table per row: each row's learning is its own.
      cacheDir: path.join(os.tmpdir(), `tandem-bench-suite-${process.pid}-${results.length}`),
      log,
    });
    log(`   speedup ${report.speedup}x, bound ${report.theoretical.expectedSpeedup}x, efficiency ${report.efficiency}, identical ${report.identicalOutputs}`);
    results.push({ row, report });
  }

  const when = new Date().toISOString().slice(0, 10);
  const table = markdown(results, when);
  const outDir = path.join(repo, "engine", "bench");
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "results.json"), JSON.stringify(results.map((r) => ({ name: r.row.name, promptFile: r.row.prompts, ...r.report })), null, 2) + "\n");
  await writeFile(path.join(outDir, "results.md"), table);
  await writeReadmeSection("<!-- bench:start -->", "<!-- bench:end -->", table);
  process.stdout.write(table);
  return cacheSuite(quick, kjv, log);
}
