/**
 * The peer bench's readers of llama.cpp's output, on output recorded from the real tools (fixtures/: the shared
 * KJV pair, llama.cpp 80fb11ac), and its arithmetic: configurations, the greedy text check, the honest bound.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseLlamaBenchJson, parseSpeculativeSimple } from "../../../../../engine/dev/bench/peer/llama-cpp-run.js";
import { bundleRevision, PeerToolsError } from "../../../../../engine/dev/bench/peer/llama-cpp-tools.js";
import { honestBound, peerConfigs, sameGreedyText } from "../../../../../engine/dev/bench/peer/peer-bench.js";
import type { GenerationResult } from "../../../../../contracts/engine/protocol.js";

const fixture = (name: string) => readFileSync(path.join(__dirname, "fixtures", name), "utf8");

describe("llama-speculative-simple output", () => {
  const prompt = fixture("draft-simple.prompt");

  it("gives the speed, the draft counters, the prompt tokens and the generated text", () => {
    const run = parseSpeculativeSimple(fixture("draft-simple.stdout"), fixture("draft-simple.stderr"), prompt);
    expect(run.promptTokens).toBe(28);
    expect(run.decodedTokens).toBeGreaterThan(0);
    expect(run.tokensPerSecond).toBeCloseTo(run.decodedTokens / run.decodeSeconds, -1);
    expect(run.draftMax).toBe(3);
    expect(run.accepted).toBeLessThanOrEqual(run.drafted);
    expect(run.drafted).toBeGreaterThan(0);
    // The echoed prompt is stripped: the text is the reply alone, without the tool's closing blank lines.
    expect(run.text).not.toBeNull();
    expect(run.text!.startsWith("And ")).toBe(true);
    expect(run.text!.endsWith("\n\n")).toBe(false);
    expect(run.text).not.toContain("<|im_start|>");
  });

  it("refuses a summary cut short (llama.cpp's log thread can lose its last lines at exit)", () => {
    const stderr = fixture("draft-simple.stderr");
    const cut = stderr.slice(0, stderr.indexOf("n_drafted"));
    expect(() => parseSpeculativeSimple(fixture("draft-simple.stdout"), cut, prompt)).toThrow(/no n_drafted/);
    expect(() => parseSpeculativeSimple("", "", prompt)).toThrow(/no speed summary/);
  });

  it("gives no text when the echoed prompt is not the one sent (so it is never compared)", () => {
    const run = parseSpeculativeSimple(fixture("draft-simple.stdout"), fixture("draft-simple.stderr"), "another prompt");
    expect(run.text).toBeNull();
  });
});

describe("llama-bench JSON", () => {
  it("gives each test's sizes, depth, threads and mean time", () => {
    const rows = parseLlamaBenchJson(fixture("llama-bench.json"));
    expect(rows.map((r) => [r.nPrompt, r.nGen, r.nDepth, r.threads])).toEqual([
      [1, 0, 27, 1],
      [2, 0, 27, 1],
      [0, 16, 27, 1],
    ]);
    for (const row of rows) {
      expect(row.avgMs).toBeGreaterThan(0);
      // avg_ts is the mean of the repetitions' rates, so only close to tokens over the mean time.
      expect(row.tokensPerSecond / (((row.nPrompt + row.nGen) * 1000) / row.avgMs)).toBeCloseTo(1, 1);
    }
    expect(() => parseLlamaBenchJson("error: no model")).toThrow(/no JSON/);
  });
});

describe("the peer bench's arithmetic", () => {
  it("runs draft-simple at every n-max only with a draft model, the n-gram types once each", () => {
    expect(peerConfigs(["draft-simple", "ngram-mod"], [3, 5, 8], true).map((c) => c.name)).toEqual(["draft-simple k=3", "draft-simple k=5", "draft-simple k=8", "ngram-mod"]);
    expect(peerConfigs(["draft-simple", "ngram-mod"], [3, 5, 8], false).map((c) => c.name)).toEqual(["ngram-mod"]);
  });

  it("treats greedy replies of different lengths as the same when one is a prefix of the other", () => {
    expect(sameGreedyText("And God said", "And God said, Let there be light")).toBe(true);
    expect(sameGreedyText("And God said, Let there be light", "And God said")).toBe(true);
    expect(sameGreedyText("And God said", "And Moses said")).toBe(false);
  });

  it("prices Tandem's own steps at native costs and splits Tandem's time per token", () => {
    // One reply: 65 tokens in 20 verify steps of 3 drafts (batch 4) and 4 plain decodes after the first token.
    const result = {
      stats: {
        tokens: 65,
        targetDecodes: 25,
        speculation: { proposed: 60, accepted: 40, verifySteps: 20, draftMs: 30, verifyMs: 90, stepsBySpeculator: { draft: 20 } },
      },
    } as unknown as GenerationResult;
    const bound = honestBound([{ tokens: 65, decodeMs: 160, text: "", result }], {
      targetDecodeMs: 2,
      verifyMs: new Map([
        [1, 2],
        [3, 2.5],
        [5, 3.5],
      ]),
      draftTokenMs: 0.25,
    });
    // Native: 20 steps x cost(4) = 20 x 3 ms, 4 plain decodes x 2 ms, 60 drafts x 0.25 ms = 60 + 8 + 15 = 83 ms for 64 tokens.
    expect(bound.native.total).toBeCloseTo(83 / 64, 4);
    expect(bound.tokensPerSecond).toBeCloseTo((64 * 1000) / 83, 3);
    expect(bound.native.draft).toBeCloseTo(15 / 64, 4);
    // Tandem: 30 ms drafting, 90 ms verifying, the other 40 ms of its 160 ms elsewhere.
    expect(bound.tandem).toEqual({ draft: 0.4688, verify: 1.4063, other: 0.625, total: 2.5 });
  });
});

describe("the tools' build", () => {
  it("reads the bundle's revision from its header, and says so when the file is not a bundle", () => {
    expect(bundleRevision()).toMatch(/^[0-9a-f]{40}$/);
    expect(() => bundleRevision(__filename)).toThrow(PeerToolsError);
    expect(() => bundleRevision("/nonexistent/gitRelease.bundle")).toThrow(/run npm ci/);
  });
});
