import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../engine/engine.js";
import type { GenerationResult, SpeculationMode, StreamedToken, VerifyStep } from "../../engine/protocol.js";
import { TEST_THREADS, repoPath, sharedModel, targetModel } from "../helpers/models.js";

const prompts = readFileSync(repoPath("engine/bench/prompts/kjv-free-chat.txt"), "utf8").trim().split("\n");
const grounded = readFileSync(repoPath("engine/bench/prompts/kjv-input-grounded.txt"), "utf8").trim().split("\n");
const cacheDir = mkdtempSync(path.join(os.tmpdir(), "tandem-spec-"));
let engine: Engine;
let counter = 0;

beforeAll(async () => {
  engine = new Engine();
  await engine.init({ gpu: "cpu", cacheDir });
  await engine.loadModel({ modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }, () => {});
  await engine.loadDraftModel({ modelPath: sharedModel("kjv-chat-draft-1m.gguf"), threads: TEST_THREADS });
});
afterAll(async () => {
  await engine?.dispose();
});

async function run(prompt: string, mode: SpeculationMode, maxTokens = 48, temperature = 0) {
  const tokens: StreamedToken[] = [];
  const steps: VerifyStep[] = [];
  const result: GenerationResult = await engine.generate(
    {
      generationId: `s${counter++}`,
      sessionKey: "spec",
      messages: [{ role: "user", content: prompt }],
      maxTokens,
      sampling: { temperature },
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
  // Each target decode emits its own token, except a final one that ended the reply (EOG) or was dropped (abort).
  const unemitted = result.stats.targetDecodes - spec.targetTokens;
  expect(unemitted).toBe(["eog", "abort"].includes(result.stats.stopReason) ? 1 : 0);
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
});
