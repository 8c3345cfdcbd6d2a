/** How the API server's status reads in the status bar and in Settings, and the curl example Settings shows. */
import type { ApiServerStatus } from "../../contracts/window/index.js";

/** The status bar's words while running: "API :11435", "12 requests", then "1 running", "2 waiting" when not 0. */
export function apiServerParts(status: ApiServerStatus): string[] {
  const parts = [`API :${status.port}`, `${status.requests.toLocaleString("en")} ${status.requests === 1 ? "request" : "requests"}`];
  if (status.running > 0) parts.push(`${status.running.toLocaleString("en")} running`);
  if (status.waiting > 0) parts.push(`${status.waiting.toLocaleString("en")} waiting`);
  return parts;
}

/** The status bar's tooltip: where clients connect, and the counts in full. */
export function apiServerTitle(status: ApiServerStatus): string {
  if (status.state === "error") return `The API server is not running: ${status.error ?? "it failed to start."}`;
  if (status.state === "starting") return "The API server is starting…";
  const lines = [`API server at ${status.baseUrl ?? `port ${status.port}`}`];
  lines.push(`${status.requests.toLocaleString("en")} ${status.requests === 1 ? "request" : "requests"} answered since it started`);
  if (status.running > 0 || status.waiting > 0) lines.push(`${status.running} at the engine, ${status.waiting} waiting`);
  return lines.join("\n");
}

export const apiServerStateLabel: Record<ApiServerStatus["state"], string> = {
  off: "Off",
  starting: "Starting…",
  running: "Running",
  error: "Not running",
};

/** A single-quoted shell word. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A curl call of /v1/chat/completions (the key's header only when a key is set, read from $TANDEM_API_KEY). */
export function curlExample(baseUrl: string, modelId: string, keySet: boolean): string {
  const body = JSON.stringify({ model: modelId, messages: [{ role: "user", content: "Hello!" }] });
  return [
    `curl ${baseUrl}/chat/completions`,
    `  -H "Content-Type: application/json"`,
    ...(keySet ? [`  -H "Authorization: Bearer $TANDEM_API_KEY"`] : []),
    `  -d ${shellQuote(body)}`,
  ].join(" \\\n");
}

/**
 * How many of `widths` (the widths of the texts showing 1, 2, … parts) fit in `available` pixels: the most that fit,
 * at least 1 (which is then clipped). No layout (tests, a hidden window): all of them.
 */
export function partsThatFit(widths: readonly number[], available: number): number {
  if (widths.length === 0) return 0;
  if (available <= 0 && widths.every((w) => w === 0)) return widths.length;
  let count = 1;
  for (let i = 0; i < widths.length; i++) if (widths[i]! <= available + 0.5) count = i + 1;
  return count;
}
