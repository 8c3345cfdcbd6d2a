/** The Settings form's state (numbers kept as typed text) and its validation into a settings patch. */
import { Settings as SettingsSchema, type Settings } from "../../../../contracts/window/window-api.js";

export type Field =
  | "systemPrompt"
  | "temperature"
  | "maxTokens"
  | "contextSize"
  | "gpu"
  | "threads"
  | "theme"
  | "speculation"
  | "maxDraftTokens"
  | "cacheSlots"
  | "cacheDiskBudgetGB";
export type Errors = Partial<Record<Field, string>>;

export interface Draft {
  systemPrompt: string;
  temperature: string;
  maxTokens: string;
  contextAuto: boolean;
  contextSize: string;
  gpu: Settings["gpu"];
  threadsAuto: boolean;
  threads: string;
  theme: Settings["theme"];
  speculation: Settings["speculation"];
  maxDraftTokens: string;
  cacheSlotsAuto: boolean;
  cacheSlots: string;
  cacheDiskBudgetGB: string;
}

export function toDraft(s: Settings): Draft {
  return {
    systemPrompt: s.systemPrompt,
    temperature: String(s.temperature),
    maxTokens: String(s.maxTokens),
    contextAuto: s.contextSize === "auto",
    contextSize: s.contextSize === "auto" ? "4096" : String(s.contextSize),
    gpu: s.gpu,
    threadsAuto: s.threads === "auto",
    threads: s.threads === "auto" ? "4" : String(s.threads),
    theme: s.theme,
    speculation: s.speculation,
    maxDraftTokens: String(s.maxDraftTokens),
    cacheSlotsAuto: s.cacheSlots === "auto",
    cacheSlots: s.cacheSlots === "auto" ? "2" : String(s.cacheSlots),
    cacheDiskBudgetGB: String(s.cacheDiskBudgetGB),
  };
}

function parseNumber(text: string): number | null {
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function intInRange(text: string, min: number, max: number, what: string): { value?: number; error?: string } {
  const n = parseNumber(text);
  if (n === null || !Number.isInteger(n)) return { error: `${what} must be a whole number.` };
  if (n < min || n > max) return { error: `${what} must be between ${min.toLocaleString("en")} and ${max.toLocaleString("en")}.` };
  return { value: n };
}

/** Validates the form; returns the patch to save or the errors to show. */
export function validateDraft(d: Draft): { patch?: Partial<Settings>; errors: Errors } {
  const errors: Errors = {};
  const patch: Partial<Settings> = { systemPrompt: d.systemPrompt, gpu: d.gpu, theme: d.theme, speculation: d.speculation };
  if (d.systemPrompt.length > 100_000) errors.systemPrompt = "The system prompt is too long (100,000 characters at most).";
  const temperature = parseNumber(d.temperature);
  if (temperature === null || temperature < 0 || temperature > 2) errors.temperature = "Temperature must be between 0 and 2.";
  else patch.temperature = temperature;
  const maxTokens = intInRange(d.maxTokens, 1, 32_768, "Max tokens");
  if (maxTokens.error) errors.maxTokens = maxTokens.error;
  else patch.maxTokens = maxTokens.value;
  if (d.contextAuto) patch.contextSize = "auto";
  else {
    const ctx = intInRange(d.contextSize, 16, 1_048_576, "Context size");
    if (ctx.error) errors.contextSize = ctx.error;
    else patch.contextSize = ctx.value;
  }
  if (d.threadsAuto) patch.threads = "auto";
  else {
    const threads = intInRange(d.threads, 1, 256, "Threads");
    if (threads.error) errors.threads = threads.error;
    else patch.threads = threads.value;
  }
  const maxDraftTokens = intInRange(d.maxDraftTokens, 1, 32, "Max draft tokens");
  if (maxDraftTokens.error) errors.maxDraftTokens = maxDraftTokens.error;
  else patch.maxDraftTokens = maxDraftTokens.value;
  if (d.cacheSlotsAuto) patch.cacheSlots = "auto";
  else {
    const slots = intInRange(d.cacheSlots, 1, 16, "Slots");
    if (slots.error) errors.cacheSlots = slots.error;
    else patch.cacheSlots = slots.value;
  }
  const budget = parseNumber(d.cacheDiskBudgetGB);
  if (budget === null || budget < 0.1 || budget > 1000) errors.cacheDiskBudgetGB = "The disk budget must be between 0.1 and 1,000 GB.";
  else patch.cacheDiskBudgetGB = budget;
  if (Object.keys(errors).length > 0) return { errors };
  // The contract's own schema has the last word.
  const checked = SettingsSchema.partial().strict().safeParse(patch);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const key = issue.path[0] as Field | undefined;
      if (key) errors[key] = issue.message;
    }
    return { errors };
  }
  return { patch, errors };
}

/** What every section of the form gets: the ids' prefix, the draft, its errors and the setter of one field. */
export interface SectionProps {
  id: string;
  draft: Draft;
  errors: Errors;
  set: <K extends keyof Draft>(key: K, value: Draft[K]) => void;
}
