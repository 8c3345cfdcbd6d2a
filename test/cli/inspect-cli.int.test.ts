import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { repoPath, sharedModel } from "../helpers/models.js";

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [repoPath("dist/cli.js"), ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("tandem inspect", () => {
  beforeAll(async () => {
    await run(process.execPath, [repoPath("build.mjs"), "--quiet"], { cwd: repoPath(), timeout: 120_000 });
  });

  it("prints the shared model's facts as one JSON object", async () => {
    const { code, stdout } = await cli(["inspect", sharedModel("kjv-chat-6m.gguf"), "--json"]);
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    const facts = JSON.parse(stdout) as Record<string, unknown>;
    expect(facts).toMatchObject({ architecture: "llama", quantization: "F32", contextLength: 256, tokenizer: "llama", vocabSize: 2048, hasChatTemplate: true, chatWrapper: "ChatML" });
    expect(facts.parameters).toBe(5_795_072);
  });

  it("prints readable facts without --json", async () => {
    const { code, stdout } = await cli(["inspect", sharedModel("kjv-chat-draft-1m.gguf")]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Architecture\s+llama/);
    expect(stdout).toMatch(/Parameters\s+920\.2K/);
    expect(stdout).toMatch(/Chat template\s+yes \(ChatML\)/);
  });

  it("exits 1 with one line for a file that is not GGUF", async () => {
    const text = path.join(mkdtempSync(path.join(os.tmpdir(), "tandem-inspect-cli-")), "notes.txt");
    writeFileSync(text, "not a model\n");
    const { code, stdout, stderr } = await cli(["inspect", text]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/notes\.txt is not a GGUF model/);
  });

  it("exits 2 without a path", async () => {
    expect((await cli(["inspect"])).code).toBe(2);
  });
});
