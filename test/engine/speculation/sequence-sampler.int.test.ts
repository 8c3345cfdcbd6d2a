import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, type Llama, type LlamaContext, type LlamaModel, type Token } from "node-llama-cpp";
import { SequenceSampler } from "../../../engine/speculation/sequence-sampler.js";
import { TEST_THREADS, targetModel } from "../../helpers/models.js";

let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
  model = await llama.loadModel({ modelPath: targetModel() });
  context = await model.createContext({ contextSize: 256, sequences: 2, threads: TEST_THREADS });
});
afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
});

const prompt = () => model.tokenize("<|im_start|>user\nIn the beginning God created the heaven and the earth.<|im_end|>\n<|im_start|>assistant\n", true);

describe("SequenceSampler", () => {
  it("uses node-llama-cpp's internals on the pinned version (the lazy path), not the fallback", () => {
    const sequence = context.getSequence();
    const sampler = new SequenceSampler(sequence, model);
    expect(sampler.lazy).toBe(true);
    sampler.dispose();
    void sequence.dispose();
  });

  it("samples the same greedy tokens as controlledEvaluate, and stops sampling when told to", async () => {
    const tokens = prompt();
    // The reference: controlledEvaluate sampling every position of the prompt.
    const reference = context.getSequence();
    const results = await reference.controlledEvaluate(tokens.map((token) => [token, { generateNext: { token: true, options: { temperature: 0 } } }]));
    const expected = tokens.map((_, index) => results[index]!.next.token as Token);
    await reference.dispose();

    const sequence = context.getSequence();
    const sampler = new SequenceSampler(sequence, model);
    const seen: number[] = [];
    const all = await sampler.evaluate(tokens, 0, () => ({ temperature: 0, seed: 0 }), (index) => {
      seen.push(index);
      return true;
    });
    expect(all).toEqual(expected);
    expect(seen).toEqual(tokens.map((_, index) => index));
    expect(sequence.nextTokenIndex).toBe(tokens.length);

    // Stop after the third sample: every token is still evaluated, only three are sampled.
    await sequence.eraseContextTokenRanges([{ start: 0, end: sequence.nextTokenIndex }]);
    const some = await sampler.evaluate(tokens, 0, () => ({ temperature: 0, seed: 0 }), (index) => index < 2);
    expect(some).toEqual(expected.slice(0, 3));
    expect(sequence.nextTokenIndex).toBe(tokens.length);
    expect(sequence.contextTokens).toEqual(tokens);

    // Sampling only from the last position, as a prefill does.
    await sequence.eraseContextTokenRanges([{ start: 0, end: sequence.nextTokenIndex }]);
    const last = await sampler.evaluate(tokens, tokens.length - 1, () => ({ temperature: 0, seed: 0 }), () => false);
    expect(last).toEqual([expected[tokens.length - 1]]);
    sampler.dispose();
    await expect(sampler.evaluate(tokens, 0, () => ({}), () => false)).rejects.toThrow(/disposed/);
    await sequence.dispose();
  });

  it("refuses to sample a position the batch does not have", async () => {
    const sequence = context.getSequence();
    const sampler = new SequenceSampler(sequence, model);
    await expect(sampler.evaluate([1 as Token], 1, () => ({}), () => false)).rejects.toThrow(/no position/);
    sampler.dispose();
    await sequence.dispose();
  });
});
