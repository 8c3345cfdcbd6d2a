/**
 * Real OpenAI-compatible servers for the remote engine's integration tests, both on the shared KJV pair with 1
 * thread each and a 256-token context:
 * - llama-server built from node-llama-cpp's bundled llama.cpp (engine/dev/bench/peer/llama-cpp-tools.ts finds the
 *   cached build; `.ci/run` builds it), started with the draft (`-md … --spec-type draft-simple`, `-t 1 -td 1`)
 *   and `--metrics`;
 * - Tandem's own API server, `tandem serve` from dist/cli.js with the draft (`--spec draft`).
 * Each runs in a process group of its own, so a test can SIGKILL it (and its engine child) mid-reply.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LlamaCppTools } from "../../../../engine/dev/bench/peer/llama-cpp-tools.js";
import { freePort } from "../../../../engine/dev/bench/peer/server-bench.js";
import { repoPath, sharedModel, targetModel, TEST_THREADS } from "../../../helpers/models.js";

export const MODEL_ID = "kjv-chat-6m.gguf";

export interface RealServer {
  name: "llama-server" | "tandem";
  /** …/v1 */
  baseUrl: string;
  child: ChildProcess;
  /** SIGKILL to the whole process group; resolves when the server process is gone. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}


function controls(child: ChildProcess): Pick<RealServer, "kill" | "stop"> {
  const gone = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    kill: async () => {
      signal("SIGKILL");
      await gone;
    },
    stop: async () => {
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export async function startLlamaServer(tools: LlamaCppTools, options: { apiKey?: string } = {}): Promise<RealServer> {
  const port = await freePort();
  const args = [
    "-m", targetModel(), "--alias", MODEL_ID,
    "-md", sharedModel("kjv-chat-draft-1m.gguf"), "--spec-type", "draft-simple",
    "-t", String(TEST_THREADS), "-td", String(TEST_THREADS), "-c", "256", "-np", "1",
    "--host", "127.0.0.1", "--port", String(port), "--metrics",
  ];
  if (options.apiKey) args.push("--api-key", options.apiKey);
  const child = spawn(tools.paths["llama-server"], args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const server: RealServer = { name: "llama-server", baseUrl: `http://127.0.0.1:${port}/v1`, child, ...controls(child) };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`llama-server exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`llama-server did not start within 60 s:\n${output}`);
    }
    // /health is public (no key) and answers 200 once the model is loaded.
    const health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    if (health?.ok) return server;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startTandemServe(options: { apiKey?: string } = {}): Promise<RealServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "tandem-remote-serve-")) };
  delete env.TANDEM_API_KEY;
  const args = [
    repoPath("dist/cli.js"), "serve", "--model", targetModel(), "--draft", sharedModel("kjv-chat-draft-1m.gguf"), "--spec", "draft",
    "--threads", String(TEST_THREADS), "--context-size", "256", "--port", "0",
  ];
  if (options.apiKey) args.push("--api-key", options.apiKey);
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const server = controls(child);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const match = /Tandem API server: (http:\/\/\S+\/v1)/.exec(stdout);
    if (match) return { name: "tandem", baseUrl: match[1]!, child, ...server };
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tandem serve exited before it was ready:\n${stderr}`);
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`tandem serve did not start within 90 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
