import type { Token } from "node-llama-cpp";
import type { NgramTable } from "./ngram-table.js";
import type { Speculator } from "./speculator.js";

/**
 * Proposes continuations from the model's learned n-gram table (see NgramTable), chaining predictions up to k.
 * Learns from every emitted token as the reply goes, so a phrase the model repeats within one reply is predicted
 * the second time; the engine persists the table after each reply.
 */
export class NgramSpeculator implements Speculator {
  readonly kind = "ngram" as const;
  private learnedUpTo = 0;

  constructor(private readonly table: NgramTable) {}

  async begin(promptTokens: readonly Token[]): Promise<void> {
    // Only the model's own output is learned; the prompt provides context for its first tokens.
    this.learnedUpTo = promptTokens.length;
  }

  async propose(history: readonly Token[], k: number): Promise<Token[]> {
    const proposal: Token[] = [];
    const scratch = [...history.slice(-this.table.order)];
    while (proposal.length < k) {
      const next = this.table.predict(scratch);
      if (next === null) break;
      proposal.push(next);
      scratch.push(next);
      if (scratch.length > this.table.order) scratch.shift();
    }
    return proposal;
  }

  observe(history: readonly Token[]): void {
    if (history.length > this.learnedUpTo) {
      this.table.learn(history, this.learnedUpTo);
      this.learnedUpTo = history.length;
    }
  }

  async end(): Promise<void> {}
}
