/**
 * The peer bench with llama.cpp's real tools on the shared KJV pair, whenever the tools are in the cache
 * (`.ci/run` builds them; `tandem bench --peer llama.cpp --build-only` does it by hand). Asserts what must hold
 * whatever the speeds: both sides read the same prompt tokens, greedy llama.cpp writes Tandem's text, Tandem's
 * speculation is identical to its plain decoding, and every figure of the report is measured.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { findLlamaCppTools } from "../../../../../engine/dev/bench/peer/llama-cpp-tools.js";
import { runPeerBench } from "../../../../../engine/dev/bench/peer/peer-bench.js";
import { repoPath, sharedModel, targetModel } from "../../../../helpers/models.js";

const tools = await findLlamaCppTools();
if (!tools) console.warn("peer bench integration skipped: llama.cpp's tools are not built (run `npm run -s tandem -- bench --peer llama.cpp --build-only`)");

const prompts = ["The LORD is my shepherd; I shall not want.", "In the beginning God created the heaven and the earth."];

describe.skipIf(!tools)("tandem bench --peer llama.cpp (real llama.cpp tools, KJV pair)", () => {
  it("compares draft speculation with llama.cpp's draft-simple and its n-gram speculator on the same prompt tokens", async () => {
    const report = await runPeerBench({
      model: targetModel(),
      draft: sharedModel("kjv-chat-draft-1m.gguf"),
      prompts,
      maxTokens: 24,
      threads: 1,
      contextSize: 256,
      modes: ["draft"],
      maxDraftTokens: 8,
      peerTypes: ["draft-simple", "ngram-mod"],
      draftNMax: [3, 5],
      tools: tools!,
      cacheDir: mkdtempSync(path.join(os.tmpdir(), "tandem-peer-test-")),
    });
    expect(report.promptTokensMatch).toBe(true);
    expect(report.promptTokens.every((n) => n > 10)).toBe(true);
    expect(report.peers.map((p) => p.name)).toEqual(["draft-simple k=3", "draft-simple k=5", "ngram-mod"]);
    for (const peer of report.peers) {
      expect(peer.tokensPerSecond, peer.name).toBeGreaterThan(0);
      expect(peer.comparedText, peer.name).toBe(prompts.length);
      expect(peer.sameText, `${peer.name}: greedy llama.cpp writes Tandem's text`).toBe(prompts.length);
    }
    expect(report.bestPeer!.tokensPerSecond).toBe(Math.max(...report.peers.map((p) => p.tokensPerSecond)));
    expect(report.plain.tandem).toBeGreaterThan(0);
    expect(report.plain.llamaBench).toBeGreaterThan(0);
    expect(Object.keys(report.nativeCosts.verifyMs)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(report.nativeCosts.draftTokenMs).toBeGreaterThan(0);
    const [draft] = report.modes;
    expect(draft!.identicalToPlain).toBe(true);
    expect(draft!.acceptanceRate).toBeGreaterThan(0);
    expect(draft!.vsBestLlamaCpp).toBeCloseTo(draft!.tokensPerSecond / report.bestPeer!.tokensPerSecond, 2);
    // The bound prices the same steps natively: its time per token is the sum of its parts, Tandem's split adds up.
    const { tandem, native } = draft!.bound;
    expect(native.total).toBeCloseTo(native.draft + native.verify, 3);
    expect(tandem.total).toBeGreaterThanOrEqual(tandem.draft + tandem.verify - 0.05);
    expect(draft!.bound.tokensPerSecond).toBeGreaterThan(0);
    expect(draft!.bound.efficiency).toBeCloseTo(draft!.tokensPerSecond / draft!.bound.tokensPerSecond, 2);
  });

  it("tandem bench --peer prints the comparison, and refuses a draft speculator without a draft model", async () => {
    const run = promisify(execFile);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "tandem-peer-cli-")), "prompts.txt");
    writeFileSync(file, `${prompts[0]}\n`);
    const args = [repoPath("dist/cli.js"), "bench", "--peer", "llama.cpp", "--model", targetModel(), "--prompts", file, "--threads", "1", "--context-size", "256", "--max-tokens", "16"];
    const { stdout } = await run(process.execPath, [...args, "--modes", "lookup", "--peer-types", "ngram-simple,ngram-cache"], { timeout: 120_000 });
    expect(stdout).toMatch(/prompt tokens: same on both sides: yes/);
    expect(stdout).toMatch(/llama\.cpp ngram-simple: [\d.]+ tok\/s/);
    expect(stdout).toMatch(/Tandem lookup: [\d.]+ tok\/s .* vs best llama\.cpp \(ngram-(simple|cache)\)/);
    const refused = await run(process.execPath, [...args, "--peer-types", "draft-simple"]).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringMatching(/draft-simple needs --draft/) });
  });
});
