/** The Settings form's state (numbers kept as typed text) and its validation into a settings patch. */
import type { Settings } from "../../../../contracts/window/domain.js";
import { SETTINGS_LIMITS as L } from "../../../../contracts/window/values.js";

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
  | "cacheDiskBudgetGB"
  | "apiHost"
  | "apiPort"
  | "apiCorsOrigins"
  | "apiMaxQueue";
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
  apiEnabled: boolean;
  apiHost: string;
  apiPort: string;
  /** The CORS origins as typed: one per line, or separated by commas. */
  apiCorsOrigins: string;
  apiKeepConversations: boolean;
  apiMaxQueue: string;
}

export function toDraft(s: Settings): Draft {
  return {
    systemPrompt: s.systemPrompt,
    temperature: String(s.temperature),
    maxTokens: String(s.maxTokens),
    contextAuto: s.contextSize === "auto",
    contextSize: s.contextSize === "auto" ? "" : String(s.contextSize),
    gpu: s.gpu,
    threadsAuto: s.threads === "auto",
    threads: s.threads === "auto" ? "" : String(s.threads),
    theme: s.theme,
    speculation: s.speculation,
    maxDraftTokens: String(s.maxDraftTokens),
    cacheSlotsAuto: s.cacheSlots === "auto",
    cacheSlots: s.cacheSlots === "auto" ? "" : String(s.cacheSlots),
    cacheDiskBudgetGB: String(s.cacheDiskBudgetGB),
    apiEnabled: s.apiServer.enabled,
    apiHost: s.apiServer.host,
    apiPort: String(s.apiServer.port),
    apiCorsOrigins: s.apiServer.corsOrigins.join("\n"),
    apiKeepConversations: s.apiServer.keepConversations,
    apiMaxQueue: String(s.apiServer.maxQueue),
  };
}

/** Whether the API server's address stays on this computer (what the host lets listen without a key). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The CORS origins typed one per line or separated by commas: trimmed, without a trailing "/", each once. */
export function parseOrigins(text: string): string[] {
  const origins = text
    .split(/[\n,]/)
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter((o) => o !== "");
  return [...new Set(origins)];
}

/** What a browser sends as its Origin: scheme, host and maybe a port, nothing after (or "*": any page). */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+$/i;

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
  if (d.systemPrompt.length > L.systemPromptLength) errors.systemPrompt = `The system prompt is too long (${L.systemPromptLength.toLocaleString("en")} characters at most).`;
  const temperature = parseNumber(d.temperature);
  if (temperature === null || temperature < L.temperature.min || temperature > L.temperature.max) errors.temperature = `Temperature must be between ${L.temperature.min} and ${L.temperature.max}.`;
  else patch.temperature = temperature;
  const maxTokens = intInRange(d.maxTokens, L.maxTokens.min, L.maxTokens.max, "Max tokens");
  if (maxTokens.error) errors.maxTokens = maxTokens.error;
  else patch.maxTokens = maxTokens.value;
  if (d.contextAuto) patch.contextSize = "auto";
  else {
    const ctx = intInRange(d.contextSize, L.contextSize.min, L.contextSize.max, "Context size");
    if (ctx.error) errors.contextSize = ctx.error;
    else patch.contextSize = ctx.value;
  }
  if (d.threadsAuto) patch.threads = "auto";
  else {
    const threads = intInRange(d.threads, L.threads.min, L.threads.max, "Threads");
    if (threads.error) errors.threads = threads.error;
    else patch.threads = threads.value;
  }
  const maxDraftTokens = intInRange(d.maxDraftTokens, L.maxDraftTokens.min, L.maxDraftTokens.max, "Max draft tokens");
  if (maxDraftTokens.error) errors.maxDraftTokens = maxDraftTokens.error;
  else patch.maxDraftTokens = maxDraftTokens.value;
  if (d.cacheSlotsAuto) patch.cacheSlots = "auto";
  else {
    const slots = intInRange(d.cacheSlots, L.cacheSlots.min, L.cacheSlots.max, "Slots");
    if (slots.error) errors.cacheSlots = slots.error;
    else patch.cacheSlots = slots.value;
  }
  const budget = parseNumber(d.cacheDiskBudgetGB);
  if (budget === null || budget < L.cacheDiskBudgetGB.min || budget > L.cacheDiskBudgetGB.max) {
    errors.cacheDiskBudgetGB = `The disk budget must be between ${L.cacheDiskBudgetGB.min} and ${L.cacheDiskBudgetGB.max.toLocaleString("en")} GB.`;
  }
  else patch.cacheDiskBudgetGB = budget;
  const api = validateApiServer(d, errors);
  if (api) patch.apiServer = api;
  if (Object.keys(errors).length > 0) return { errors };
  // The host validates the patch against the contract (once, at its edge); these checks use the same limits.
  return { patch, errors };
}

/** The API server's fields, as the whole object the host expects (a partial apiServer is refused). */
function validateApiServer(d: Draft, errors: Errors): Settings["apiServer"] | undefined {
  const host = d.apiHost.trim();
  if (host === "") errors.apiHost = "Enter an address to listen on, e.g. 127.0.0.1.";
  else if (host.length > 255 || /[\s/]/.test(host)) errors.apiHost = "Enter only an address, e.g. 127.0.0.1 or 0.0.0.0 (no http:// and no path).";
  const port = intInRange(d.apiPort, L.apiServerPort.min, L.apiServerPort.max, "The port");
  if (port.error) errors.apiPort = port.error;
  const maxQueue = intInRange(d.apiMaxQueue, L.apiServerMaxQueue.min, L.apiServerMaxQueue.max, "The queue length");
  if (maxQueue.error) errors.apiMaxQueue = maxQueue.error;
  const corsOrigins = parseOrigins(d.apiCorsOrigins);
  const bad = corsOrigins.find((o) => o !== "*" && (o.length > 500 || !ORIGIN.test(o)));
  if (bad !== undefined) errors.apiCorsOrigins = `"${bad.length > 60 ? `${bad.slice(0, 60)}…` : bad}" is not an origin: write it like http://localhost:3000 (no path), or * for any page.`;
  else if (corsOrigins.length > L.apiServerCorsOrigins) errors.apiCorsOrigins = `At most ${L.apiServerCorsOrigins} origins.`;
  if (errors.apiHost || port.error || maxQueue.error || errors.apiCorsOrigins) return undefined;
  return { enabled: d.apiEnabled, host, port: port.value!, corsOrigins, keepConversations: d.apiKeepConversations, maxQueue: maxQueue.value! };
}

/** What every section of the form gets: the ids' prefix, the draft, its errors and the setter of one field. */
export interface SectionProps {
  id: string;
  draft: Draft;
  errors: Errors;
  set: <K extends keyof Draft>(key: K, value: Draft[K]) => void;
}
