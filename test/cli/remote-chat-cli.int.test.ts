/**
 * `tandem chat --remote … --json` (dist/cli.js) against a real llama-server on the KJV pair with its draft: the
 * reply streamed, then the JSON line with the local chat's fields, the remote server, and the speculation equal to
 * the server's own /metrics counters for that reply; one-line errors with exit 1 for an unreachable server, an
 * unknown model and a wrong key; exit 2 for bad usage. Skipped (with a message) without the llama.cpp build.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLlamaCppTools } from "../../engine/dev/bench/peer/llama-cpp-tools.js";
import { parsePrometheus } from "../../electron/host/remote/prometheus.js";
import { specCounters } from "../../electron/host/remote/spec-stats.js";
import { runTandem } from "../helpers/cli.js";
import { MODEL_ID, startLlamaServer, type RealServer } from "../electron/host/remote/real-backends.js";

const tools = await findLlamaCppTools();
if (!tools) console.warn("tandem chat --remote integration skipped: llama.cpp's tools are not built (`npm run -s tandem -- bench --peer llama.cpp --build-only`; .ci/run builds them)");

const KEY = "k-cli-12345678";
const env = { ...process.env, TANDEM_REMOTE_API_KEY: "" };

describe.skipIf(!tools)("tandem chat --remote (real llama-server)", () => {
  let server: RealServer;
  beforeAll(async () => {
    server = await startLlamaServer(tools!, { apiKey: KEY });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const counters = async () => {
    const response = await fetch(`${server.baseUrl.replace(/\/v1$/, "")}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    return specCounters(parsePrometheus(await response.text()), "llamacpp");
  };

  it("streams the reply and prints the JSON line with the remote speculation", async () => {
    const before = await counters();
    const run = await runTandem(
      ["chat", "--remote", server.baseUrl.replace(/\/v1$/, "/"), "--api-key", KEY, "--model", MODEL_ID, "--temperature", "0", "--max-tokens", "40", "--json", "The LORD is my shepherd; I shall not want."],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    const json = JSON.parse(lines.at(-1)!);
    expect(lines.slice(0, -1).join("\n")).toBe(json.text);
    expect(json).toMatchObject({
      tokens: expect.any(Number),
      tokensPerSecond: expect.any(Number),
      timeToFirstTokenMs: expect.any(Number),
      stopReason: expect.stringMatching(/^(eog|max-tokens)$/),
      promptTokens: expect.any(Number),
      remote: { kind: "llama-server", model: MODEL_ID, baseUrl: server.baseUrl, version: expect.stringMatching(/^b\d+-/) },
      speculation: { source: "llama-server timings", approximate: false, drafted: expect.any(Number), accepted: expect.any(Number) },
    });
    expect(json.tokens).toBeGreaterThan(0);
    expect(json.text.length).toBeGreaterThan(10);
    const after = await counters();
    expect(json.speculation.drafted).toBe(after.draftTokens! - before.draftTokens!);
    expect(json.speculation.accepted).toBe(after.accepted! - before.accepted!);
    expect(json.speculation.acceptanceRate).toBeCloseTo(json.speculation.accepted / json.speculation.drafted, 10);
  });

  it("exits 1 with one line for a wrong key, an unknown model, an unreachable server", async () => {
    const base = ["chat", "--remote", server.baseUrl, "--model", MODEL_ID, "Hello"];
    const wrongKey = await runTandem([...base, "--api-key", "nope"], env);
    expect(wrongKey).toMatchObject({ code: 1, stdout: "" });
    expect(wrongKey.stderr).toMatch(/^tandem: The server at http:\/\/127\.0\.0\.1:\d+ refused the API key \(HTTP 401\)/);
    expect(wrongKey.stderr.trim().split("\n")).toHaveLength(1);

    const unknown = await runTandem(["chat", "--remote", server.baseUrl, "--api-key", KEY, "--model", "no-such-model", "Hello"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^tandem: .*has no model "no-such-model" \(it offers: kjv-chat-6m\.gguf\)\n$/);

    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const unreachable = await runTandem(["chat", "--remote", `http://127.0.0.1:${closedPort}/v1`, "--model", "m", "--max-retries", "0", "Hello"], env);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^tandem: Cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(unreachable.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("refuses bad usage with exit 2, and --help documents --remote", async () => {
    expect((await runTandem(["chat", "--remote", server.baseUrl, "Hello"], env)).code).toBe(2);
    expect((await runTandem(["chat", "--remote", "not a url", "--model", "m", "Hello"], env)).code).toBe(2);
    expect((await runTandem(["chat", "--remote", server.baseUrl, "--model", "m", "--kind", "tgi", "Hello"], env)).code).toBe(2);
    const help = await runTandem(["chat", "--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/chat --remote <base-url> --model <id>/);
    expect(help.stdout).toMatch(/--api-key/);
  });
});
