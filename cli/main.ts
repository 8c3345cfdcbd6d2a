/**
 * The `tandem` command line, its own composition root. chat and bench run the engine in-process (no supervisor, no
 * database); serve runs it supervised behind the host's API server; inspect reads GGUF headers; pull uses the host's
 * downloader. make-model, bench-suite, cache-bench, server-bench and bench --peer are dev tools, their code in
 * engine/dev. Every command's options are in COMMAND_HELP below (`tandem <command> --help`).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { Engine } from "../engine/engine.js";
import { EngineFailure } from "../engine/errors.js";
import { defaultDataDir } from "../electron/host/data-dir.js";
import { makeModelPair, MakeModelOptionsError } from "../engine/dev/synthetic/make-model.js";
import { BENCH_HELP, BenchUsageError, benchCommand } from "./bench-command.js";
import { benchSuiteCommand } from "../engine/dev/bench/suite.js";
import { CACHE_BENCH_HELP, cacheBenchCommand } from "../engine/dev/bench/cache-bench.js";
import { SERVER_BENCH_HELP, serverBenchCommand } from "../engine/dev/bench/peer/server-bench.js";
import { INSPECT_HELP, inspectCommand } from "./inspect-command.js";
import { PULL_HELP, pullCommand } from "./pull-command.js";
import { SERVE_HELP, ServeUsageError, serveCommand } from "./serve-command.js";
import { REMOTE_CHAT_HELP, RemoteUsageError, remoteChatCommand } from "./remote-chat-command.js";
import { ContextSizeSetting, GpuChoice, ThreadsSetting, engineParams, type ChatMessage, type GenerationResult } from "../contracts/engine/protocol.js";
import { Settings } from "../contracts/window/domain.js";

/** chat's sampling defaults are the app's (Settings). */
const CHAT_DEFAULTS = { temperature: Settings.shape.temperature.parse(undefined), maxTokens: Settings.shape.maxTokens.parse(undefined) };

/** What `chat --json` prints after the reply, from its result: the help lists these keys. */
const chatJson = ({ text, stats }: GenerationResult) => ({
  text,
  tokens: stats.tokens,
  tokensPerSecond: stats.tokensPerSecond,
  timeToFirstTokenMs: stats.timeToFirstTokenMs,
  stopReason: stats.stopReason,
  promptTokens: stats.promptTokens,
  threads: stats.threads,
  backend: stats.backend,
});
const CHAT_JSON_KEYS = Object.keys(chatJson({ text: "", stats: {} } as GenerationResult));

const CHAT_HELP = `  chat --model <gguf> [options] "<prompt>"   Stream a reply to one prompt.
      --system <text>         System prompt
      --temperature <t>       Sampling temperature (default ${CHAT_DEFAULTS.temperature}; 0 = greedy, deterministic)
      --max-tokens <n>        Maximum reply tokens (default ${CHAT_DEFAULTS.maxTokens})
      --context-size <n|auto> Context window (default auto: the model's trained size, at most 8192)
      --threads <n|auto>      CPU threads (default auto: measured once per model and cached)
      --gpu <auto|cuda|vulkan|metal|cpu>   Backend (default auto)
      --json                  After the reply, print one JSON line: {${CHAT_JSON_KEYS.map((key) => `"${key}"`).join(", ")}}
${REMOTE_CHAT_HELP}`;

const MAKE_MODEL_HELP = `  make-model [options]        Write a synthetic target + draft pair (same tokenizer) whose greedy choices agree at
                              a chosen rate, and print the measured agreement. Reuses a pair already in --out.
      --params <300m|1b|N>    Target size (N: a parameter count such as 3m or 5000000)
      --draft-params <20m|N>  Draft size
      --agreement <0..1>      Requested greedy agreement of draft with target
      --context <n>           Trained context length of both models
      --out <dir>             Output folder (e.g. .cache/models)
      --quant <q8_0|f16>      Weight type (default q8_0)
      --seed <n>              Seed (default 1)
      --vocab <n>             Vocabulary size (default 32000)
      --threads <n>           Threads for the agreement measurement (default 2 for big targets, else 1)
      --json                  Print one JSON object instead of text
`;

const BENCH_SUITE_HELP = `  bench-suite [--quick]       The standard suite (npm run bench): writes engine/dev/bench/results.md and the
                              README's table.
`;

/** Each command's own help, printed by `tandem <command> --help`. */
const COMMAND_HELP: Record<string, string> = {
  chat: CHAT_HELP,
  "make-model": MAKE_MODEL_HELP,
  bench: BENCH_HELP,
  "bench-suite": BENCH_SUITE_HELP,
  "cache-bench": CACHE_BENCH_HELP,
  "server-bench": SERVER_BENCH_HELP,
  inspect: INSPECT_HELP,
  pull: PULL_HELP,
  serve: SERVE_HELP,
};

const HELP = `Tandem: local LLM chat with speculative decoding

Usage: tandem <command> [options]   (tandem <command> --help: that command's options)

Commands:
${Object.values(COMMAND_HELP).join("")}  help                        Show this help.

Environment: TANDEM_DATA_DIR sets the data folder (thread calibration cache).
`;

class UsageError extends Error {}

function parseNumber(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${value}")`);
  return n;
}

function parseSetting<T>(name: string, value: string | undefined, schema: { safeParse(v: unknown): { success: boolean; data?: T } }): T {
  const raw = value === undefined || value === "auto" ? "auto" : /^\d+$/.test(value) ? Number(value) : value;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--${name}: invalid value "${value}"`);
  return parsed.data as T;
}

async function chat(argv: string[]): Promise<number> {
  if (argv.some((arg) => arg === "--remote" || arg.startsWith("--remote="))) return remoteChatCommand(argv);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      system: { type: "string" },
      temperature: { type: "string" },
      "max-tokens": { type: "string" },
      "context-size": { type: "string" },
      threads: { type: "string" },
      gpu: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.model) throw new UsageError("chat needs --model <path to a .gguf file>");
  const prompt = positionals.join(" ").trim();
  if (!prompt) throw new UsageError('chat needs a prompt, e.g. tandem chat --model m.gguf "Hello"');
  const temperature = parseNumber("temperature", values.temperature, CHAT_DEFAULTS.temperature, 0, 5);
  const maxTokens = Math.floor(parseNumber("max-tokens", values["max-tokens"], CHAT_DEFAULTS.maxTokens, 1, 1_000_000));
  const contextSize = parseSetting("context-size", values["context-size"], ContextSizeSetting);
  const threads = parseSetting("threads", values.threads, ThreadsSetting);
  const gpu = parseSetting("gpu", values.gpu ?? "auto", GpuChoice);

  const engine = new Engine((level, message) => {
    if (level === "error") process.stderr.write(`[llama] ${message}\n`);
  });
  try {
    await engine.init({ gpu, cacheDir: path.join(defaultDataDir(), "cache") });
    await engine.loadModel(engineParams("loadModel", { modelPath: values.model, contextSize, threads, gpuLayers: "auto" }), () => {});
    const messages: ChatMessage[] = [];
    if (values.system) messages.push({ role: "system", content: values.system });
    messages.push({ role: "user", content: prompt });

    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once("SIGINT", onSigint);
    const result = await engine.generate(
      engineParams("generate", { messageId: "cli", conversationId: "cli", messages, maxTokens, sampling: { temperature } }),
      (tokens) => process.stdout.write(tokens.map((token) => token.text).join("")),
    );
    process.off("SIGINT", onSigint);
    process.stdout.write("\n");
    if (values.json) {
      process.stdout.write(JSON.stringify(chatJson(result)) + "\n");
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}

function parseInteger(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`make-model needs --${name}`);
    return fallback;
  }
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number (got "${value}")`);
  return Number(value);
}

async function makeModel(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        params: { type: "string" },
        "draft-params": { type: "string" },
        agreement: { type: "string" },
        context: { type: "string" },
        out: { type: "string" },
        quant: { type: "string", default: "q8_0" },
        seed: { type: "string" },
        vocab: { type: "string" },
        threads: { type: "string" },
        json: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(`make-model: ${(error as Error).message}`);
  }
  for (const name of ["params", "draft-params", "agreement", "out"] as const) {
    if (values[name] === undefined) throw new UsageError(`make-model needs --${name}`);
  }
  const quant = values.quant;
  if (quant !== "q8_0" && quant !== "f16") throw new UsageError(`--quant must be q8_0 or f16 (got "${quant}")`);
  const json = values.json;
  try {
    const result = await makeModelPair({
      params: values.params!,
      draftParams: values["draft-params"]!,
      agreement: parseNumber("agreement", values.agreement, 0, 0, 1),
      context: parseInteger("context", values.context),
      quant,
      seed: values.seed === undefined ? undefined : parseInteger("seed", values.seed),
      vocab: values.vocab === undefined ? undefined : parseInteger("vocab", values.vocab),
      threads: values.threads === undefined ? undefined : parseInteger("threads", values.threads),
      outDir: values.out!,
      log: (message) => process.stderr.write(`${message}\n`),
    });
    if (json) {
      const { sample: _sample, targetInfo, draftInfo, ...rest } = result;
      process.stdout.write(
        JSON.stringify({ ...rest, targetBytes: targetInfo.bytes, draftBytes: draftInfo.bytes, targetShape: targetInfo.shape, draftShape: draftInfo.shape }) + "\n",
      );
    } else {
      process.stdout.write(
        `target: ${result.target}\ndraft:  ${result.draft}\n` +
          `measured agreement ${result.measuredAgreement.toFixed(3)} (requested ${result.requestedAgreement}, ${result.positions} positions)` +
          `${result.reused ? ", reused" : ""}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof MakeModelOptionsError) throw new UsageError(error.message);
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" && rest[0] !== undefined && COMMAND_HELP[rest[0]] !== undefined) return main([rest[0], "--help"]);
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(HELP);
    return command === undefined ? 1 : 0;
  }
  const commandHelp = COMMAND_HELP[command];
  if (commandHelp !== undefined && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(`Usage: tandem ${command} [options]\n\n${commandHelp}`);
    return 0;
  }
  if (command === "chat") return chat(rest);
  if (command === "make-model") return makeModel(rest);
  if (command === "bench") return benchCommand(rest);
  if (command === "bench-suite") return benchSuiteCommand(rest);
  if (command === "cache-bench") return cacheBenchCommand(rest);
  if (command === "server-bench") return serverBenchCommand(rest);
  if (command === "inspect") return inspectCommand(rest);
  if (command === "pull") return pullCommand(rest);
  if (command === "serve") return serveCommand(rest);
  throw new UsageError(`unknown command "${command}" (see tandem --help)`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof UsageError || error instanceof BenchUsageError || error instanceof ServeUsageError || error instanceof RemoteUsageError || error instanceof EngineFailure
        ? error.message
        : error instanceof Error
          ? error.message
          : String(error);
    process.stderr.write(`tandem: ${message.split("\n")[0]}\n`);
    process.exit(error instanceof UsageError || error instanceof BenchUsageError || error instanceof ServeUsageError || error instanceof RemoteUsageError ? 2 : 1);
  },
);
