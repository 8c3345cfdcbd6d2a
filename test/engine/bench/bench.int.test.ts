import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoPath, sharedModel, targetModel } from "../../helpers/models.js";

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-bench-"));
const prompts = path.join(dir, "prompts.txt");
writeFileSync(prompts, "# a comment line is skipped\nThe LORD is my shepherd; I shall not want.\n\nBlessed are the meek: for they shall inherit the earth.\n");

describe("tandem bench", () => {
  it("prints one JSON object whose figures reconcile", async () => {
    const { stdout } = await run(
      process.execPath,
      [repoPath("dist/cli.js"), "bench", "--model", targetModel(), "--draft", sharedModel("kjv-chat-draft-1m.gguf"), "--spec", "draft", "--prompts", prompts, "--max-tokens", "24", "--threads", "1", "--json"],
      { env: { ...process.env, TANDEM_DATA_DIR: dir }, timeout: 120_000 },
    );
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(report).toMatchObject({ model: "kjv-chat-6m.gguf", draft: "kjv-chat-draft-1m.gguf", mode: "draft", prompts: 2, identicalOutputs: true });
    expect(report.machine.threads).toBe(1);
    const s = report.speculative;
    expect(s.proposed).toBe(s.accepted + s.rejected);
    expect(s.proposed).toBeGreaterThan(0);
    expect(s.acceptanceRate).toBeCloseTo(s.accepted / s.proposed, 2);
    expect(report.baseline.tokens).toBe(s.tokens); // identical outputs: the same number of tokens
    expect(report.speedup).toBeCloseTo(s.tokensPerSecond / report.baseline.tokensPerSecond, 1);
    const t = report.theoretical;
    for (const key of ["alpha", "gamma", "draftCostRatio", "verifyCostRatio", "expectedSpeedup"]) expect(t[key], key).toBeGreaterThan(0);
    const e = (1 - t.alpha ** (t.gamma + 1)) / (1 - t.alpha);
    const share = t.speculativeStepShare;
    expect(t.expectedSpeedup).toBeCloseTo((share * e + (1 - share)) / (share * (t.gamma * t.draftCostRatio + t.verifyCostRatio) + (1 - share)), 2);
  });

  it("rejects bad options with a one-line reason", async () => {
    const failure = await run(process.execPath, [repoPath("dist/cli.js"), "bench", "--model", targetModel(), "--spec", "warp", "--prompts", prompts]).catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr.trim()).toMatch(/^tandem: bench needs --spec/);
  });
});
