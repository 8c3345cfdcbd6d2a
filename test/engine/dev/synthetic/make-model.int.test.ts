/**
 * Tiny synthetic pairs through the whole path: generate, load in llama.cpp, chat, share the tokenizer, and agree
 * at the requested rate as measured (by make-model, and again here on prompts it never saw).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  ChatMLChatWrapper,
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  readGgufFileInfo,
  resolveChatWrapper,
  type Llama,
  type Token,
} from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureAgreement } from "../../../../engine/dev/synthetic/agreement.js";
import { makeModelPair, type MakeModelOptions, type MakeModelResult } from "../../../../engine/dev/synthetic/make-model.js";
import { repoPath } from "../../../helpers/models.js";

const outDir = mkdtempSync(path.join(os.tmpdir(), "tandem-synthetic-"));
const tiny = (agreement: number, dir = outDir): MakeModelOptions => ({
  params: "3m",
  draftParams: "600k",
  agreement,
  context: 256,
  quant: "q8_0",
  vocab: 4096,
  outDir: dir,
  threads: 1,
});
const OTHER_PROMPTS = ["Say something about the weather.", "Where does the road lead?", "List a few things in the kitchen.", "How old is the moon?"];

let llama: Llama;
const pairs = new Map<number, MakeModelResult>();

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  for (const agreement of [0.9, 0.5]) pairs.set(agreement, await makeModelPair({ ...tiny(agreement), llama }));
});

afterAll(async () => {
  await llama?.dispose();
});

/** Smallest period p <= max such that the sequence repeats with period p, or 0. */
function period(tokens: readonly Token[], max: number): number {
  for (let p = 1; p <= max; p++) if (tokens.slice(p).every((t, i) => t === tokens[i])) return p;
  return 0;
}

describe("synthetic model pair", () => {
  it.each([0.9, 0.5])("measures agreement near %s, and again on unseen prompts", async (requested) => {
    const pair = pairs.get(requested)!;
    expect(pair.reused).toBe(false);
    expect(pair.positions).toBeGreaterThanOrEqual(256);
    expect(Math.abs(pair.measuredAgreement - requested)).toBeLessThanOrEqual(0.05);
    const again = await measureAgreement({ targetPath: pair.target, draftPath: pair.draft, threads: 1, prompts: OTHER_PROMPTS, tokensPerPrompt: 64, llama });
    expect(Math.abs(again.agreement - requested)).toBeLessThanOrEqual(0.08);
    // The target's text is not a short loop: attention makes where it leaves the shared chain depend on context.
    for (const continuation of again.continuations) expect(period(continuation, 32)).toBe(0);
  });

  it("writes llama GGUFs with the requested shape, context and one shared tokenizer", async () => {
    const pair = pairs.get(0.9)!;
    const [target, draft] = await Promise.all([readGgufFileInfo(pair.target), readGgufFileInfo(pair.draft)]);
    for (const [info, shape] of [[target, pair.targetInfo.shape], [draft, pair.draftInfo.shape]] as const) {
      expect(info.metadata.general.architecture).toBe("llama");
      const llamaMd = info.metadata as unknown as { llama: Record<string, unknown> };
      expect(llamaMd.llama.context_length).toBe(256);
      expect(llamaMd.llama.embedding_length).toBe(shape.dim);
      expect(llamaMd.llama.block_count).toBe(shape.layers);
    }
    expect(draft.metadata.tokenizer).toEqual(target.metadata.tokenizer);
    expect(pair.targetInfo.shape.dim).toBeGreaterThan(pair.draftInfo.shape.dim);
  });

  it("loads in llama.cpp, tokenizes and detokenizes text, resolves ChatML and chats", async () => {
    const pair = pairs.get(0.9)!;
    const target = await llama.loadModel({ modelPath: pair.target, gpuLayers: 0 });
    const draft = await llama.loadModel({ modelPath: pair.draft, gpuLayers: 0 });
    try {
      const text = "The river runs under the old stone bridge.\nHello, world! 123 ünïcödé";
      const tokens = target.tokenize(text);
      expect(target.detokenize(tokens)).toBe(text);
      expect(draft.tokenize(text)).toEqual(tokens);
      expect(tokens.length).toBeLessThan(text.length); // word pieces merge, not just characters
      expect(target.tokenize("<|im_start|>", true)).toEqual([3]);
      expect(target.tokens.eos).toBe(4);
      expect(resolveChatWrapper(target)).toBeInstanceOf(ChatMLChatWrapper);

      const context = await target.createContext({ contextSize: 256, threads: 1 });
      try {
        const session = new LlamaChatSession({ contextSequence: context.getSequence() });
        const reply = await session.prompt("Tell me about the garden.", { maxTokens: 40, temperature: 0 });
        expect(target.tokenize(reply).length).toBeGreaterThanOrEqual(30); // no early end-of-turn
        expect(reply.trim().split(/\s+/).length).toBeGreaterThan(5);
      } finally {
        await context.dispose();
      }
    } finally {
      await draft.dispose();
      await target.dispose();
    }
  });

  it("writes F16 pairs llama.cpp runs too", async () => {
    const pair = await makeModelPair({ ...tiny(0.9), quant: "f16", llama });
    expect(Math.abs(pair.measuredAgreement - 0.9)).toBeLessThanOrEqual(0.05);
    const info = await readGgufFileInfo(pair.target, { readTensorInfo: true });
    const types = new Map(info.tensorInfo!.map((t) => [t.name, t.ggmlType]));
    expect(types.get("token_embd.weight")).toBe(1);
    expect(types.get("blk.0.ffn_down.weight")).toBe(1);
    expect(types.get("output_norm.weight")).toBe(0);
    expect(pair.targetInfo.bytes).toBeGreaterThan(pairs.get(0.9)!.targetInfo.bytes * 1.8); // 2 bytes vs ~1.06 a weight
  });

  it("reuses a cached pair, and regenerates the same bytes from the same seed", async () => {
    const first = pairs.get(0.9)!;
    const started = performance.now();
    const reused = await makeModelPair({ ...tiny(0.9), llama });
    expect(reused.reused).toBe(true);
    expect(reused.measuredAgreement).toBe(first.measuredAgreement);
    expect(performance.now() - started).toBeLessThan(1000);

    const fresh = await makeModelPair({ ...tiny(0.9, mkdtempSync(path.join(os.tmpdir(), "tandem-synthetic-"))), llama });
    const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
    expect(sha(fresh.target)).toBe(sha(first.target));
    expect(sha(fresh.draft)).toBe(sha(first.draft));
    expect(fresh.measuredAgreement).toBe(first.measuredAgreement);
  });
});

describe("tandem make-model", () => {
  const run = promisify(execFile);
  const cli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [repoPath("dist/cli.js"), "make-model", ...args], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("prints one JSON object for a pair it reuses", async () => {
    const { code, stdout } = await cli(["--params", "3m", "--draft-params", "600k", "--agreement", "0.5", "--context", "256", "--vocab", "4096", "--out", outDir, "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ target: pairs.get(0.5)!.target, draft: pairs.get(0.5)!.draft, reused: true });
    expect(result.measuredAgreement).toBe(pairs.get(0.5)!.measuredAgreement);
  });

  it.each([
    [["--params", "3m", "--draft-params", "600k", "--agreement", "1.2", "--context", "256", "--out", outDir], /agreement/],
    [["--params", "huge", "--draft-params", "600k", "--agreement", "0.5", "--context", "256", "--out", outDir], /params/],
    [["--params", "3m", "--draft-params", "600k", "--agreement", "0.5", "--context", "256", "--out", outDir, "--quant", "q4_0"], /quant/],
    [["--params", "3m", "--agreement", "0.5", "--context", "256", "--out", outDir], /draft-params/],
    [["--params", "3m", "--draft-params", "600k", "--agreement", "0.5", "--context", "256", "--out", outDir, "--colour"], /Unknown option/],
  ])("rejects bad options with exit 2 and one line (%j)", async (args, reason) => {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(reason);
  });
});
