import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { Mutex } from "../lock.js";
import { commonPrefixLength } from "../sequence-utils.js";
import { BLOCK_TOKENS } from "./prefix-index.js";
import type { KvStateStore } from "./state-store.js";
import type { CacheOutcome } from "../../contracts/engine/protocol.js";

/**
 * Pages conversations between the sequences (slots) of one target context and disk.
 *
 * llama.cpp cannot page KV blocks from node-llama-cpp, but whole sequence states can be saved and loaded, which is
 * ~100x cheaper than re-evaluating a long history on a CPU. Each active conversation owns a slot; when a slot is
 * needed, the least recently used idle conversation is saved to disk and its slot reused. A conversation without a
 * slot resumes from its own saved state or, failing that, from the saved state sharing the longest prefix with its
 * prompt (same system prompt and opening, an edited or regenerated turn). The decode loop's prefix reuse then
 * erases the tail after the shared part and evaluates only the rest.
 *
 * Replies run concurrently (the engine's context lock is shared among them), so the slot table has a lock of its
 * own: one acquire at a time picks, pages out and restores. A reply that finds every slot generating, or its own
 * conversation's slot generating (a second request on the same conversation), waits for a release: a slot never
 * serves two replies at once.
 */

/** States tried per acquire before re-prefilling: each failed load costs a file read, and a failure is rare. */
const MAX_LOAD_ATTEMPTS = 3;

/** How the cache served a prompt: declared once, in the engine protocol. */

export interface Acquired {
  sequence: LlamaContextSequence;
  outcome: CacheOutcome;
  /** Prompt tokens already in the sequence when it was handed out (not evaluated again). */
  restoredTokens: number;
  /** Time spent paging out and loading a state for this acquire. */
  restoreMs: number;
}

interface Slot {
  sequence: LlamaContextSequence;
  conversationId: string | undefined;
  /** Pinned while its conversation generates: never paged out. */
  pinned: boolean;
  lastUsed: number;
  /** The tokens last saved from (or loaded into) this slot for its conversation: unchanged ones need no save. */
  savedTokens: readonly Token[] | undefined;
}

export class KvPager {
  private readonly slots: Slot[];
  private clock = 0;
  private readonly lock = new Mutex();
  /** Bumped by every release; an acquire that found no slot retries at once if one came meanwhile. */
  private releases = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    sequences: readonly LlamaContextSequence[],
    readonly store: KvStateStore,
  ) {
    if (sequences.length === 0) throw new Error("KvPager needs at least one sequence");
    // The store decides at open which states fit; opened for another size (the requested one instead of the
    // padded one node-llama-cpp gave) it would refuse states that fit, or offer ones that do not.
    const mismatch = sequences.find((sequence) => sequence.contextSize !== store.contextSize);
    if (mismatch) throw new Error(`KvPager: the state store was opened for a context of ${store.contextSize} tokens, but a sequence has ${mismatch.contextSize}`);
    this.slots = sequences.map((sequence) => ({ sequence, conversationId: undefined, pinned: false, lastUsed: 0, savedTokens: undefined }));
  }

  get slotCount(): number {
    return this.slots.length;
  }

  /** Which conversation each slot holds (tests and the status view). */
  get assignments(): Array<string | undefined> {
    return this.slots.map((slot) => slot.conversationId);
  }

  /** The conversation's slot, pinned until `release`: its own, or one paged in for it (waits while none is free). */
  async acquire(conversationId: string, promptTokens: readonly Token[]): Promise<Acquired> {
    const started = performance.now();
    for (;;) {
      const seen = this.releases;
      const acquired = await this.lock.run(() => this.tryAcquire(conversationId, promptTokens, started));
      if (acquired) return acquired;
      if (this.releases === seen) await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private async tryAcquire(conversationId: string, promptTokens: readonly Token[], started: number): Promise<Acquired | null> {
    const own = this.slots.find((slot) => slot.conversationId === conversationId);
    if (own?.pinned) return null;
    if (own) {
      this.pin(own);
      return { sequence: own.sequence, outcome: "slot-hit", restoredTokens: reusable(own.sequence.contextTokens, promptTokens), restoreMs: 0 };
    }

    const slot = this.chooseSlot();
    if (!slot) return null;
    if (slot.conversationId !== undefined && this.hasUnsavedTokens(slot)) await this.store.save(slot.sequence, slot.conversationId);
    await this.empty(slot);
    slot.conversationId = conversationId;
    this.pin(slot);

    const restored = await this.restore(slot, conversationId, promptTokens);
    return { sequence: slot.sequence, ...restored, restoreMs: performance.now() - started };
  }

  /** Unpins the conversation's slot after its reply; it stays cached there until another needs the slot. */
  release(conversationId: string): void {
    const slot = this.slots.find((s) => s.conversationId === conversationId);
    if (!slot) return;
    slot.pinned = false;
    slot.lastUsed = ++this.clock;
    this.releases++;
    for (const wake of this.waiting.splice(0)) wake();
  }

  private pin(slot: Slot): void {
    slot.pinned = true;
    slot.lastUsed = ++this.clock;
  }

  /**
   * The slot a conversation without one gets, or undefined when every slot is generating. Next to a generating slot
   * first: llama.cpp decodes concurrent replies in one batch only when their sequences are neighbours (consecutive
   * ids, see BatchGate), so replies on slots 0 and 2 would cost two decodes per step. Then an empty slot before an
   * idle one (no state to save), then the idle one used longest ago.
   */
  private chooseSlot(): Slot | undefined {
    const free = this.slots.filter((slot) => !slot.pinned);
    const nextToGenerating = (slot: Slot) => {
      const i = this.slots.indexOf(slot);
      return this.slots[i - 1]?.pinned === true || this.slots[i + 1]?.pinned === true;
    };
    const rank = (slot: Slot) => (nextToGenerating(slot) ? 0 : 2) + (slot.conversationId === undefined ? 0 : 1);
    return free.sort((a, b) => rank(a) - rank(b) || a.lastUsed - b.lastUsed)[0];
  }

  private hasUnsavedTokens(slot: Slot): boolean {
    const tokens = slot.sequence.contextTokens;
    if (tokens.length === 0) return false;
    const saved = slot.savedTokens;
    return !saved || saved.length !== tokens.length || commonPrefixLength(saved, tokens) !== tokens.length;
  }

  /**
   * Loads the conversation's own state, or the longest shared prefix of at least one block, into an empty slot.
   * A state that fails to load (corrupt, or not loadable here) leaves the store's index, so the next best is tried:
   * a conversation whose own state turned out corrupt still reuses another's shared prefix.
   */
  private async restore(slot: Slot, conversationId: string, promptTokens: readonly Token[]): Promise<Omit<Acquired, "sequence" | "restoreMs">> {
    for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
      const candidate = this.bestCandidate(conversationId, promptTokens);
      if (!candidate) break;
      if (!(await this.store.load(candidate.id, slot.sequence))) continue;
      // Another conversation's tokens are not this one's: its own save must still happen.
      slot.savedTokens = candidate.own ? [...slot.sequence.contextTokens] : undefined;
      return { outcome: candidate.own ? "disk-restore" : "prefix-reuse", restoredTokens: reusable(slot.sequence.contextTokens, promptTokens) };
    }
    return { outcome: "cold", restoredTokens: 0 };
  }

  /** The conversation's own state, unless another shares a longer prefix (of at least one block). */
  private bestCandidate(conversationId: string, promptTokens: readonly Token[]): { id: string; own: boolean } | undefined {
    const ownState = this.store.forConversation(conversationId);
    const ownShared = ownState ? commonPrefixLength(ownState.tokens, promptTokens) : 0;
    const other = this.store.index.bestMatch(promptTokens, (id) => id === ownState?.id);
    if (other !== undefined && other.shared >= BLOCK_TOKENS && other.shared > ownShared) return { id: other.id, own: false };
    return ownState && ownShared > 0 ? { id: ownState.id, own: true } : undefined;
  }

  /** Pages every slot with unsaved tokens out to disk (unload, shutdown); the slots keep their conversations. */
  async saveAll(): Promise<void> {
    await this.lock.run(() => this.saveAllNow());
  }

  private async saveAllNow(): Promise<void> {
    for (const slot of this.slots) {
      if (slot.conversationId === undefined || !this.hasUnsavedTokens(slot)) continue;
      const saved = await this.store.save(slot.sequence, slot.conversationId);
      if (saved) slot.savedTokens = saved.tokens as Token[];
    }
  }

  /** Deletes every saved state; idle slots are emptied too, so nothing cached survives the clear. */
  async clear(): Promise<void> {
    await this.lock.run(async () => {
      for (const slot of this.slots) if (!slot.pinned) await this.empty(slot);
      await this.store.clear();
    });
  }

  private async empty(slot: Slot): Promise<void> {
    slot.conversationId = undefined;
    slot.savedTokens = undefined;
    if (slot.sequence.nextTokenIndex > 0) await slot.sequence.clearHistory();
  }
}

/** Prompt tokens the decode loop will keep: the shared prefix, less the last prompt token (always re-evaluated). */
function reusable(held: readonly Token[], promptTokens: readonly Token[]): number {
  return Math.max(0, Math.min(commonPrefixLength(held, promptTokens), promptTokens.length - 1));
}
