/** Words for remote engines: server kinds, a connection's last test, and what a server reported about speculation. */
import type { RemoteConnectionView, RemoteKind, RemoteReplyStats, RemoteSpeculation } from "../../contracts/window/index.js";

export const REMOTE_KIND_LABELS: Record<RemoteKind, string> = {
  vllm: "vLLM",
  sglang: "SGLang",
  "llama-server": "llama.cpp server",
  ollama: "Ollama",
  lmstudio: "LM Studio",
  openai: "OpenAI-compatible",
};

/** "Connected: 3 models (vLLM 0.27.1)", the failure in plain words, or "Not tested yet". */
export function connectionTestLine(connection: RemoteConnectionView): string {
  const test = connection.test;
  if (!test) return "Not tested yet";
  return test.message;
}

/** One line per figure a server reported, labelled with its source; the reason when it reported nothing. */
export function remoteSpeculationLines(speculation: RemoteSpeculation): { measured: boolean; lines: string[]; source: string } {
  if ("unavailable" in speculation) return { measured: false, lines: [speculation.unavailable], source: "" };
  const lines: string[] = [];
  if (speculation.drafted !== null) lines.push(`Drafted ${speculation.drafted} tokens`);
  if (speculation.accepted !== null) lines.push(`Kept ${speculation.accepted}${speculation.drafted ? ` (${Math.round((speculation.accepted / speculation.drafted) * 100)}%)` : ""}`);
  else if (speculation.acceptanceRate !== null) lines.push(`Kept ${Math.round(speculation.acceptanceRate * 100)}% of drafted tokens`);
  if (speculation.draftSteps !== null) lines.push(`${speculation.draftSteps} verify steps`);
  if (speculation.meanAcceptedLength !== null) lines.push(`${speculation.meanAcceptedLength.toFixed(2)} tokens per verify step`);
  return { measured: true, lines, source: `${speculation.source}${speculation.approximate ? " (approximate: other requests ran at the same time)" : ""}` };
}

/** A remote reply's line under the message: tokens, speed, and the server's acceptance when it reported it. */
export function remoteStatsLine(stats: RemoteReplyStats): string {
  const parts = [`${stats.tokens} tokens`];
  if (stats.tokensPerSecond > 0) parts.push(`${stats.tokensPerSecond.toFixed(1)} tok/s`);
  const spec = stats.speculation;
  if (!("unavailable" in spec) && spec.accepted !== null && spec.drafted) parts.push(`server kept ${spec.accepted}/${spec.drafted} drafted`);
  return parts.join(" · ");
}
