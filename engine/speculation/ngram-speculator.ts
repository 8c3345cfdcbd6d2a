import type { Token } from "node-llama-cpp";
import type { NgramTable } from "./ngram-table.js";
import type { Speculator } from "./speculator.js";

/**
 * Proposes continuations from the model's learned n-gram table (see NgramTable), chaining predictions up to k.
 * The table learns from each finished reply (Engine.learnFromReply), not token by token: repetition within the
 * reply being written is prompt lookup's job, and learning per step cost ~2% of decode time on a small model.
 */
export class NgramSpeculator implements Speculator {
  readonly kind = "ngram" as const;

  constructor(private readonly table: NgramTable) {}

  async begin(): Promise<void> {}

  propose(history: readonly Token[], k: number): Token[] {
    const proposal: Token[] = [];
    const scratch = history.slice(-this.table.order);
    while (proposal.length < k) {
      const next = this.table.predict(scratch);
      if (next === null) break;
      proposal.push(next);
      scratch.push(next);
      if (scratch.length > this.table.order) scratch.shift();
    }
    return proposal;
  }

  observe(): void {}

  async end(): Promise<void> {}
}
