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
  /** hash(n-gram) -> end index (exclusive) of its most recent occurrence, excluding the current tail. */
  private index = new Map<number, number>();
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
        this.index.set(ngramKey(history, end - n, end), end);
      }
    }
    this.indexed = Math.max(this.indexed, history.length);
  }

  propose(history: readonly Token[], k: number): Token[] {
    this.catchUp(history);
    for (const n of this.sizes) {
      if (history.length < n + 1) continue;
      const end = this.index.get(ngramKey(history, history.length - n, history.length));
      if (end === undefined || end >= history.length) continue;
      // A hash collision would only cost a rejected proposal, but checking is cheap.
      if (!sameTokens(history, end - n, history.length - n, n)) continue;
      return history.slice(end, Math.min(end + k, history.length)) as Token[];
    }
    return [];
  }

  observe(): void {}

  async end(): Promise<void> {}
}

/**
 * A number key for tokens[start..end) and its length: two 32-bit multiplicative hashes folded into 30 bits, a
 * small integer V8 stores unboxed (a 52-bit key allocated a heap number per n-gram indexed). A collision only
 * costs a missed proposal: a match is checked token by token before it is proposed.
 */
function ngramKey(tokens: readonly Token[], start: number, end: number): number {
  let a = 0x811c9dc5 ^ (end - start);
  let b = 0x01000193;
  for (let i = start; i < end; i++) {
    a = Math.imul(a ^ tokens[i]!, 0x01000193);
    b = Math.imul(b + tokens[i]!, 0x5bd1e995) ^ (b >>> 15);
  }
  return ((a ^ Math.imul(b, 0x9e3779b1)) >>> 2) & 0x3fffffff;
}

function sameTokens(tokens: readonly Token[], a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (tokens[a + i] !== tokens[b + i]) return false;
  return true;
}
