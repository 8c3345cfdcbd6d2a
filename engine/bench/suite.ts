import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeModelPair } from "../synthetic/make-model.js";
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
  const lines = (await readFile(path.join(promptsDir, file), "utf8")).split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
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

export async function benchSuiteCommand(argv: string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const kjv = path.join(sharedModels, "kjv-chat-6m.gguf");
  const kjvDraft = path.join(sharedModels, "kjv-chat-draft-1m.gguf");
  log("synthetic 1B Q8_0 pair (agreement 0.9): generating or reusing .cache/models …");
  const pair = await makeModelPair({
    params: "1b",
    draftParams: "20m",
    agreement: 0.9,
    context: 2048,
    quant: "q8_0",
    outDir: path.join(repo, ".cache", "models"),
    log,
  });
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
  const readmePath = path.join(repo, "README.md");
  const readme = await readFile(readmePath, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  if (readme.includes(start) && readme.includes(end)) {
    const updated = readme.slice(0, readme.indexOf(start) + start.length) + "\n" + table + readme.slice(readme.indexOf(end));
    await writeFile(readmePath, updated);
  }
  process.stdout.write(table);
  return 0;
}
