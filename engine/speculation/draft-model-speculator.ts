import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { commonPrefixLength, usableContext } from "../sequence-utils.js";
import type { Speculator } from "./speculator.js";

/** A loaded draft model: its own model, context and sequence, disposed in reverse order. */
export interface DraftModel {
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
}

/**
 * Drafts with a small model that shares the target's tokenizer: greedy, up to k tokens, stopping early once its
 * own confidence in the next token drops (a token it is unsure of is unlikely to be accepted, and each drafted
 * token costs a draft decode plus a verify position).
 *
 * The draft's KV cache follows the accepted text: before drafting, only the tokens after the longest common prefix
 * of its context and the history are evaluated (the rejected tail of the last draft is erased, never re-prefilled).
 */
export class DraftModelSpeculator implements Speculator {
  readonly kind = "draft" as const;

  constructor(
    private readonly draft: DraftModel,
    private readonly minConfidence = 0.2,
  ) {}

  async begin(): Promise<void> {}

  async propose(history: readonly Token[], k: number): Promise<Token[]> {
    const { sequence, model } = this.draft;
    if (history.length + k > usableContext(sequence)) return [];
    // Keep the longest prefix the draft already evaluated; at least the last history token is evaluated (its
    // logits give the first drafted token).
    const keep = Math.min(commonPrefixLength(sequence.contextTokens, history), history.length - 1);
    if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);

    const proposal: Token[] = [];
    let input: Token[] = history.slice(keep) as Token[];
    while (proposal.length < k) {
      const last = input.length - 1;
      const results = await sequence.controlledEvaluate(
        input.map((token, index) =>
          index === last ? [token, { generateNext: { token: true, confidence: true, options: { temperature: 0 } } }] : token,
        ),
      );
      const next = results[last]?.next;
      if (next?.token == null) break;
      if ((next.confidence ?? 1) < this.minConfidence) break;
      proposal.push(next.token);
      if (model.isEogToken(next.token) || proposal.length === k) break;
      input = [next.token];
    }
    return proposal;
  }

  observe(): void {}

  async end(): Promise<void> {}
}
