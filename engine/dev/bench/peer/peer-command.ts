/** `tandem bench --peer llama.cpp …`: options, the tools' build, and the printed comparison. */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BenchMode } from "../../../../contracts/engine/protocol.js";
import { BenchUsageError, readPromptsOption, threadsOption } from "../usage-error.js";
import { ensureLlamaCppTools, PeerToolsError } from "./llama-cpp-tools.js";
import { PEER_SPEC_TYPES, type PeerSpecType } from "./llama-cpp-run.js";
import { runPeerBench, type PeerBenchReport } from "./peer-bench.js";


type Values = Record<string, string | boolean | undefined>;

function list(value: string | boolean | undefined): string[] | undefined {
  return typeof value === "string" ? value.split(",").map((v) => v.trim()).filter(Boolean) : undefined;
}

export async function peerCommand(values: Values): Promise<number> {
  if (values.peer !== "llama.cpp") throw new BenchUsageError(`--peer must be llama.cpp (got "${String(values.peer)}")`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let tools;
  try {
    tools = await ensureLlamaCppTools({ log });
  } catch (error) {
    if (error instanceof PeerToolsError) throw new BenchUsageError(error.message);
    throw error;
  }
  if (values["build-only"]) {
    process.stdout.write(`${tools.binDir}\n`);
    return 0;
  }
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const model = str("model");
  if (!model) throw new BenchUsageError("bench --peer needs --model <gguf>");
  const prompts = await readPromptsOption(str("prompts"), "bench --peer");
  const draft = str("draft");
  const modes = (list(values.modes) ?? (draft ? ["draft", "auto"] : ["lookup", "ngram", "auto"])).map((m) => {
    const parsed = BenchMode.safeParse(m);
    if (!parsed.success) throw new BenchUsageError(`--modes: "${m}" is not one of draft, lookup, ngram, auto`);
    if (parsed.data === "draft" && !draft) throw new BenchUsageError("--modes draft needs --draft <gguf>");
    return parsed.data;
  });
  const peerTypes = (list(values["peer-types"]) ?? (draft ? ["draft-simple"] : ["ngram-simple", "ngram-map-k", "ngram-mod", "ngram-cache"])).map((t) => {
    if (!(PEER_SPEC_TYPES as readonly string[]).includes(t)) throw new BenchUsageError(`--peer-types: "${t}" is not one of ${PEER_SPEC_TYPES.join(", ")}`);
    if (t === "draft-simple" && !draft) throw new BenchUsageError("--peer-types draft-simple needs --draft <gguf>");
    return t as PeerSpecType;
  });
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new BenchUsageError(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const draftNMax = (list(values["draft-n-max"]) ?? ["3", "5", "8"]).map((k) => {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 1 || n > 32) throw new BenchUsageError(`--draft-n-max: "${k}" must be a whole number from 1 to 32`);
    return n;
  });
  const report = await runPeerBench({
    model,
    draft,
    prompts,
    maxTokens: integer("max-tokens", 64, 1, 100_000),
    threads: threadsOption(str("threads")),
    contextSize: str("context-size") ? integer("context-size", 0, 16, 1_048_576) : undefined,
    modes,
    maxDraftTokens: integer("max-draft", 8, 1, 32),
    peerTypes,
    draftNMax,
    tools,
    cacheDir: await mkdtemp(path.join(os.tmpdir(), "tandem-peer-bench-")),
    log,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatPeerReport(report));
  return 0;
}

export function formatPeerReport(r: PeerBenchReport): string {
  const lines = [
    `${r.model}${r.draft ? ` + ${r.draft}` : ""}, ${r.prompts} prompts x ${r.maxTokens} tokens, ${r.machine.threads}${r.machine.draftThreads ? `+${r.machine.draftThreads}` : ""} threads, llama.cpp ${r.llamaCpp.revision.slice(0, 12)}`,
    `prompt tokens: same on both sides: ${r.promptTokensMatch ? "yes" : "NO"}`,
    `plain decoding: Tandem ${r.plain.tandem} tok/s, llama-bench ${r.plain.llamaBench} tok/s: ${r.plain.ratio}x`,
  ];
  for (const p of r.peers) lines.push(`llama.cpp ${p.name}: ${p.tokensPerSecond} tok/s, acceptance ${p.acceptanceRate}, same text as Tandem ${p.sameText}/${p.comparedText}`);
  for (const m of r.modes) {
    const t = m.bound.tandem;
    const n = m.bound.native;
    lines.push(
      `Tandem ${m.mode}: ${m.tokensPerSecond} tok/s (${m.speedupMedian}x plain), identical ${m.identicalToPlain ? "yes" : "NO"}, ` +
        `vs best llama.cpp (${r.bestPeer?.name ?? "none"}) ${m.vsBestLlamaCpp}x (median ${m.vsBestLlamaCppMedian}x); ` +
        `bound ${m.bound.tokensPerSecond} tok/s, efficiency ${m.bound.efficiency}`,
      `  ms per token, Tandem vs native: draft ${t.draft} vs ${n.draft}, verify ${t.verify} vs ${n.verify}, other ${t.other} vs 0; total ${t.total} vs ${n.total}`,
    );
  }
  return lines.join("\n") + "\n";
}
