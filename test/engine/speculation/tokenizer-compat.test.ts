import { describe, expect, it } from "vitest";
import { compareTokenizers, type TokenizerFacts } from "../../../engine/speculation/tokenizer-compat.js";

const base: TokenizerFacts = { model: "llama", tokens: ["<unk>", "<s>", "</s>", "▁the", "▁a"], bos: 1, eos: 2, eot: null, unknown: 0 };

describe("compareTokenizers", () => {
  it("accepts identical tokenizers", () => {
    expect(compareTokenizers(base, { ...base, tokens: [...base.tokens] })).toBeNull();
  });

  it("names the first difference", () => {
    expect(compareTokenizers(base, { ...base, model: "gpt2" })).toMatch(/type is "gpt2".*"llama"/);
    expect(compareTokenizers(base, { ...base, tokens: base.tokens.slice(0, 4) })).toMatch(/4 tokens.*target has 5/);
    expect(compareTokenizers(base, { ...base, eos: 4 })).toMatch(/end-of-text token is 4 in the draft model but 2/);
    expect(compareTokenizers(base, { ...base, tokens: ["<unk>", "<s>", "</s>", "▁the", "▁an"] })).toMatch(/Token 4 is "▁an" in the draft model but "▁a"/);
  });
});
