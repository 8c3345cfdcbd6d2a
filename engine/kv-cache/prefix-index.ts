import { createHash } from "node:crypto";
import { commonPrefixLength } from "../sequence-utils.js";

/**
 * Finds, among saved states, the one sharing the longest token prefix with a prompt.
 *
 * States are indexed by chained hashes of their 64-token blocks: the hash of block i covers tokens[0 .. 64(i+1)),
 * so two states share block i's hash only if they share the whole prefix up to it. A lookup hashes the prompt's
 * blocks once, finds the deepest block some state shares, and then compares tokens exactly (a hash collision must
 * never make us load a state whose tokens differ; the exact shared length may also run past the last full block).
 */

export const BLOCK_TOKENS = 64;

export interface PrefixMatch {
  id: string;
  /** Tokens shared with the query, compared exactly. */
  shared: number;
}

export function blockHashes(tokens: readonly number[], blockTokens = BLOCK_TOKENS): string[] {
  const hashes: string[] = [];
  let previous = "";
  for (let end = blockTokens; end <= tokens.length; end += blockTokens) {
    const block = Int32Array.from(tokens.slice(end - blockTokens, end));
    previous = createHash("sha1").update(previous).update(Buffer.from(block.buffer)).digest("hex");
    hashes.push(previous);
  }
  return hashes;
}

export class PrefixIndex {
  private readonly byHash = new Map<string, Set<string>>();
  private readonly entries = new Map<string, { tokens: readonly number[]; hashes: string[] }>();

  constructor(private readonly blockTokens = BLOCK_TOKENS) {}

  get size(): number {
    return this.entries.size;
  }

  add(id: string, tokens: readonly number[]): void {
    this.remove(id);
    const hashes = blockHashes(tokens, this.blockTokens);
    this.entries.set(id, { tokens: [...tokens], hashes });
    for (const hash of hashes) {
      let ids = this.byHash.get(hash);
      if (!ids) this.byHash.set(hash, (ids = new Set()));
      ids.add(id);
    }
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    for (const hash of entry.hashes) {
      const ids = this.byHash.get(hash);
      ids?.delete(id);
      if (ids?.size === 0) this.byHash.delete(hash);
    }
  }

  clear(): void {
    this.byHash.clear();
    this.entries.clear();
  }

  /**
   * The state with the longest exact shared prefix among those sharing at least one full block, or undefined.
   * `exclude` leaves out ids the caller has already considered (e.g. the conversation's own state).
   */
  bestMatch(tokens: readonly number[], exclude?: (id: string) => boolean): PrefixMatch | undefined {
    const hashes = blockHashes(tokens, this.blockTokens);
    // Deepest shared block first; shallower levels are only reached if every deeper candidate was a collision.
    for (let level = hashes.length - 1; level >= 0; level--) {
      let best: PrefixMatch | undefined;
      for (const id of this.byHash.get(hashes[level]!) ?? []) {
        if (exclude?.(id)) continue;
        const shared = commonPrefixLength(this.entries.get(id)!.tokens, tokens);
        if (shared >= (level + 1) * this.blockTokens && (!best || shared > best.shared)) best = { id, shared };
      }
      if (best) return best;
    }
    return undefined;
  }
}
