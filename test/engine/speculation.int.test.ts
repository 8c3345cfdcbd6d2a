import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../engine/engine.js";
import { makeModelPair } from "../../engine/dev/synthetic/make-model.js";
import type { GenerationResult, SpeculationMode, StreamedToken, VerifyStep } from "../../contracts/engine/protocol.js";
import { TEST_THREADS, repoPath, sharedModel, targetModel } from "../helpers/models.js";
import { engineParams } from "../../contracts/engine/protocol.js";

const prompts = readFileSync(repoPath("engine/bench/prompts/kjv-free-chat.txt"), "utf8").trim().split("\n");
const grounded = readFileSync(repoPath("engine/bench/prompts/kjv-input-grounded.txt"), "utf8").trim().split("\n");
const cacheDir = mkdtempSync(path.join(os.tmpdir(), "tandem-spec-"));
let engine: Engine;
let counter = 0;

beforeAll(async () => {
  engine = new Engine();
  await engine.init({ gpu: "cpu", cacheDir });
  await engine.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }), () => {});
  await engine.loadDraftModel({ modelPath: sharedModel("kjv-chat-draft-1m.gguf"), threads: TEST_THREADS });
});
afterAll(async () => {
  await engine?.dispose();
});

async function run(prompt: string, mode: SpeculationMode, maxTokens = 48, temperature = 0, seed?: number) {
  const tokens: StreamedToken[] = [];
  const steps: VerifyStep[] = [];
  const result: GenerationResult = await engine.generate(
    {
      messageId: `s${counter++}`,
      conversationId: "spec",
      messages: [{ role: "user", content: prompt }],
      maxTokens,
      sampling: { temperature, ...(seed !== undefined ? { seed } : {}) },
      speculation: { mode, maxDraftTokens: 6 },
    },
    (batch, step) => {
      tokens.push(...batch);
      steps.push(step);
    },
  );
  return { result, tokens, steps };
}

function checkInvariants({ result, tokens }: Awaited<ReturnType<typeof run>>) {
  const spec = result.stats.speculation!;
  expect(spec.proposed).toBe(spec.accepted + spec.rejected);
  expect(result.stats.tokens).toBe(spec.targetTokens + spec.accepted);
  expect(tokens.filter((t) => t.source === "draft")).toHaveLength(spec.accepted);
  // Each target decode emits its own token, except a final one that ended the reply (EOG), or whose tokens were
  // dropped because Stop arrived while it ran (an abort between decodes drops nothing).
  const unemitted = result.stats.targetDecodes - spec.targetTokens;
  if (result.stats.stopReason === "abort") expect([0, 1]).toContain(unemitted);
  else expect(unemitted).toBe(result.stats.stopReason === "eog" ? 1 : 0);
  expect(spec.acceptedHistogram.reduce((a, b) => a + b, 0)).toBe(spec.verifySteps);
}

describe("speculative decoding with the real KJV pair", () => {
  for (const mode of ["draft", "lookup", "ngram", "auto"] as const) {
    it(`${mode}: identical to plain decoding at temperature 0 on ${prompts.length + grounded.length} prompts, with consistent counters`, async () => {
      let proposed = 0;
      for (const prompt of [...prompts, ...grounded]) {
        const plain = await run(prompt, "off");
        const spec = await run(prompt, mode);
        expect(spec.result.text, prompt).toBe(plain.result.text);
        expect(spec.tokens.map((t) => t.id)).toEqual(plain.tokens.map((t) => t.id));
        checkInvariants(spec);
        proposed += spec.result.stats.speculation!.proposed;
      }
      if (mode === "draft") expect(proposed).toBeGreaterThan(0);
    });
  }

  it("at temperature > 0 with a seed, every speculator reproduces plain sampling token for token", async () => {
    // Each output position is drawn with a seed derived from (reply seed, position), in plain and speculative
    // decoding alike, so accepting a draft only when it equals the target's own draw changes nothing.
    let accepted = 0;
    for (const [i, prompt] of prompts.slice(0, 8).entries()) {
      const plain = await run(prompt, "off", 48, 0.8, 1000 + i);
      for (const mode of ["draft", "lookup", "ngram", "auto"] as const) {
        const spec = await run(prompt, mode, 48, 0.8, 1000 + i);
        expect(spec.tokens.map((t) => t.id), `${mode}: ${prompt}`).toEqual(plain.tokens.map((t) => t.id));
        checkInvariants(spec);
        accepted += spec.result.stats.speculation!.accepted;
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it("applies the repeat penalty per position, so speculation keeps parity with it on", async () => {
    for (const prompt of prompts.slice(0, 6)) {
      const options = { messageId: "", conversationId: "spec", messages: [{ role: "user" as const, content: prompt }], maxTokens: 48 };
      const plain = await engine.generate({ ...options, messageId: `rp${counter++}`, sampling: { temperature: 0, repeatPenalty: 1.3 }, speculation: { mode: "off", maxDraftTokens: 6 } }, () => {});
      const unpenalised = await engine.generate({ ...options, messageId: `rp${counter++}`, sampling: { temperature: 0 }, speculation: { mode: "off", maxDraftTokens: 6 } }, () => {});
      const spec = await engine.generate({ ...options, messageId: `rp${counter++}`, sampling: { temperature: 0, repeatPenalty: 1.3 }, speculation: { mode: "draft", maxDraftTokens: 6 } }, () => {});
      expect(spec.text, prompt).toBe(plain.text);
      if (prompt === prompts[0]) expect(plain.text).not.toBe(unpenalised.text); // the penalty does change this reply
    }
  });

  it("draws unseeded samples independently (no repeated replies)", async () => {
    const texts = new Set<string>();
    for (let i = 0; i < 4; i++) texts.add((await run(prompts[1]!, "draft", 32, 0.8)).result.text);
    expect(texts.size).toBeGreaterThan(1);
  });

  it("an abort in the middle of a speculative reply leaves the sequences consistent for the next turn", async () => {
    const id = `abort-${counter++}`;
    let steps = 0;
    const streamed: StreamedToken[] = [];
    const aborted = await engine.generate(
      {
        messageId: id,
        conversationId: "spec",
        messages: [{ role: "user", content: prompts[3]! }],
        maxTokens: 64,
        sampling: { temperature: 0 },
        speculation: { mode: "draft", maxDraftTokens: 6 },
      },
      (batch) => {
        streamed.push(...batch);
        if (++steps === 3) engine.abort(id);
      },
    );
    expect(aborted.stats.stopReason).toBe("abort");
    checkInvariants({ result: aborted, tokens: streamed, steps: [] });
    for (const prompt of [prompts[3]!, prompts[4]!]) {
      const plain = await run(prompt, "off");
      const spec = await run(prompt, "draft");
      expect(spec.result.text).toBe(plain.result.text);
    }
  });

  it("refuses a draft whose tokenizer differs, naming the difference, and keeps the current draft", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-incompatible-"));
    // Synthetic models with their own vocabulary: one of the same size as the KJV tokenizer, one larger.
    const sameSize = await makeModelPair({ params: "3m", draftParams: "600k", agreement: 0.5, context: 256, quant: "q8_0", vocab: 2048, outDir: dir, threads: 1 });
    await expect(engine.loadDraftModel({ modelPath: sameSize.draft, threads: 1 })).rejects.toMatchObject({
      code: "DRAFT_INCOMPATIBLE",
      message: expect.stringMatching(/cannot draft for kjv-chat-6m\.gguf: Token \d+ is ".*" in the draft model but ".*" in the target/),
    });
    const larger = await makeModelPair({ params: "3m", draftParams: "600k", agreement: 0.5, context: 256, quant: "q8_0", vocab: 4096, outDir: dir, threads: 1 });
    await expect(engine.loadDraftModel({ modelPath: larger.draft, threads: 1 })).rejects.toMatchObject({
      code: "DRAFT_INCOMPATIBLE",
      message: expect.stringMatching(/4096 tokens in its vocabulary and the target has 2048/),
    });
    expect(engine.loadedDraft?.name).toBe("kjv-chat-draft-1m.gguf");
    const spec = await run(prompts[0]!, "draft");
    expect(spec.result.stats.speculation!.proposed).toBeGreaterThan(0);
  });

  it("refuses draft speculation without a draft model, naming the fix", async () => {
    const lonely = new Engine();
    await lonely.init({ gpu: "cpu", cacheDir });
    await lonely.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }), () => {});
    try {
      await expect(
        lonely.generate(
          { messageId: "x", conversationId: "x", messages: [{ role: "user", content: "Amen." }], maxTokens: 4, sampling: { temperature: 0 }, speculation: { mode: "draft", maxDraftTokens: 4 } },
          () => {},
        ),
      ).rejects.toMatchObject({ code: "NO_DRAFT_MODEL" });
    } finally {
      await lonely.dispose();
    }
  });

  it("keeps the learned n-gram table across engine restarts", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-ngram-int-"));
    const first = new Engine();
    await first.init({ gpu: "cpu", cacheDir: dir });
    await first.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }), () => {});
    const params = { conversationId: "n", messages: [{ role: "user" as const, content: prompts[0]! }], maxTokens: 48, sampling: { temperature: 0 }, speculation: { mode: "ngram" as const, maxDraftTokens: 6 } };
    // A continuation is proposed once seen twice: two replies teach it.
    await first.generate({ ...params, messageId: "n0", speculation: { mode: "off" as const, maxDraftTokens: 6 } }, () => {});
    const cold = await first.generate({ ...params, messageId: "n1" }, () => {});
    await first.dispose();

    const second = new Engine();
    await second.init({ gpu: "cpu", cacheDir: dir });
    await second.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }), () => {});
    try {
      const warm = await second.generate({ ...params, messageId: "n2" }, () => {});
      expect(warm.text).toBe(cold.text);
      // The restarted engine predicts the reply it learned (seen twice now): most of it is accepted.
      expect(warm.stats.speculation!.accepted).toBeGreaterThan(warm.stats.tokens / 2);
      expect(warm.stats.speculation!.accepted).toBeGreaterThanOrEqual(cold.stats.speculation!.accepted);
    } finally {
      await second.dispose();
    }
  });
});
