import type { CrashInfo, DownloadInfo, EngineStatus } from "../../contracts/window/index.js";
import type { GenerationStats, SpeculationMode, SpeculationStats, StopReason } from "../../contracts/engine/protocol.js";

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatRate(tokensPerSecond: number): string {
  return `${tokensPerSecond >= 100 ? Math.round(tokensPerSecond) : tokensPerSecond.toFixed(1)} tok/s`;
}

export const stopReasonLabel: Record<StopReason, string> = {
  eog: "finished",
  "max-tokens": "max tokens reached",
  "context-full": "context full",
  abort: "stopped",
};

/** The parts of a reply's stats line, in order. */
export function statsParts(stats: GenerationStats): string[] {
  const parts = [
    `${stats.tokens} ${stats.tokens === 1 ? "token" : "tokens"}`,
    formatRate(stats.tokensPerSecond),
    `${formatDuration(stats.timeToFirstTokenMs)} to first token`,
    formatDuration(stats.durationMs),
    stopReasonLabel[stats.stopReason] ?? stats.stopReason,
  ];
  if (stats.truncatedMessages > 0) {
    parts.push(`${stats.truncatedMessages} earlier ${stats.truncatedMessages === 1 ? "message" : "messages"} left out`);
  }
  return parts;
}

export function statsDetail(stats: GenerationStats): string {
  return [
    `Prompt: ${stats.promptTokens} tokens (${stats.reusedPromptTokens} reused, ${stats.evaluatedPromptTokens} evaluated)`,
    `Backend: ${stats.backend.toUpperCase()}, ${stats.threads} threads`,
    `Decode steps: ${stats.targetDecodes}`,
  ].join("\n");
}

/** How each speculation mode is named in menus. */
export const speculationModeLabel: Record<SpeculationMode, string> = {
  off: "Off",
  auto: "Auto",
  draft: "Draft model",
  lookup: "Prompt lookup",
  ngram: "Learned n-grams",
};

/** Speculators as named in a stats line. */
const speculatorLabel: Record<string, string> = { draft: "draft", lookup: "prompt lookup", ngram: "n-grams" };

function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

/** The speculators that drafted in a reply, most steps first (stepsBySpeculator also counts plain "off" steps). */
export function speculatorsUsed(spec: Pick<SpeculationStats, "stepsBySpeculator">): string[] {
  return Object.entries(spec.stepsBySpeculator)
    .filter(([name, steps]) => name in speculatorLabel && steps > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => speculatorLabel[name]);
}

/**
 * Extra tokens per step of the model (accepted draft tokens / target decodes), one rule wherever it is shown (the
 * reply's stats line, the metrics panel, the A/B table): "+0.03", "+1.25", "+12".
 */
export function formatPerStep(x: number): string {
  return `+${x >= 10 ? Math.round(x) : x.toFixed(2)}`;
}

/**
 * The speculation part of a reply's stats line: "63% accepted · +0.90 tokens/step · draft", "nothing drafted" when
 * nothing was proposed, or null when the reply did not speculate.
 */
export function speculationSummary(stats: GenerationStats): string | null {
  const spec = stats.speculation;
  if (!spec || spec.mode === "off") return null;
  if (spec.proposed <= 0) return "nothing drafted";
  const parts = [`${percent(spec.acceptanceRate)} accepted`, `${formatPerStep(spec.meanAcceptedPerStep)} tokens/step`];
  const used = speculatorsUsed(spec);
  if (used.length > 0) parts.push(used.join(" + "));
  return parts.join(" · ");
}

/** The tooltip of the speculation stats: the raw counts and where the time went. */
export function speculationDetail(stats: GenerationStats): string {
  const spec = stats.speculation;
  if (!spec) return "";
  if (spec.proposed <= 0) {
    return `Mode: ${speculationModeLabel[spec.mode]}. Nothing was drafted: guesses were not paying off, so the model decoded on its own.`;
  }
  return [
    `Mode: ${speculationModeLabel[spec.mode]}`,
    `Drafted tokens: ${spec.proposed} proposed = ${spec.accepted} accepted + ${spec.rejected} rejected`,
    `Verify steps (the model checking guesses): ${spec.verifySteps} of ${stats.targetDecodes} decodes · final draft length ${spec.finalDraftLength}`,
    `Time: draft ${formatDuration(spec.draftMs)} guessing, verify ${formatDuration(spec.verifyMs)} checking`,
  ].join("\n");
}

export function crashReasonText(crash: CrashInfo): string {
  switch (crash.processGone?.reason) {
    case "oom":
      return "ran out of memory";
    case "crashed":
      return `crashed (code ${crash.processGone.exitCode})`;
    case "killed":
      return "was killed";
    case "integrity-failure":
      return "failed its code integrity check";
    case "launch-failed":
      return "could not be launched";
  }
  switch (crash.reason) {
    case "exited":
      return crash.exitCode !== null ? `exited unexpectedly (code ${crash.exitCode})` : "exited unexpectedly";
    case "killed":
      return crash.signal ? `was killed (${crash.signal})` : "was killed";
    case "launch-failed":
      return "could not start";
    case "unresponsive":
      return "stopped responding";
    default:
      return "stopped";
  }
}

export const engineStateLabel: Record<EngineStatus["state"], string> = {
  starting: "Starting engine…",
  ready: "Ready",
  "loading-model": "Loading model…",
  restarting: "Restarting engine…",
  failed: "Engine failed",
  stopped: "Engine stopped",
};

export function backendLabel(backend: string): string {
  return backend === "cpu" ? "CPU" : backend === "cuda" ? "CUDA" : backend === "vulkan" ? "Vulkan" : backend === "metal" ? "Metal" : backend;
}

/** "Today", "Yesterday", "Previous 7 days", "Previous 30 days" or "Older". */
export function dateGroup(timestamp: number, now = Date.now()): string {
  const startOfToday = new Date(now);
  startOfToday.setHours(0, 0, 0, 0);
  const day = 24 * 60 * 60 * 1000;
  const t0 = startOfToday.getTime();
  if (timestamp >= t0) return "Today";
  if (timestamp >= t0 - day) return "Yesterday";
  if (timestamp >= t0 - 7 * day) return "Previous 7 days";
  if (timestamp >= t0 - 30 * day) return "Previous 30 days";
  return "Older";
}

export function fileNameOf(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** How the KV cache outcomes are named (the engine's names, and "cold" as what it costs: a full prefill). */
const cacheOutcomeLabels: Record<string, string> = {
  slothit: "slot hit",
  diskrestore: "disk restore",
  prefixreuse: "prefix reuse",
  reprefill: "re-prefill",
  cold: "re-prefill",
};

/**
 * The cache outcome of a reply ("slot hit", "disk restore", "prefix reuse", "re-prefill"), or null when its stats
 * carry none (stats from before the paged cache). Read defensively: the field is optional and may be absent.
 */
export function cacheOutcome(stats: GenerationStats): string | null {
  const outcome = (stats as { cache?: { outcome?: unknown } }).cache?.outcome;
  if (typeof outcome !== "string" || !outcome) return null;
  const key = outcome.toLowerCase().replace(/[^a-z]/g, "");
  return cacheOutcomeLabels[key] ?? outcome.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[-_]+/g, " ").toLowerCase();
}

/** What each cache outcome means, in plain words (the labels are the engine's terms). */
const cacheOutcomeMeanings: Record<string, string> = {
  "slot hit": "the conversation was still in memory, so the model did not read it again",
  "disk restore": "the conversation's saved state was loaded from disk instead of reading it again",
  "prefix reuse": "a saved conversation with the same beginning was loaded, and only the rest was read",
  "re-prefill": "the model read the whole conversation again (it was no longer in memory or on disk)",
};

/** The tooltip of the cache outcome: what it means, how many prompt tokens were restored and what it cost. */
export function cacheDetail(stats: GenerationStats): string {
  const cache = (stats as { cache?: { restoredTokens?: unknown; restoreMs?: unknown } }).cache;
  const label = cacheOutcome(stats);
  const meaning = label ? cacheOutcomeMeanings[label] : undefined;
  const parts = [`Conversation cache: ${label ?? "unknown"}${meaning ? ` — ${meaning}` : ""}`];
  if (typeof cache?.restoredTokens === "number") parts.push(`${cache.restoredTokens} prompt tokens already in the context`);
  if (typeof cache?.restoreMs === "number" && cache.restoreMs > 0) parts.push(`restored in ${formatDuration(cache.restoreMs)}`);
  return parts.join("\n");
}

export function formatPercent(rate: number | null): string {
  return rate === null ? "–" : `${Number((rate * 100).toFixed(1))}%`;
}

export { speculatorLabel };

const DOWNLOAD_STATE_LABEL: Record<DownloadInfo["state"], string> = {
  queued: "Queued",
  downloading: "Downloading",
  paused: "Paused",
  verifying: "Verifying",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** How much of a download has arrived (0..1), or null while its size is unknown. */
export function downloadFraction(info: DownloadInfo): number | null {
  return info.totalBytes ? Math.min(1, info.receivedBytes / info.totalBytes) : null;
}

/** "Downloading · 42%", "Paused · 10%", "Done" (`doneLabel` renames the finished state where "Done" reads oddly). */
export function downloadStateText(info: DownloadInfo, doneLabel = DOWNLOAD_STATE_LABEL.done): string {
  const fraction = downloadFraction(info);
  const label = info.state === "done" ? doneLabel : DOWNLOAD_STATE_LABEL[info.state];
  return fraction !== null && info.state !== "done" ? `${label} · ${Math.floor(fraction * 100)}%` : label;
}
