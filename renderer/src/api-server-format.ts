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
  // Spaced like the README's example, so a narrow box wraps it between fields.
  const body = `{"model": ${JSON.stringify(modelId)}, "messages": [{"role": "user", "content": "Hello!"}]}`;
  return [
    `curl ${baseUrl}/chat/completions`,
    `  -H "Content-Type: application/json"`,
    ...(keySet ? [`  -H "Authorization: Bearer $TANDEM_API_KEY"`] : []),
    `  -d ${shellQuote(body)}`,
  ].join(" \\\n");
}
