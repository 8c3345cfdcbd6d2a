/**
 * The speculative-decoding rows of `npm run bench`: each group is one `tandem bench --peer llama.cpp` run (Tandem's
 * modes and llama.cpp's speculators on the same prompts, back to back), and each Tandem mode becomes a row of the
 * README's table with its llama.cpp columns.
 */
import os from "node:os";
import { DEFAULT_MAX_DRAFT_TOKENS } from "../../../../contracts/engine/values.js";
import path from "node:path";
import type { BenchMode } from "../../../../contracts/engine/protocol.js";
import type { LlamaCppTools } from "./llama-cpp-tools.js";
import type { PeerSpecType } from "./llama-cpp-run.js";
import { runPeerBench, type PeerBenchReport } from "./peer-bench.js";

export interface PeerSuiteGroup {
  name: string;
  model: string;
  draft?: string;
  promptFile: string;
  prompts: string[];
  modes: BenchMode[];
  peerTypes: PeerSpecType[];
  threads: number;
  maxTokens: number;
  contextSize?: number;
}

export interface PeerSuiteResult {
  group: Omit<PeerSuiteGroup, "prompts">;
  report: PeerBenchReport;
}

export const NGRAM_PEER_TYPES: PeerSpecType[] = ["ngram-simple", "ngram-map-k", "ngram-mod", "ngram-cache"];

export async function runPeerSuite(groups: PeerSuiteGroup[], tools: LlamaCppTools, log: (line: string) => void): Promise<PeerSuiteResult[]> {
  const results: PeerSuiteResult[] = [];
  for (const [i, group] of groups.entries()) {
    log(`\n== ${group.name}: Tandem ${group.modes.join(", ")} vs llama.cpp ${group.peerTypes.join(", ")} on ${group.promptFile}`);
    const report = await runPeerBench({
      model: group.model,
      draft: group.draft,
      prompts: group.prompts,
      maxTokens: group.maxTokens,
      threads: group.threads,
      contextSize: group.contextSize,
      modes: group.modes,
      maxDraftTokens: DEFAULT_MAX_DRAFT_TOKENS,
      peerTypes: group.peerTypes,
      draftNMax: [3, 5, 8],
      tools,
      // A fresh n-gram table per group: each group's learning is its own.
      cacheDir: path.join(os.tmpdir(), `tandem-bench-suite-${process.pid}-${i}`),
      log,
    });
    for (const m of report.modes) log(`   ${m.mode}: ${m.tokensPerSecond} tok/s, ${m.vsBestLlamaCpp}x best llama.cpp (${report.bestPeer?.name}), efficiency ${m.bound.efficiency}`);
    const { prompts: _prompts, ...group_ } = group;
    results.push({ group: group_, report });
  }
  return results;
}

/** The README's table: one row per Tandem mode, with plain decoding and the best llama.cpp speculator beside it. */
export function peerMarkdown(results: PeerSuiteResult[], when: string): string {
  const first = results[0]?.report;
  const lines = [
    `Measured ${when} on ${first?.machine.cpu ?? "?"} (${first?.machine.cores} cores, ${first?.machine.backend}), temperature 0, against llama.cpp ` +
      `${first?.llamaCpp.revision.slice(0, 12) ?? "?"} built from node-llama-cpp's bundled source, same model files, threads, prompt tokens and reply length. ` +
      "Per prompt every configuration runs back to back, then again in reverse order. Speed is decode speed in tokens/s. " +
      "llama-bench = llama.cpp's plain decoding (tg at the prompts' depth); best llama.cpp = the fastest of llama-speculative-simple's " +
      "draft-simple at --spec-draft-n-max 3, 5 and 8, or of its n-gram speculators (ngram-simple, ngram-map-k, ngram-mod, ngram-cache). " +
      "Bound = the time Tandem's own steps take at llama.cpp's measured costs (llama-bench's batched decodes and the draft's decode); " +
      "efficiency = Tandem / bound. Same text = llama.cpp's greedy reply equals Tandem's on that many prompts.",
    "",
    "| run | prompts | threads | Tandem plain | llama-bench | plain ratio | mode | Tandem | vs plain (median) | identical | best llama.cpp | **Tandem / best llama.cpp** (median) | same text | acceptance | bound | efficiency |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const { group, report: r } of results) {
    const best = r.bestPeer ? r.peers.find((p) => p.name === r.bestPeer!.name)! : null;
    for (const m of r.modes) {
      lines.push(
        `| ${group.name} | ${r.prompts} ${group.promptFile.replace(/\.txt$/, "")} | ${r.machine.threads}${r.machine.draftThreads ? `+${r.machine.draftThreads}` : ""} | ` +
          `${r.plain.tandem} | ${r.plain.llamaBench} | ${r.plain.ratio}x | ${m.mode} | ${m.tokensPerSecond} | ${m.speedupMedian}x | ${m.identicalToPlain ? "yes" : "NO"} | ` +
          `${best ? `${best.tokensPerSecond} (${best.name})` : "–"} | **${m.vsBestLlamaCpp}x** (${m.vsBestLlamaCppMedian}x) | ${best ? `${best.sameText}/${best.comparedText}` : "–"} | ` +
          `${m.acceptanceRate} | ${m.bound.tokensPerSecond} | ${m.bound.efficiency} |`,
      );
    }
  }
  lines.push(
    "",
    "Where a generated token's time goes (ms per token, Tandem's measured split / the same steps at llama.cpp's costs):",
    "",
    "| run | mode | draft | verify | other (sampling, detokenizing, policy, bindings) | total |",
    "|---|---|---|---|---|---|",
  );
  for (const { group, report: r } of results) {
    for (const m of r.modes) {
      const t = m.bound.tandem;
      const n = m.bound.native;
      lines.push(`| ${group.name} | ${m.mode} | ${t.draft} / ${n.draft} | ${t.verify} / ${n.verify} | ${t.other} / 0 | ${t.total} / ${n.total} |`);
    }
  }
  return lines.join("\n") + "\n";
}
