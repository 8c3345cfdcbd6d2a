import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath, sharedModel } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../electron/host/downloads/test-server.js";

const run = promisify(execFile);
const model = readFileSync(sharedModel("kjv-chat-draft-1m.gguf"));
const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, "..", "electron", "host", "downloads", "fixtures", "hf-tree.json"), "utf8")) as unknown;

let server: TestServer;
let dir: string;

async function tandem(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [repoPath("dist/cli.js"), ...args], {
      env: { ...process.env, TANDEM_DATA_DIR: dir, HF_TOKEN: "", ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await run(process.execPath, [repoPath("build.mjs"), "--quiet"], { cwd: repoPath(), timeout: 60_000 });
  server = await startTestServer({ "/kjv-chat-draft-1m.gguf": model, "/test/kjv-GGUF/resolve/main/kjv-chat-draft-1m-Q8_0.gguf": model });
  server.json.set("/api/models/test/kjv-GGUF/tree/main", fixture);
  dir = mkdtempSync(path.join(os.tmpdir(), "tandem-pull-"));
}, 90_000);
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("tandem pull", () => {
  it("resumes after the server drops the connection midway and exits 0 with an identical file", async () => {
    server.faults.set("/kjv-chat-draft-1m.gguf", [{ kind: "drop", afterBytes: 1_500_000 }]);
    server.requests.length = 0;
    const out = path.join(dir, "out");
    const { code, stdout, stderr } = await tandem(["pull", server.url("/kjv-chat-draft-1m.gguf"), "--dir", out]);
    expect(stderr).toMatch(/retrying/);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(path.join(out, "kjv-chat-draft-1m.gguf"));
    expect(readFileSync(path.join(out, "kjv-chat-draft-1m.gguf")).equals(model)).toBe(true);
    expect(readdirSync(out)).toEqual(["kjv-chat-draft-1m.gguf"]);
    expect(server.requests).toHaveLength(2);
    const resumeAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1].range ?? "")?.[1]);
    expect(resumeAt).toBeGreaterThan(0);
    expect(resumeAt).toBeLessThanOrEqual(1_500_000);
    expect(server.requests[1].sentBytes).toBe(model.length - resumeAt);
  });

  it("pulls an hf: quant into the data dir's models folder, verified", async () => {
    const { code, stderr } = await tandem(["pull", "hf:test/kjv-GGUF:Q8_0"], { HF_ENDPOINT: `http://127.0.0.1:${server.port}` });
    expect(code).toBe(0);
    expect(stderr).toMatch(/\(verified\)/);
    expect(readFileSync(path.join(dir, "models", "kjv-chat-draft-1m-Q8_0.gguf")).equals(model)).toBe(true);
  });

  it("keeps the partial file on Ctrl-C and resumes it on the next run", async () => {
    server.faults.set("/kjv-chat-draft-1m.gguf", [{ kind: "stall", afterBytes: 1_000_000 }]);
    server.requests.length = 0;
    const out = path.join(dir, "interrupted");
    const child = spawn(process.execPath, [repoPath("dist/cli.js"), "pull", server.url("/kjv-chat-draft-1m.gguf"), "--dir", out], {
      env: { ...process.env, TANDEM_DATA_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("downloading")) setTimeout(() => child.kill("SIGINT"), 300);
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted; the partial download is kept .*run the same command again to resume/);
    expect(readdirSync(out).sort()).toEqual(["kjv-chat-draft-1m.gguf.part", "kjv-chat-draft-1m.gguf.part.json"]);

    const again = await tandem(["pull", server.url("/kjv-chat-draft-1m.gguf"), "--dir", out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resuming a partial download/);
    expect(server.requests.at(-1)?.range).toMatch(/^bytes=\d+-$/);
    expect(readFileSync(path.join(out, "kjv-chat-draft-1m.gguf")).equals(model)).toBe(true);
  });

  it("fails with a one-line reason and a non-zero exit", async () => {
    const { code, stderr } = await tandem(["pull", server.url("/nope.gguf"), "--dir", path.join(dir, "x")]);
    expect(code).toBe(1);
    expect(stderr.trim().split("\n").at(-1)).toMatch(/^tandem pull: not found: /);
    const usage = await tandem(["pull"]);
    expect(usage.code).toBe(2);
  });
});
