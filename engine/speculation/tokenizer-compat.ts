import type { LlamaModel } from "node-llama-cpp";

/**
 * Whether a draft model can propose tokens for a target: both must map the same ids to the same text, or every
 * drafted id would mean something else to the target. Compared from the GGUF metadata (no inference): tokenizer
 * type, vocabulary size, special token ids, and every token's text. Returns null when compatible, otherwise a
 * sentence naming the first difference.
 */
export interface TokenizerFacts {
  model: string;
  tokens: readonly string[];
  bos: number | null;
  eos: number | null;
  eot: number | null;
  unknown: number | null;
}

export function tokenizerFacts(model: LlamaModel): TokenizerFacts {
  const ggml = (model.fileInfo.metadata as { tokenizer?: { ggml?: Record<string, unknown> } }).tokenizer?.ggml ?? {};
  const tokens = Array.isArray(ggml.tokens) ? (ggml.tokens as string[]) : [];
  return {
    model: typeof ggml.model === "string" ? ggml.model : "unknown",
    tokens,
    bos: model.tokens.bos,
    eos: model.tokens.eos,
    eot: model.tokens.eot,
    unknown: typeof ggml.unknown_token_id === "number" ? ggml.unknown_token_id : null,
  };
}

export function compareTokenizers(target: TokenizerFacts, draft: TokenizerFacts): string | null {
  if (target.model !== draft.model) {
    return `The draft model's tokenizer type is "${draft.model}" but the target's is "${target.model}".`;
  }
  if (target.tokens.length !== draft.tokens.length) {
    return `The draft model has ${draft.tokens.length} tokens in its vocabulary and the target has ${target.tokens.length}.`;
  }
  for (const [name, a, b] of [
    ["beginning-of-text", target.bos, draft.bos],
    ["end-of-text", target.eos, draft.eos],
    ["end-of-turn", target.eot, draft.eot],
    ["unknown", target.unknown, draft.unknown],
  ] as const) {
    if (a !== b) return `The ${name} token is ${String(b)} in the draft model but ${String(a)} in the target.`;
  }
  for (let id = 0; id < target.tokens.length; id++) {
    if (target.tokens[id] !== draft.tokens[id]) {
      return `Token ${id} is ${JSON.stringify(draft.tokens[id])} in the draft model but ${JSON.stringify(target.tokens[id])} in the target.`;
    }
  }
  return null;
}
