import { describe, expect, it } from "vitest";
import { buildVocabulary, EOS_ID, FIRST_PIECE_ID, SPACE, TokenType } from "../../../../engine/dev/synthetic/tokenizer.js";

describe("synthetic llama vocabulary", () => {
  const vocab = buildVocabulary(32000);

  it("has the llama layout: specials, 256 byte tokens, then unique word pieces with decreasing scores", () => {
    expect(vocab.tokens).toHaveLength(32000);
    expect(vocab.tokens.slice(0, 5)).toEqual(["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]);
    expect(vocab.tokens[EOS_ID]).toBe("<|im_end|>");
    expect([...vocab.tokenTypes.slice(0, 5)]).toEqual([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL]);
    expect(vocab.tokens[5]).toBe("<0x00>");
    expect(vocab.tokens[5 + 0x0a]).toBe("<0x0A>");
    expect(vocab.tokens[260]).toBe("<0xFF>");
    expect(vocab.tokenTypes.slice(5, 261).every((t) => t === TokenType.BYTE)).toBe(true);
    expect(vocab.tokenTypes.slice(FIRST_PIECE_ID).every((t) => t === TokenType.NORMAL)).toBe(true);
    expect(new Set(vocab.tokens).size).toBe(32000);
    for (let i = FIRST_PIECE_ID + 1; i < 32000; i++) expect(vocab.scores[i]).toBeLessThan(vocab.scores[i - 1]);
  });

  it("is prefix-closed, so SPM merges can reach every piece, and uses the space marker for word starts", () => {
    const pieces = new Set(vocab.tokens.slice(FIRST_PIECE_ID));
    const missing: string[] = [];
    for (const piece of pieces) {
      const chars = [...piece];
      for (let n = 1; n < chars.length; n++) if (!pieces.has(chars.slice(0, n).join(""))) missing.push(piece);
    }
    expect(missing).toEqual([]);
    expect(pieces.has(`${SPACE}the`)).toBe(true);
    expect(pieces.has(`${SPACE}river`)).toBe(true);
    expect([...pieces].filter((p) => p.startsWith(SPACE)).length).toBeGreaterThan(16000);
  });

  it("depends only on its size (target and draft share it)", () => {
    expect(buildVocabulary(32000).tokens).toEqual(vocab.tokens);
    expect(buildVocabulary(4096).tokens).toEqual(vocab.tokens.slice(0, 4096));
    expect(() => buildVocabulary(100)).toThrow(/>= 512/);
  });
});
