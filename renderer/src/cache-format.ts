/** How the conversation cache is described in the status bar and in settings. */
import type { CacheInfo, CacheOutcome, GenerationStats } from "../../contracts/engine/protocol.js";
import { formatBytes, formatDuration } from "./format.js";

/** How the KV cache served one turn's prompt (from the live `cacheOutcome` event, or a stored reply's stats). */
export interface CacheTurn {
  outcome: CacheOutcome;
  /** Prompt tokens already in the context (not evaluated again). */
  restoredTokens: number;
  /** Prompt tokens evaluated this turn. */
  evaluatedTokens: number;
  /** From the request to the prompt evaluated. */
  ms: number;
}

/** A stored reply's cache outcome, in the event's terms (null for replies from before the paged cache). */
export function cacheTurnFromStats(stats: GenerationStats | null | undefined): CacheTurn | null {
  if (!stats?.cache) return null;
  return {
    outcome: stats.cache.outcome,
    restoredTokens: stats.cache.restoredTokens,
    evaluatedTokens: stats.evaluatedPromptTokens,
    ms: stats.timeToFirstTokenMs,
  };
}

const tokens = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "token" : "tokens"}`;

/** "⚡ slot hit · 12 ms", "disk restore · 7 ms", "prefix reuse · 40 tokens", "re-prefill · 180 tokens · 95 ms". */
export function cacheTurnSummary(turn: CacheTurn): string {
  switch (turn.outcome) {
    case "slot-hit":
      return `⚡ slot hit · ${formatDuration(turn.ms)}`;
    case "disk-restore":
      return `disk restore · ${formatDuration(turn.ms)}`;
    case "prefix-reuse":
      return `prefix reuse · ${tokens(turn.restoredTokens)}`;
    case "cold":
      return `re-prefill · ${tokens(turn.evaluatedTokens)} · ${formatDuration(turn.ms)}`;
  }
}

const outcomeMeaning: Record<CacheOutcome, string> = {
  "slot-hit": "the conversation was still in memory",
  "disk-restore": "the conversation's saved state was loaded from disk",
  "prefix-reuse": "another conversation's saved state with the same opening was loaded",
  cold: "the conversation was read again from its text",
};

export function cacheTurnDetail(turn: CacheTurn): string {
  return [
    `Conversation cache: ${outcomeMeaning[turn.outcome]}`,
    `${tokens(turn.restoredTokens)} of the prompt reused, ${tokens(turn.evaluatedTokens)} evaluated`,
    `Prompt ready in ${formatDuration(turn.ms)}`,
  ].join("\n");
}

export function slotsText(slots: number): string {
  return `${slots} ${slots === 1 ? "slot" : "slots"}`;
}

/** "96 MB on disk" with a tooltip naming states, budget and slots. */
export function cacheDiskSummary(cache: CacheInfo): { text: string; detail: string } {
  return {
    text: `cache ${formatBytes(cache.diskBytes)}`,
    detail: [
      `Conversation cache: ${cache.diskStates} saved ${cache.diskStates === 1 ? "conversation" : "conversations"}, ${formatBytes(cache.diskBytes)} of ${formatBytes(cache.diskBudgetBytes)} on disk`,
      `${slotsText(cache.slots)} in memory (${cache.slotsInUse} in use)${cache.memoryBytes > 0 ? `, about ${formatBytes(cache.memoryBytes)}` : ""}`,
    ].join("\n"),
  };
}
