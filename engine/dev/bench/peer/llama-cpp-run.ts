/**
 * Runs llama.cpp's tools and reads their output: llama-speculative-simple's summary (its decode speed and draft
 * counters) and generated text, and llama-bench's JSON. The parsers are pure functions, tested on recorded output.
 */
import { spawn } from "node:child_process";

/** The speculators of llama-speculative-simple (`--spec-type`) the peer bench runs. */
export const PEER_SPEC_TYPES = ["draft-simple", "ngram-simple", "ngram-map-k", "ngram-mod", "ngram-cache"] as const;
export type PeerSpecType = (typeof PEER_SPEC_TYPES)[number];

export interface SpeculativeSimpleRun {
  /** Prompt tokens ("encoded N tokens"). */
  promptTokens: number;
  /** Generated tokens ("decoded N tokens": n_predict, which counts an end-of-generation token). */
  decodedTokens: number;
  decodeSeconds: number;
  /** llama.cpp's own figure: decodedTokens / decodeSeconds. */
  tokensPerSecond: number;
  draftMax: number | null;
  drafted: number;
  accepted: number;
  /** The generated text (stdout after the echoed prompt), or null when the prompt echo did not match. */
  text: string | null;
}

/** Reads llama-speculative-simple's stdout (prompt echo + generated text) and stderr (the summary). */
export function parseSpeculativeSimple(stdout: string, stderr: string, prompt: string): SpeculativeSimpleRun {
  const number = (pattern: RegExp, what: string): number => {
    const match = pattern.exec(stderr);
    if (!match) throw new Error(`llama-speculative-simple printed no ${what}: ${lastLines(stderr)}`);
    return Number(match[1]);
  };
  const encoded = /encoded\s+(\d+) tokens in\s+([\d.]+) seconds/.exec(stderr);
  const decoded = /decoded\s+(\d+) tokens in\s+([\d.]+) seconds, speed:\s+([\d.]+) t\/s/.exec(stderr);
  if (!encoded || !decoded) throw new Error(`llama-speculative-simple printed no speed summary: ${lastLines(stderr)}`);
  const draftMax = /n_draft\s*=\s*(-?\d+)/.exec(stderr);
  // stdout: "\n\n", the prompt's tokens as text, the generated tokens, then "\n\n" twice (after the loop, at exit).
  const echo = `\n\n${prompt}`;
  let text: string | null = null;
  if (stdout.startsWith(echo)) {
    text = stdout.slice(echo.length);
    text = text.endsWith("\n\n\n\n") ? text.slice(0, -4) : text.endsWith("\n\n") ? text.slice(0, -2) : text;
  }
  return {
    promptTokens: Number(encoded[1]),
    decodedTokens: Number(decoded[1]),
    decodeSeconds: Number(decoded[2]),
    tokensPerSecond: Number(decoded[3]),
    draftMax: draftMax ? Number(draftMax[1]) : null,
    drafted: number(/n_drafted\s*=\s*(\d+)/, "n_drafted"),
    accepted: number(/n_accept\s*=\s*(\d+)/, "n_accept"),
    text,
  };
}

export interface LlamaBenchResult {
  /** Prompt tokens processed in one batch (0 for a generation test). */
  nPrompt: number;
  /** Tokens generated one at a time (0 for a prompt test). */
  nGen: number;
  /** Context depth the test ran at (-d). */
  nDepth: number;
  threads: number;
  /** Mean time of one repetition, ms. */
  avgMs: number;
  /** Mean tokens per second. */
  tokensPerSecond: number;
}

/** llama-bench's `-o json`: one object per test. */
export function parseLlamaBenchJson(stdout: string): LlamaBenchResult[] {
  const start = stdout.indexOf("[");
  if (start < 0) throw new Error(`llama-bench printed no JSON: ${lastLines(stdout)}`);
  const rows = JSON.parse(stdout.slice(start)) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    nPrompt: Number(row.n_prompt ?? 0),
    nGen: Number(row.n_gen ?? 0),
    nDepth: Number(row.n_depth ?? 0),
    threads: Number(row.n_threads ?? 0),
    avgMs: Number(row.avg_ns) / 1e6,
    tokensPerSecond: Number(row.avg_ts),
  }));
}

export interface SpeculativeSimpleOptions {
  binary: string;
  model: string;
  draft?: string;
  type: PeerSpecType;
  draftMax?: number;
  prompt: string;
  maxTokens: number;
  threads: number;
  draftThreads?: number;
  contextSize: number;
  signal?: AbortSignal;
}

/** One greedy reply with llama-speculative-simple. */
export async function runSpeculativeSimple(options: SpeculativeSimpleOptions): Promise<SpeculativeSimpleRun> {
  const args = [
    "-m", options.model,
    "--spec-type", options.type,
    "-p", options.prompt,
    "-n", String(options.maxTokens),
    "-t", String(options.threads),
    "-c", String(options.contextSize),
    "--temp", "0",
  ];
  if (options.draft) args.push("-md", options.draft, "-td", String(options.draftThreads ?? options.threads));
  if (options.draftMax !== undefined) args.push("--spec-draft-n-max", String(options.draftMax));
  // llama.cpp logs from a background thread, and a process that exits right after its summary sometimes loses the
  // last lines of it (seen here about one run in ten): the reply is deterministic, so run it again.
  for (let attempt = 1; ; attempt++) {
    const { stdout, stderr } = await execute(options.binary, args, options.signal);
    try {
      return parseSpeculativeSimple(stdout, stderr, options.prompt);
    } catch (error) {
      if (attempt >= 4) throw error;
    }
  }
}

export interface LlamaBenchOptions {
  binary: string;
  model: string;
  threads: number;
  /** Prompt sizes (-p): each is one batched decode of that many tokens. */
  prompts?: number[];
  /** Generation length (-n): single-token decodes. */
  gen?: number;
  depth?: number;
  repetitions?: number;
  signal?: AbortSignal;
}

export async function runLlamaBench(options: LlamaBenchOptions): Promise<LlamaBenchResult[]> {
  const args = [
    "-m", options.model,
    "-t", String(options.threads),
    "-p", (options.prompts ?? [0]).join(","),
    "-n", String(options.gen ?? 0),
    "-d", String(options.depth ?? 0),
    "-r", String(options.repetitions ?? 3),
    "-o", "json",
  ];
  const { stdout } = await execute(options.binary, args, options.signal);
  return parseLlamaBenchJson(stdout);
}

/** What a crashed llama.cpp tool most likely hit, for the message. */
function crashHint(killedBy: NodeJS.Signals | null): string {
  if (killedBy === "SIGILL" || killedBy === "SIGSEGV") {
    return " (on CPUs with AMX, llama.cpp's tools die in ggml's AMX kernels on batched decodes of Q8_0/Q4 models here: use an F16 model for the peer bench)";
  }
  return "";
}

function execute(binary: string, args: string[], signal?: AbortSignal): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code, killedBy) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${binary.split(/[\\/]/).pop()} failed (${killedBy ?? `exit ${code}`})${crashHint(killedBy)}: ${lastLines(stderr || stdout)}`));
    });
  });
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ");
}
