import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compatibleDrafts, GgufInspectError, SAME_MODEL_REASON, inspectGguf, tokenizerFactsFromFile, type DraftPairingInput } from "../../../engine/gguf/inspect.js";
import { makeModelPair } from "../../../engine/dev/synthetic/make-model.js";
import { sharedModel } from "../../helpers/models.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-inspect-"));
const target = sharedModel("kjv-chat-6m.gguf");
const draft = sharedModel("kjv-chat-draft-1m.gguf");

function file(name: string, content: Buffer | string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function failure(p: string): Promise<GgufInspectError> {
  const error = await inspectGguf(p).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GgufInspectError);
  const e = error as GgufInspectError;
  expect(e.message).not.toContain("\n");
  return e;
}

async function pairingInput(p: string): Promise<DraftPairingInput> {
  const facts = await inspectGguf(p);
  return { path: p, sizeBytes: facts.sizeBytes, parameters: facts.parameters, tokenizer: await tokenizerFactsFromFile(p) };
}

describe("inspectGguf", () => {
  it("reads the shared target's facts from its header", async () => {
    const facts = await inspectGguf(target);
    expect(facts).toMatchObject({
      name: "kjv-chat-6m.gguf",
      architecture: "llama",
      quantization: "F32",
      contextLength: 256,
      tokenizer: "llama",
      vocabSize: 2048,
      hasChatTemplate: true,
      chatWrapper: "ChatML",
      split: null,
      ggufVersion: 3,
    });
    expect(facts.parameters).toBeGreaterThan(5.5e6);
    expect(facts.parameters).toBeLessThan(6.1e6);
    expect(facts.sizeBytes).toBe(readFileSync(target).length);
    expect(facts.specialTokens).toMatchObject({ bos: 1, eos: 4 });
    expect(facts.chatTemplateFirstLine).toContain("<|im_start|>");
  });

  it("reads the shared draft's facts", async () => {
    const facts = await inspectGguf(draft);
    expect(facts).toMatchObject({ architecture: "llama", quantization: "F32", contextLength: 256, vocabSize: 2048, chatWrapper: "ChatML" });
    expect(facts.parameters).toBeGreaterThan(0.8e6);
    expect(facts.parameters).toBeLessThan(1e6);
  });

  it("reads a split set from its first part, sums the parts and reports missing ones", async () => {
    const bytes = readFileSync(target);
    const half = Math.floor(bytes.length / 2);
    const first = file("kjv-00001-of-00002.gguf", bytes.subarray(0, half));
    file("kjv-00002-of-00002.gguf", bytes.subarray(half));
    const facts = await inspectGguf(first);
    expect(facts.sizeBytes).toBe(bytes.length);
    expect(facts.split).toEqual({ parts: 2, partFiles: ["kjv-00001-of-00002.gguf", "kjv-00002-of-00002.gguf"], missingParts: [] });
    expect(facts.parameters).toBe((await inspectGguf(target)).parameters);

    const lone = file("lone-00001-of-00003.gguf", bytes.subarray(0, half));
    const partial = await inspectGguf(lone);
    expect(partial.split?.missingParts).toEqual(["lone-00002-of-00003.gguf", "lone-00003-of-00003.gguf"]);
    expect(partial.sizeBytes).toBe(half);
  });

  it("refuses garbage, truncated, empty and missing files with a one-line typed reason", async () => {
    expect((await failure(file("notes.gguf", "just some text, definitely not a model"))).reason).toBe("not-gguf");
    expect((await failure(file("empty.gguf", ""))).reason).toBe("not-gguf");
    const bytes = readFileSync(target);
    const cutHeader = await failure(file("cut-header.gguf", bytes.subarray(0, 1000)));
    expect(cutHeader.reason).toBe("truncated");
    const cutData = await failure(file("cut-data.gguf", bytes.subarray(0, bytes.length - 4096)));
    expect(cutData.reason).toBe("truncated");
    expect(cutData.message).toMatch(/cut-data\.gguf is truncated/);
    expect((await failure(path.join(dir, "nope.gguf"))).reason).toBe("not-found");
  });
});

describe("draft pairing from headers", () => {
  it("pairs the shared draft with the shared target and recommends the smallest compatible", async () => {
    const copy = path.join(dir, "kjv-copy.gguf");
    copyFileSync(target, copy);
    const pairings = compatibleDrafts(await pairingInput(target), [await pairingInput(copy), await pairingInput(target), await pairingInput(draft)]);
    expect(pairings.map((p) => p.path)).toEqual([draft, copy]); // smallest first, the target itself left out
    expect(pairings[0]).toEqual({ path: draft, compatible: true, reason: null, recommended: true });
    // A copy of the target in another folder is the same model: never offered as a draft for itself.
    expect(pairings[1]).toEqual({ path: copy, compatible: false, reason: SAME_MODEL_REASON, recommended: false });
  });

  it("explains why a synthetic model is not a draft for the shared target", async () => {
    const pair = await makeModelPair({ params: "3m", draftParams: "600k", agreement: 0.5, context: 256, quant: "q8_0", vocab: 2048, outDir: path.join(dir, "synthetic"), threads: 1 });
    const [pairing] = compatibleDrafts(await pairingInput(target), [await pairingInput(pair.draft)]);
    expect(pairing.compatible).toBe(false);
    expect(pairing.recommended).toBe(false);
    expect(pairing.reason).toMatch(/^Token \d+ is ".*" in the draft model but ".*" in the target\.$/);
    const synthetic = await inspectGguf(pair.target);
    expect(synthetic.quantization).toBe("Q8_0");
  }, 120_000);
});
