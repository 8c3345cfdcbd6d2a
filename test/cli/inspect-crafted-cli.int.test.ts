/**
 * `tandem inspect` on crafted GGUF headers: each used to end in V8's "invalid size" abort or a minutes-long hang of
 * node-llama-cpp's reader; now the CLI exits 1 at once with one line (local files and http URLs alike).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../electron/host/downloads/test-server.js";
import { CRAFTED } from "../engine/gguf/crafted.js";

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-inspect-crafted-"));
let server: TestServer;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  try {
    // The 10 s timeout is a safety net: a hang must fail the test, not stall it.
    const { stdout, stderr } = await run(process.execPath, [repoPath("dist/cli.js"), ...args], { timeout: 10_000, env: { ...process.env, HF_TOKEN: "" } });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string; signal?: string };
    return { code: e.code ?? -1, stdout: e.stdout, stderr: `${e.stderr}${e.signal ? ` (killed: ${e.signal})` : ""}`, ms: performance.now() - started };
  }
}

beforeAll(async () => {
  await run(process.execPath, [repoPath("build.mjs"), "--quiet"], { cwd: repoPath(), timeout: 120_000 });
  server = await startTestServer(Object.fromEntries(CRAFTED.map(([name, make]) => [`/${name}`, make()])));
}, 150_000);
afterAll(async () => {
  await server?.close();
});

describe("tandem inspect on crafted headers", () => {
  it.each(CRAFTED)("exits 1 within a second with one line for %s", async (name, make) => {
    const file = path.join(dir, name);
    writeFileSync(file, make());
    const { code, stdout, stderr, ms } = await cli(["inspect", file]);
    expect([code, stderr]).toEqual([1, expect.stringMatching(new RegExp(`^tandem: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not a valid GGUF model: its header declares [^\\n]+\\n$`))]);
    expect(stdout).toBe("");
    // Node's and the CLI's start-up are nearly all of it (~0.4 s here): the guard takes well under a millisecond.
    expect(ms).toBeLessThan(1_000);
    console.info(`tandem inspect ${name}: exit ${code} in ${ms.toFixed(0)} ms`);
  });

  it("names the 149-byte file's impossible array exactly", async () => {
    const file = path.join(dir, "x.gguf");
    writeFileSync(file, CRAFTED[0][1]());
    const { code, stderr } = await cli(["inspect", file]);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`tandem: ${file} is not a valid GGUF model: its header declares 2305843009213693952 array elements at byte 41, more than the 100 bytes that follow`);
  });

  it.each(CRAFTED)("exits 1 with one line for %s over http", async (name) => {
    const { code, stdout, stderr } = await cli(["inspect", server.url(`/${name}`)]);
    expect([code, stderr]).toEqual([1, expect.stringMatching(new RegExp(`^tandem: ${name.replace(/\./g, "\\.")} is not a valid GGUF model: [^\\n]+\\n$`))]);
    expect(stdout).toBe("");
  });
});
