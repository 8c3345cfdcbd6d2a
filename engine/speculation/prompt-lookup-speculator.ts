import type { Token } from "node-llama-cpp";
import type { Speculator } from "./speculator.js";

/**
 * Prompt lookup decoding: when the last few tokens already occurred earlier in the conversation (prompt, earlier
 * turns, or this reply), propose what followed them there. Costs no model evaluation, and pays off on
 * input-grounded replies (quoting, summarising, editing code) where the model copies spans of its input.
 *
 * An index from n-gram to its latest end position is kept up to date incrementally, so each proposal costs O(k).
 */
export class PromptLookupSpeculator implements Speculator {
  readonly kind = "lookup" as const;
  /** n-gram sizes tried, longest first: a longer match is a better predictor. */
  private readonly sizes: readonly number[];
  /** key(n-gram) -> end index (exclusive) of its most recent occurrence, excluding the current tail. */
  private index = new Map<string, number>();
  private indexed = 0;

  constructor(options: { maxNgram?: number; minNgram?: number } = {}) {
    const max = options.maxNgram ?? 4;
    const min = options.minNgram ?? 2;
    this.sizes = Array.from({ length: max - min + 1 }, (_, i) => max - i);
  }

  async begin(): Promise<void> {
    this.index = new Map();
    this.indexed = 0;
  }

  /** Indexes every n-gram that ends before the last position of `history` (the tail itself must not match itself). */
  private catchUp(history: readonly Token[]): void {
    if (history.length < this.indexed) {
      // The history is not a continuation of what was indexed (a new reply): start over.
      this.index = new Map();
      this.indexed = 0;
    }
    for (let end = Math.max(this.indexed, 1); end < history.length; end++) {
      for (const n of this.sizes) {
        if (end < n) continue;
        this.index.set(history.slice(end - n, end).join(","), end);
      }
    }
    this.indexed = Math.max(this.indexed, history.length);
  }

  async propose(history: readonly Token[], k: number): Promise<Token[]> {
    this.catchUp(history);
    for (const n of this.sizes) {
      if (history.length < n + 1) continue;
      const end = this.index.get(history.slice(history.length - n).join(","));
      if (end === undefined || end >= history.length) continue;
      return history.slice(end, Math.min(end + k, history.length)) as Token[];
    }
    return [];
  }

  observe(): void {}

  async end(): Promise<void> {}
}
