/**
 * `tandem server-bench`: Tandem's OpenAI-compatible server against llama-server, both started here on the same model
 * file, threads, slots and context per slot, driven over HTTP by the same clients.
 *
 * - Throughput: 1, 2 and 4 clients at once, each asking for a greedy reply of the same length; aggregate decoded
 *   tokens per second of wall time. The two servers take turns per client count, in alternating order.
 * - Resume: a conversation of N turns is resent in full at every turn, as API clients do; the time to first token
 *   of its last turn is compared with the same history sent as a new conversation (a cold re-prefill). Both servers
 *   keep a conversation's evaluated prompt between requests (Tandem: its slot or saved state; llama-server: its
 *   slot's prompt cache), so each row's ratio is its own server's resume against its own re-prefill.
 *
 * Both servers are separate processes (Tandem's is `tandem serve`), so this bench imports nothing from the host.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { createServer } from "node:net";
import path from "node:path";
import { median } from "../../../median.js";
import { promptsDir } from "../repo-paths.js";
import { BenchUsageError, readPromptsOption } from "../usage-error.js";
import { ensureLlamaCppTools, type LlamaCppTools } from "./llama-cpp-tools.js";

export interface ServerBenchOptions {
  model: string;
  threads: number;
  slots: number;
  /** Tokens of context per slot (llama-server gets slots x this, its context being shared by its slots). */
  contextSize: number;
  clients: number[];
  maxTokens: number;
  prompts: string[];
  /** Rounds per client count (each round runs both servers, the order alternating). */
  rounds: number;
  /** Turns of the resumed conversation, and the user text of each turn. */
  resumeTurns: number;
  turnText: string;
  tools: LlamaCppTools;
  log: (line: string) => void;
}

export interface ThroughputRow {
  clients: number;
  tandem: number;
  llamaServer: number;
  /** Tandem / llama-server, median of the rounds' ratios. */
  ratio: number;
}

export interface ResumeRow {
  server: "tandem" | "llama-server";
  promptTokens: number;
  resumeMs: number;
  coldMs: number;
  speedup: number;
}

export interface ServerBenchReport {
  model: string;
  threads: number;
  slots: number;
  contextSize: number;
  maxTokens: number;
  resumeTurns: number;
  throughput: ThroughputRow[];
  resume: ResumeRow[];
}

interface RunningServer {
  name: "tandem" | "llama-server";
  baseUrl: string;
  modelId: string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now (for a server this process starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

/** Waits for `ready` to find what it needs in the process's output; fails with its last lines if it exits first. */
function waitForOutput(child: ChildProcess, name: string, ready: (text: string) => string | null, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => fail(`${name} did not start within ${timeoutMs / 1000} s`), timeoutMs);
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new Error(`${message}:\n${text.split("\n").slice(-15).join("\n")}`));
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const found = ready(text);
      if (found !== null) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stderr?.off("data", onData);
        resolve(found);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => fail(`${name} exited (${signal ?? code}) before it was ready`));
  });
}

async function startTandem(options: ServerBenchOptions): Promise<RunningServer> {
  // The running CLI (dist/cli.js) starts `tandem serve` in a process of its own, as a user would.
  const cli = process.argv[1]!;
  const child = spawn(
    process.execPath,
    [cli, "serve", "--model", options.model, "--threads", String(options.threads), "--slots", String(options.slots),
      "--context-size", String(options.contextSize), "--port", "0", "--spec", "off"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const baseUrl = await waitForOutput(child, "tandem serve", (text) => /Tandem API server: (http:\/\/\S+\/v1)/.exec(text)?.[1] ?? null, 300_000);
  return { name: "tandem", baseUrl, modelId: path.basename(options.model), stop: stopper(child) };
}

async function startLlamaServer(options: ServerBenchOptions): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(
    options.tools.paths["llama-server"],
    ["-m", options.model, "-t", String(options.threads), "-np", String(options.slots), "-c", String(options.slots * options.contextSize),
      "--host", "127.0.0.1", "--port", String(port)],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const stop = stopper(child);
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  // /health answers 200 once the model is loaded (its log may stay buffered in a pipe, so it is not read here).
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const deadline = performance.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`llama-server exited (${child.signalCode ?? child.exitCode}) before it was ready:\n${output}`);
    if (performance.now() > deadline) {
      await stop();
      throw new Error("llama-server did not start within 300 s");
    }
    const health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    if (health?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { name: "llama-server", baseUrl, modelId: path.basename(options.model), stop };
}

interface Reply {
  text: string;
  completionTokens: number;
  promptTokens: number;
  firstTokenMs: number;
}

/** One greedy chat completion, streamed (time to first content) with usage. */
async function chat(server: RunningServer, messages: Array<{ role: string; content: string }>, maxTokens: number): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${server.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: server.modelId, messages, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) throw new Error(`${server.name}: HTTP ${response.status}: ${await response.text()}`);
  let text = "";
  let firstTokenMs = 0;
  type Usage = { prompt_tokens: number; completion_tokens: number };
  let usage = null as Usage | null;
  let buffer = "";
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data:")) continue;
      const data = event.slice(5).trim();
      if (data === "[DONE]") continue;
      const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }>; usage?: Usage };
      const piece = parsed.choices?.[0]?.delta?.content;
      if (piece) {
        if (!firstTokenMs) firstTokenMs = performance.now() - started;
        text += piece;
      }
      if (parsed.usage) usage = parsed.usage;
    }
  }
  if (!usage) throw new Error(`${server.name}: the stream ended without usage`);
  return { text, completionTokens: usage.completion_tokens, promptTokens: usage.prompt_tokens, firstTokenMs };
}

/** Aggregate decoded tokens/s of `clients` replies at once. */
async function throughput(server: RunningServer, prompts: string[], maxTokens: number): Promise<number> {
  const started = performance.now();
  const replies = await Promise.all(prompts.map((prompt) => chat(server, [{ role: "user", content: prompt }], maxTokens)));
  const seconds = (performance.now() - started) / 1000;
  return replies.reduce((sum, reply) => sum + reply.completionTokens, 0) / seconds;
}

/**
 * Builds an N-turn conversation, then times its last turn (a short question) resent in full against the same
 * history sent as a new conversation.
 */
async function resume(server: RunningServer, options: ServerBenchOptions, nonce: string): Promise<ResumeRow> {
  const messages: Array<{ role: string; content: string }> = [{ role: "system", content: `Conversation ${nonce}.` }];
  let reply: Reply | null = null;
  for (let turn = 0; turn < options.resumeTurns; turn++) {
    const last = turn === options.resumeTurns - 1;
    messages.push({ role: "user", content: last ? RESUME_QUESTION : `${turn + 1}. ${options.turnText}` });
    reply = await chat(server, messages, last ? 1 : 8);
    if (!last) messages.push({ role: "assistant", content: reply.text });
  }
  // The same history as a new conversation: another system line, so no cache holds any of it.
  const cold = await chat(server, [{ role: "system", content: `Conversation ${nonce}, cold.` }, ...messages.slice(1)], 1);
  return {
    server: server.name,
    promptTokens: reply!.promptTokens,
    resumeMs: Math.round(reply!.firstTokenMs * 10) / 10,
    coldMs: Math.round(cold.firstTokenMs * 10) / 10,
    speedup: Math.round((cold.firstTokenMs / reply!.firstTokenMs) * 10) / 10,
  };
}

export async function runServerBench(options: ServerBenchOptions): Promise<ServerBenchReport> {
  const { log } = options;
  log(`starting tandem serve and llama-server: ${path.basename(options.model)}, ${options.threads} threads, ${options.slots} slots of ${options.contextSize} tokens`);
  const servers: RunningServer[] = [];
  try {
    servers.push(await startTandem(options));
    servers.push(await startLlamaServer(options));
    const [tandem, llama] = servers as [RunningServer, RunningServer];
    // One short reply each first: loads, warms caches and the engines' first-reply work.
    for (const server of servers) await chat(server, [{ role: "user", content: options.prompts[0]! }], 4);

    const rows: ThroughputRow[] = [];
    let offset = 0;
    for (const clients of options.clients) {
      const ratios: number[] = [];
      const tandemRates: number[] = [];
      const llamaRates: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        const prompts = Array.from({ length: clients }, (_, i) => options.prompts[(offset + i) % options.prompts.length]!);
        offset += clients;
        const order = round % 2 === 0 ? [tandem, llama] : [llama, tandem];
        const rates = new Map<string, number>();
        for (const server of order) rates.set(server.name, await throughput(server, prompts, options.maxTokens));
        tandemRates.push(rates.get("tandem")!);
        llamaRates.push(rates.get("llama-server")!);
        ratios.push(rates.get("tandem")! / rates.get("llama-server")!);
      }
      const row = { clients, tandem: round1(median(tandemRates)), llamaServer: round1(median(llamaRates)), ratio: Math.round(median(ratios) * 1000) / 1000 };
      log(`  ${clients} client(s): Tandem ${row.tandem} tok/s, llama-server ${row.llamaServer} tok/s, ${row.ratio}x`);
      rows.push(row);
    }

    const resumeRows: ResumeRow[] = [];
    for (const server of servers) {
      const row = await resume(server, options, `${server.name}-${Date.now()}`);
      log(`  resume (${server.name}): turn ${options.resumeTurns} at ${row.promptTokens} prompt tokens: ${row.resumeMs} ms against ${row.coldMs} ms cold, ${row.speedup}x`);
      resumeRows.push(row);
    }
    return {
      model: path.basename(options.model),
      threads: options.threads,
      slots: options.slots,
      contextSize: options.contextSize,
      maxTokens: options.maxTokens,
      resumeTurns: options.resumeTurns,
      throughput: rows,
      resume: resumeRows,
    };
  } finally {
    for (const server of servers) await server.stop();
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The README's server table. */
export function serverMarkdown(report: ServerBenchReport, when: string): string {
  const lines = [
    `Measured ${when}: Tandem's API server (\`tandem serve\`, speculation off) against llama-server built from node-llama-cpp's bundled ` +
      `llama.cpp, both on ${report.model} with ${report.threads} threads, ${report.slots} slots of ${report.contextSize} tokens, greedy replies of ` +
      `${report.maxTokens} tokens; aggregate decoded tokens per second of wall time, the servers taking turns in alternating order (median of rounds).`,
    "",
    "| clients at once | Tandem tok/s | llama-server tok/s | **Tandem / llama-server** |",
    "|---|---|---|---|",
    ...report.throughput.map((r) => `| ${r.clients} | ${r.tandem} | ${r.llamaServer} | **${r.ratio}x** |`),
    "",
    `Time to first token of turn ${report.resumeTurns} of a conversation (a short question after ${report.resumeTurns - 1} turns that each brought a ~200-token passage), the whole history resent as API clients do, against the same history sent as a new conversation (re-prefill):`,
    "",
    "| server | prompt tokens | resumed turn (ms) | re-prefill (ms) | **speedup** |",
    "|---|---|---|---|---|",
    ...report.resume.map((r) => `| ${r.server} | ${r.promptTokens} | ${r.resumeMs} | ${r.coldMs} | **${r.speedup}x** |`),
  ];
  return lines.join("\n") + "\n";
}

export const SERVER_BENCH_HELP = `  server-bench --model <gguf> [options]
                              Tandem's API server (tandem serve) against llama-server on the same model:
                              aggregate tok/s with 1, 2 and 4 clients at once, and the time to first token of a
                              conversation's last turn resent in full against a re-prefill. Builds llama.cpp's
                              tools once (see bench --peer).
      --threads <n>           CPU threads of both servers (default 2)
      --slots <n>             Slots of both servers (default 4)
      --context-size <n>      Tokens per slot (default 2048)
      --clients <list>        Clients at once (default 1,2,4)
      --max-tokens <n>        Tokens per reply (default 64)
      --rounds <n>            Rounds per client count, median reported (default 2)
      --turns <n>             Turns of the resumed conversation (default 10)
      --prompts <file>        One prompt a line (default: engine/bench/prompts/general-chat.txt)
      --json                  One JSON object on stdout
`;

export async function serverBenchCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: "string" },
        threads: { type: "string" },
        slots: { type: "string" },
        "context-size": { type: "string" },
        clients: { type: "string" },
        "max-tokens": { type: "string" },
        rounds: { type: "string" },
        turns: { type: "string" },
        prompts: { type: "string" },
        json: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new BenchUsageError(`server-bench: ${(error as Error).message}`);
  }
  if (!values.model) throw new BenchUsageError("server-bench needs --model <path to a .gguf file>");
  const int = (name: string, value: string | undefined, fallback: number, max: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new BenchUsageError(`--${name} must be a whole number from 1 to ${max} (got "${value}")`);
    return n;
  };
  const clients = (values.clients ?? "1,2,4").split(",").map((part) => int("clients", part.trim(), 1, 64));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const report = await runServerBench({
    model: path.resolve(values.model),
    threads: int("threads", values.threads, 2, 256),
    slots: int("slots", values.slots, 4, 8),
    contextSize: int("context-size", values["context-size"], 2048, 131_072),
    clients,
    maxTokens: int("max-tokens", values["max-tokens"], 64, 4096),
    rounds: int("rounds", values.rounds, 2, 50),
    resumeTurns: int("turns", values.turns, 10, 100),
    turnText: RESUME_TURN_TEXT,
    prompts: await readPromptsOption(values.prompts ?? path.join(promptsDir, "general-chat.txt"), "server-bench"),
    tools: await ensureLlamaCppTools({ log }),
    log,
  });
  process.stdout.write(values.json ? JSON.stringify(report) + "\n" : serverMarkdown(report, new Date().toISOString().slice(0, 10)));
  return 0;
}

/**
 * The resumed conversation: nine turns that each bring a passage of about 200 tokens (on the synthetic models'
 * 32k-vocabulary tokenizer), then a short question, the turn whose time to first token is measured. That comes to
 * about 1,900 prompt tokens, inside a 2,048-token context (a longer history would be cut from its start to fit, and
 * a cut history can't be resumed).
 */
export const RESUME_TURN_TEXT =
  "Here is the next part of the report we are reviewing together. The committee met on Tuesday to go over the " +
  "budget for the coming year, the hiring plan for the support team, the schedule for moving the servers to the " +
  "new building, and the results of the customer survey. Most members agreed that the survey showed clear progress " +
  "on response times, although several pointed out that the questions about documentation were answered by fewer " +
  "people than last year. The operations lead promised a list of the machines that can be retired instead of moved.";
export const RESUME_QUESTION = "So what did we decide about the budget?";
