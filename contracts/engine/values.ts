/**
 * The engine protocol's value lists, limits and defaults without zod: protocol.ts builds its schemas from them,
 * and the renderer (which imports the contracts as types only) may import these at run time.
 */

/** How a reply is speculated: plainly, or with one speculator, or `auto` choosing per step. */
export const SPECULATION_MODES = ["off", "draft", "lookup", "ngram", "auto"] as const;
export type SpeculationModeValue = (typeof SPECULATION_MODES)[number];

export function isSpeculationMode(value: string): value is SpeculationModeValue {
  return (SPECULATION_MODES as readonly string[]).includes(value);
}

/** Inclusive limits of the engine's numeric settings (the schemas' min/max). */
export const ENGINE_LIMITS = {
  threads: { min: 1, max: 256 },
  contextSize: { min: 16, max: 1_048_576 },
  cacheSlots: { min: 1, max: 16 },
  maxDraftTokens: { min: 1, max: 32 },
} as const;

/** The upper bound on a draft's length when nobody sets one; the engine picks k <= this from measured costs. */
export const DEFAULT_MAX_DRAFT_TOKENS = 8;

/** The disk budget of saved conversation states when nobody sets one: the Settings default and the engine's. */
export const DEFAULT_CACHE_DISK_BUDGET_GB = 2;

/** A disk budget in GB (binary: the unit of Settings.cacheDiskBudgetGB) as the bytes the engine counts. */
export const cacheDiskBudgetBytes = (gb: number): number => Math.round(gb * 1024 ** 3);

/** DEFAULT_CACHE_DISK_BUDGET_GB in bytes: loadModel's default, and what the cache reports before a model is loaded. */
export const DEFAULT_CACHE_DISK_BUDGET_BYTES = cacheDiskBudgetBytes(DEFAULT_CACHE_DISK_BUDGET_GB);
