/**
 * `tandem inspect` of a remote GGUF (an http URL, an hf: reference against a local fake Hub): the same facts as the
 * local file, from ranged reads of the header only — the server counts the bytes it sends.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { repoPath, sharedModel } from "../../helpers/models.js";
import { startTestServer, type TestServer } from "../../electron/host/downloads/test-server.js";

const run = promisify(execFile);
const modelPath = sharedModel("kjv-chat-6m.gguf");
const model = readFileSync(modelPath);

let server: TestServer;

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [repoPath("dist/cli.js"), ...args], { timeout: 60_000, env: { ...process.env, HF_TOKEN: "", ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const served = () => server.requests.reduce((n, r) => n + r.sentBytes, 0);
const withoutLocation = (facts: Record<string, unknown>) => ({ ...facts, path: undefined, name: undefined });

beforeAll(async () => {
  await run(process.execPath, [repoPath("build.mjs"), "--quiet"], { cwd: repoPath(), timeout: 120_000 });
  const parts = [model.subarray(0, 12_000_000), model.subarray(12_000_000)];
  server = await startTestServer({
    "/kjv.gguf": model,
    "/short.gguf": model.subarray(0, 20_000),
    "/notes.gguf": Buffer.from("just some text, not a model\n"),
    "/test/kjv-GGUF/resolve/main/kjv-chat-6m-F32.gguf": model,
    "/split/kjv-00001-of-00002.gguf": parts[0],
    "/split/kjv-00002-of-00002.gguf": parts[1],
  });
  server.json.set("/api/models/test/kjv-GGUF/tree/main", [
    { type: "file", path: "README.md", size: 100 },
    { type: "file", path: "kjv-chat-6m-F32.gguf", size: model.length, lfs: { oid: createHash("sha256").update(model).digest("hex"), size: model.length } },
  ]);
}, 150_000);
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

describe("tandem inspect (remote)", () => {
  it("reads an http URL's header with ranged requests: the local file's facts, a fraction of its bytes", async () => {
    const local = await cli(["inspect", modelPath, "--json"]);
    expect(local.code).toBe(0);
    const remote = await cli(["inspect", server.url("/kjv.gguf"), "--json"]);
    expect(remote.stderr).toBe("");
    expect(remote.code).toBe(0);
    const facts = JSON.parse(remote.stdout) as Record<string, unknown>;
    expect(facts).toMatchObject({ path: server.url("/kjv.gguf"), name: "kjv.gguf", sizeBytes: model.length });
    expect(withoutLocation(facts)).toEqual(withoutLocation(JSON.parse(local.stdout) as Record<string, unknown>));
    expect(server.requests.every((r) => r.status === 206 && /^bytes=\d+-\d+$/.test(r.range ?? ""))).toBe(true);
    // The header is a few KB; node-llama-cpp reads ahead in 4 MB chunks, still far less than the 23 MB file.
    expect(served()).toBeLessThan(model.length / 4);
    console.info(`remote inspect: ${served()} of ${model.length} bytes served in ${server.requests.length} requests`);
  });

  it("resolves hf:user/repo:QUANT and hf:user/repo/file.gguf through the (local) Hub, sending $HF_TOKEN", async () => {
    const env = { HF_ENDPOINT: `http://127.0.0.1:${server.port}`, HF_TOKEN: "hf_test" };
    const byQuant = await cli(["inspect", "hf:test/kjv-GGUF:F32", "--json"], env);
    expect(byQuant.stderr).toBe("");
    expect(byQuant.code).toBe(0);
    expect(JSON.parse(byQuant.stdout)).toMatchObject({ name: "kjv-chat-6m-F32.gguf", parameters: 5_795_072, quantization: "F32", sizeBytes: model.length });
    const fileRequests = server.requests.filter((r) => r.path.includes("/resolve/"));
    expect(fileRequests.length).toBeGreaterThan(0);
    expect(fileRequests.every((r) => r.authorization === "Bearer hf_test")).toBe(true);
    expect(served()).toBeLessThan(model.length / 4);

    const byFile = await cli(["inspect", "hf:test/kjv-GGUF/kjv-chat-6m-F32.gguf"], env);
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toMatch(/Parameters\s+5\.8M/);
    expect(byFile.stdout).toMatch(/Chat template\s+yes \(ChatML\)/);
  });

  it("reports a remote split set's parts from the name without downloading the other parts", async () => {
    const { code, stdout } = await cli(["inspect", server.url("/split/kjv-00001-of-00002.gguf"), "--json"]);
    expect(code).toBe(0);
    const facts = JSON.parse(stdout) as { split: unknown; sizeBytes: number; architecture: string };
    expect(facts.architecture).toBe("llama");
    expect(facts.split).toEqual({ parts: 2, partFiles: ["kjv-00001-of-00002.gguf", "kjv-00002-of-00002.gguf"], missingParts: [] });
    expect(facts.sizeBytes).toBe(model.length);
    // Part 2 (plain bytes here, not a GGUF of its own) is only probed: 8 bytes for its signature and size.
    const second = server.requests.filter((r) => r.path.endsWith("00002-of-00002.gguf"));
    expect(second.map((r) => r.sentBytes)).toEqual([8]);
  });

  it("exits 1 with one line for a 404, a file that is not GGUF, a truncated file and an unknown hf: repo", async () => {
    const cases: [string, RegExp, NodeJS.ProcessEnv?][] = [
      [server.url("/missing.gguf"), /^tandem: missing\.gguf: not found \(HTTP 404 from 127\.0\.0\.1:\d+\)$/],
      [server.url("/notes.gguf"), /^tandem: notes\.gguf is not a GGUF model \(it does not start with the "GGUF" signature\)$/],
      [server.url("/short.gguf"), /^tandem: short\.gguf is (not a whole GGUF model: its header is cut short|truncated: .*)$/],
      ["hf:nobody/nothing:Q4_K_M", /^tandem: not found: repository nobody\/nothing/, { HF_ENDPOINT: `http://127.0.0.1:${server.port}` }],
    ];
    for (const [source, message, env] of cases) {
      const { code, stdout, stderr } = await cli(["inspect", source], env);
      expect([source, code]).toEqual([source, 1]);
      expect(stdout).toBe("");
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr.trim()).toMatch(message);
    }
    const usage = await cli(["inspect", "hf:only-a-name"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim()).toMatch(/^tandem: expected hf:user\/repo\/file\.gguf or hf:user\/repo:QUANT/);
  });
});
