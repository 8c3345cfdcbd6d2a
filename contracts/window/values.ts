/**
 * The window contract's limits without zod: domain.ts builds the Settings schema from them and the renderer's
 * settings form checks its fields against the same numbers (the host's validation of updateSettings is the
 * authority; the form only says early what the host would refuse).
 */
import { ENGINE_LIMITS } from "../engine/values.js";

export const SETTINGS_LIMITS = {
  ...ENGINE_LIMITS,
  systemPromptLength: 100_000,
  temperature: { min: 0, max: 2 },
  maxTokens: { min: 1, max: 32_768 },
  cacheDiskBudgetGB: { min: 0.1, max: 1000 },
  extraModelsFolders: 32,
  apiServerPort: { min: 0, max: 65_535 },
  apiServerCorsOrigins: 32,
  apiServerMaxQueue: { min: 0, max: 1024 },
  apiServerKeyLength: { min: 8, max: 500 },
} as const;

/** Around each matched word in a search result's snippet (Conversation.match): control characters no text contains. */
export const MATCH_START = "\u0002";
export const MATCH_END = "\u0003";
