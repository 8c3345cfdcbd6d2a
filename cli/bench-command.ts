import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { defaultDataDir } from "../electron/host/data-dir.js";
import { SpeculationMode } from "../contracts/engine/protocol.js";
import { DEFAULT_MAX_DRAFT_TOKENS, ENGINE_LIMITS } from "../contracts/engine/values.js";
import { runBenchmark } from "../engine/bench/bench.js";
import { BenchUsageError, readPromptsOption, threadsOption } from "../engine/dev/bench/usage-error.js";
import { peerCommand } from "../engine/dev/bench/peer/peer-command.js";

export const BENCH_HELP = `  bench --model <gguf> --spec <off|draft|lookup|ngram|auto> --prompts <file> [options]
                              Plain decoding vs one speculation mode on the same prompts (alternating);
                              prints speed, acceptance, the identical-output check and the theoretical bound.
      --draft <gguf>          Draft model (for draft and auto)
      --max-tokens <n>        Tokens per reply (default 64)
      --temperature <t>       Default 0 (the output check needs 0)
      --threads <n|auto>      Same for baseline and speculative runs (default auto)
      --max-draft <k>         Upper bound on the draft length (default ${DEFAULT_MAX_DRAFT_TOKENS})
      --context-size <n>      Context (default: the model's, at most 8192)
      --ngram-table <fresh|keep>  fresh (default): the learned n-gram table starts empty in a temporary
                              folder and learns only from this bench's speculative replies; keep: use the
                              app's table (what the model has learned in use)
      --json                  One JSON object on stdout
    --peer llama.cpp          Against llama.cpp itself: builds its tools once from node-llama-cpp's bundled source
                              (cached by revision; TANDEM_LLAMA_CPP_CACHE sets the folder), then per prompt runs
                              Tandem and llama-speculative-simple back to back with the same threads, prompt
                              tokens and reply length; llama-bench gives plain decoding and the native costs of
                              the honest bound. With --peer:
      --modes <list>          Tandem's modes (default: draft,auto with --draft, else lookup,ngram,auto)
      --peer-types <list>     llama.cpp's speculators: draft-simple, ngram-simple, ngram-map-k, ngram-mod,
                              ngram-cache (default: draft-simple with --draft, else the four n-gram types)
      --draft-n-max <list>    draft-simple's --spec-draft-n-max values, best reported (default 3,5,8)
      --build-only            Build (or find) the llama.cpp tools and exit
`;

export { BenchUsageError };

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      draft: { type: "string" },
      spec: { type: "string" },
      prompts: { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      threads: { type: "string" },
      "max-draft": { type: "string" },
      "context-size": { type: "string" },
      "ngram-table": { type: "string" },
      json: { type: "boolean", default: false },
      peer: { type: "string" },
      modes: { type: "string" },
      "peer-types": { type: "string" },
      "draft-n-max": { type: "string" },
      "build-only": { type: "boolean", default: false },
    },
  });
  if (values.peer !== undefined) return peerCommand(values);
  if (!values.model) throw new BenchUsageError("bench needs --model <gguf>");
  const mode = SpeculationMode.safeParse(values.spec ?? "");
  if (!mode.success) throw new BenchUsageError("bench needs --spec off|draft|lookup|ngram|auto");
  if (!["fresh", "keep", undefined].includes(values["ngram-table"])) throw new BenchUsageError("--ngram-table must be fresh or keep");
  const prompts = await readPromptsOption(values.prompts, "bench");
  const threads = threadsOption(values.threads);
  const number = (name: string, value: string | undefined, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new BenchUsageError(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const report = await runBenchmark({
    model: values.model,
    draft: values.draft,
    mode: mode.data,
    prompts,
    maxTokens: Math.floor(number("max-tokens", values["max-tokens"], 64, 1, 100_000)),
    temperature: number("temperature", values.temperature, 0, 0, 5),
    threads,
    maxDraftTokens: Math.floor(number("max-draft", values["max-draft"], DEFAULT_MAX_DRAFT_TOKENS, ENGINE_LIMITS.maxDraftTokens.min, ENGINE_LIMITS.maxDraftTokens.max)),
    contextSize: values["context-size"] ? Math.floor(number("context-size", values["context-size"], 0, 16, 1_048_576)) : undefined,
    cacheDir:
      (values["ngram-table"] ?? "fresh") === "keep"
        ? path.join(defaultDataDir(), "cache")
        : await mkdtemp(path.join(os.tmpdir(), "tandem-bench-")),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const t = report.theoretical;
    process.stdout.write(
      `${report.model}${report.draft ? ` + ${report.draft}` : ""}, ${report.mode}, ${report.prompts} prompts, ${report.machine.threads} threads\n` +
        `baseline ${report.baseline.tokensPerSecond} tok/s, speculative ${report.speculative.tokensPerSecond} tok/s: ` +
        `speedup ${report.speedup}x (median ${report.speedupMedian}x), identical outputs: ${report.identicalOutputs}\n` +
        `acceptance ${report.speculative.acceptanceRate}, accepted/decode ${report.speculative.meanAcceptedPerStep}; ` +
        `bound: α=${t.alpha} γ=${t.gamma} c=${t.draftCostRatio} v=${t.verifyCostRatio} share=${t.speculativeStepShare} → ${t.expectedSpeedup}x ` +
        `(efficiency ${report.efficiency})\n`,
    );
  }
  return 0;
}
