import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { commonPrefixLength, usableContext } from "../sequence-utils.js";
import type { SequenceSampler } from "./sequence-sampler.js";
import type { Speculator } from "./speculator.js";

/** A loaded draft model: its own model, context, sequence and greedy sampler, disposed in reverse order. */
export interface DraftModel {
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  /** Lives as long as the draft is loaded (see SequenceSampler): no native sampler is made per drafted token. */
  sampler: SequenceSampler;
}

/**
 * Drafts with a small model that shares the target's tokenizer: greedy, up to k tokens (the policy chooses k from
 * the measured acceptance and costs). A confidence cut-off (stop once the draft's probability of its own token falls
 * below `minConfidence`) is available but off by default, as in llama.cpp's draft-simple (--spec-draft-p-min 0):
 * node-llama-cpp computes a token's confidence by sorting the whole vocabulary, which measured 1.9 ms per drafted
 * token on a 32k-vocabulary 20M draft (2.94 ms against 1.06 ms for the token alone, whose decode is 0.5 ms): more
 * than the verify positions the cut-off saves.
 *
 * The draft's KV cache follows the accepted text: before drafting, only the tokens after the longest common prefix
 * of its context and the history are evaluated (the rejected tail of the last draft is erased, never re-prefilled).
 */
export class DraftModelSpeculator implements Speculator {
  readonly kind = "draft" as const;
  constructor(
    /** The draft lane lent to this reply: no other reply uses its sequence meanwhile (see DraftLanes). */
    private readonly draft: DraftModel,
    private readonly minConfidence = 0,
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
      let next: Token | undefined;
      if (this.minConfidence > 0) {
        // The cut-off needs the token's confidence, which only controlledEvaluate reports.
        const results = await sequence.controlledEvaluate(
          input.map((token, index) => (index === last ? [token, { generateNext: { token: true, confidence: true, options: GREEDY } }] : token)),
        );
        const result = results[last]?.next;
        if ((result?.confidence ?? 1) < this.minConfidence) break;
        next = result?.token ?? undefined;
      } else {
        [next] = await this.draft.sampler.evaluate(input, last, () => GREEDY, () => false);
      }
      if (next == null) break;
      proposal.push(next);
      if (model.isEogToken(next) || proposal.length === k) break;
      input = [next];
    }
    return proposal;
  }

  observe(): void {}

  async end(): Promise<void> {}
}

const GREEDY = { temperature: 0, seed: 0 } as const;
