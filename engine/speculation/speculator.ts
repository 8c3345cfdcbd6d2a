import type { Token } from "node-llama-cpp";
import type { SpeculatorKind } from "../../contracts/engine/protocol.js";

/**
 * A speculator proposes the tokens it expects the target model to produce next; the verifier checks them all in
 * one batched target decode. Speculators never decide what is emitted: a wrong guess costs time, never output.
 *
 * Lifecycle per reply: `begin(prompt)` once, then per step `propose(history, k)` followed by `observe(history)` after
 * the verifier has appended the accepted tokens; `end(output)` once when the reply is finished (or aborted).
 */
export interface Speculator {
  readonly kind: SpeculatorKind;
  begin(promptTokens: readonly Token[]): Promise<void>;
  /**
   * Up to `k` tokens expected to follow `history` (prompt + every emitted token so far, the last one included).
   * May return fewer (or none) when the speculator has nothing worth proposing. Speculators that need no model
   * (prompt lookup, n-gram) answer synchronously: on a ~1 ms/token model, every `await` on the decode loop's
   * path costs measurable time (see SpeculationPolicy.plan).
   */
  propose(history: readonly Token[], k: number): Token[] | Promise<Token[]>;
  /** `history` after a verify step (the accepted tokens appended), for speculators that learn as they go. */
  observe(history: readonly Token[]): void;
  end(outputTokens: readonly Token[]): Promise<void>;
}
