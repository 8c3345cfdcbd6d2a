import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promptsDir, repo } from "./repo-paths.js";
import { runCacheBench, type CacheBenchRow } from "./cache-bench.js";
import { makeModelPair } from "../synthetic/make-model.js";
import { parsePromptFile } from "../../bench/prompt-file.js";
import { ensureLlamaCppTools } from "./peer/llama-cpp-tools.js";
import { NGRAM_PEER_TYPES, peerMarkdown, runPeerSuite, type PeerSuiteGroup } from "./peer/peer-suite.js";
import { RESUME_TURN_TEXT, runServerBench, serverMarkdown } from "./peer/server-bench.js";

/**
 * `npm run bench`: the standard suite. The speculative rows come from `tandem bench --peer llama.cpp` runs (Tandem
 * and llama.cpp back to back per prompt, see peer/peer-bench.ts); results go to engine/dev/bench/results.{json,md} and
 * into README.md between the bench markers. The synthetic pair is generated once into .cache/models (about a minute) and reused.
 */
const sharedModels = process.env.TANDEM_SHARED_MODELS ?? path.resolve(repo, "..", "shared", "models");

async function readPrompts(file: string, limit?: number): Promise<string[]> {
  const lines = parsePromptFile(await readFile(path.join(promptsDir, file), "utf8"));
  return limit ? lines.slice(0, limit) : lines;
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
      "Save and load are the state file's write (with its CRC-32) and read; verify is the CRC-32 check a restore after a restart adds to load.",
    "",
    "| model | threads | tokens | cold | slot hit | disk restore | prefix reuse | state size | bytes / token | save ms | load ms | verify ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const result of results) {
    for (const row of result.rows) {
      const t = row.ttftMs;
      lines.push(
        `| ${result.name} | ${result.threads} | ${row.tokens} | ${t.cold} | ${t.slotHit} (**${row.speedup.slotHit}x**) | ${t.diskRestore} (**${row.speedup.diskRestore}x**) | ` +
          `${t.prefixReuse} (${row.speedup.prefixReuse}x) | ${(row.stateBytes / 1024 ** 2).toFixed(1)} MB | ${row.bytesPerToken} | ${row.saveMs} | ${row.loadMs} | ${row.verifyMs} |`,
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

/** The suite's synthetic pairs: a 20M draft at agreement 0.9, context 2048 (Q8_0 unless asked), cached in .cache/models. */
function syntheticPair(params: "300m" | "1b", log: (line: string) => void, quant: "q8_0" | "f16" = "q8_0") {
  return makeModelPair({ params, draftParams: "20m", agreement: 0.9, context: 2048, quant, outDir: path.join(repo, ".cache", "models"), log });
}

/**
 * Paged KV cache rows: the KJV model at its context limit, the synthetic 300M model at growing lengths, and the
 * synthetic 1B model (the suite's speculation target, so its cache figures sit beside its speculation rows) at 256
 * and 1024 tokens. On 2 cores its cold re-prefill takes ~0.9 s at 256 and ~4.2 s at 1024 tokens (measured), so
 * the row costs well under a minute at 3 runs; 2048 would more than double that, and the 300M row covers that length.
 */
async function cacheSuite(quick: boolean, kjv: string, log: (line: string) => void): Promise<number> {
  log("\nsynthetic 300M Q8_0 (context 2048): generating or reusing .cache/models …");
  const pair300m = await syntheticPair("300m", log);
  log("synthetic 1B Q8_0 (context 2048): generating or reusing .cache/models …");
  const pair1b = await syntheticPair("1b", log);
  const repeats = quick ? 1 : 3;
  const runs = [
    { name: "KJV 6M", model: kjv, lengths: [200], threads: 1 },
    { name: "synthetic 300M Q8_0", model: pair300m.target, lengths: quick ? [256, 1024] : [256, 1024, 2048], threads: 2 },
    { name: "synthetic 1B Q8_0", model: pair1b.target, lengths: quick ? [256] : [256, 1024], threads: 2 },
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
  const outDir = path.join(repo, "engine", "dev", "bench");
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
  const tools = await ensureLlamaCppTools({ log });
  // F16 for the peer rows: on CPUs with AMX (this one), node-llama-cpp runs Q8_0 through ggml's AMX kernels while
  // llama.cpp's own tools, built from the same source, die in them on batched decodes (a segfault in the AMX matmul):
  // only a type without AMX kernels runs on both sides.
  log("synthetic 1B F16 pair (agreement 0.9): generating or reusing .cache/models …");
  const pair = await syntheticPair("1b", log, "f16");
  const synth = (file: string, limit: number) => readPrompts(file, quick ? Math.min(4, limit) : limit);
  const kjvPrompts = (file: string) => readPrompts(file, quick ? 6 : undefined);
  const synthName = `synthetic 1B F16 + 20M draft (agreement ${pair.measuredAgreement.toFixed(2)})`;
  const kjvCommon = { model: kjv, threads: 1, maxTokens: 64, contextSize: 256 };
  const groups: PeerSuiteGroup[] = [
    { name: synthName, model: pair.target, draft: pair.draft, promptFile: "general-chat.txt", prompts: await synth("general-chat.txt", 12), modes: ["draft", "auto"], peerTypes: ["draft-simple"], threads: 2, maxTokens: 64 },
    { name: "synthetic 1B F16", model: pair.target, promptFile: "input-grounded.txt", prompts: await synth("input-grounded.txt", 8), modes: ["lookup", "ngram", "auto"], peerTypes: NGRAM_PEER_TYPES, threads: 2, maxTokens: 64 },
    { name: "KJV 6M + 1M draft", ...kjvCommon, draft: kjvDraft, promptFile: "kjv-free-chat.txt", prompts: await kjvPrompts("kjv-free-chat.txt"), modes: ["draft", "auto"], peerTypes: ["draft-simple"] },
    { name: "KJV 6M + 1M draft, held-out prompts", ...kjvCommon, draft: kjvDraft, promptFile: "kjv-held-out.txt", prompts: await kjvPrompts("kjv-held-out.txt"), modes: ["auto"], peerTypes: ["draft-simple"] },
    { name: "KJV 6M", ...kjvCommon, promptFile: "kjv-input-grounded.txt", prompts: await kjvPrompts("kjv-input-grounded.txt"), modes: ["lookup", "ngram", "auto"], peerTypes: NGRAM_PEER_TYPES },
    { name: "KJV 6M", ...kjvCommon, promptFile: "kjv-free-chat.txt", prompts: await kjvPrompts("kjv-free-chat.txt"), modes: ["lookup", "ngram"], peerTypes: NGRAM_PEER_TYPES },
  ];
  const results = await runPeerSuite(groups, tools, log);

  const when = new Date().toISOString().slice(0, 10);
  const table = peerMarkdown(results, when);
  const outDir = path.join(repo, "engine", "dev", "bench");
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  await writeFile(path.join(outDir, "results.md"), table);
  await writeReadmeSection("<!-- bench:start -->", "<!-- bench:end -->", table);
  process.stdout.write(table);

  // The API server against llama-server: concurrent clients' throughput and a resent conversation's first token.
  log("\n== server-bench: tandem serve vs llama-server on the synthetic 1B F16 target");
  const server = await runServerBench({
    model: pair.target,
    threads: 2,
    slots: 4,
    contextSize: 2048,
    clients: [1, 2, 4],
    maxTokens: 64,
    prompts: await readPrompts("general-chat.txt"),
    rounds: quick ? 2 : 3,
    resumeTurns: 10,
    turnText: RESUME_TURN_TEXT,
    tools,
    log,
  });
  const serverTable = serverMarkdown(server, when);
  await writeFile(path.join(outDir, "server-results.json"), JSON.stringify(server, null, 2) + "\n");
  await writeFile(path.join(outDir, "server-results.md"), serverTable);
  await writeReadmeSection("<!-- server-bench:start -->", "<!-- server-bench:end -->", serverTable);
  process.stdout.write("\n" + serverTable);
  return cacheSuite(quick, kjv, log);
}
