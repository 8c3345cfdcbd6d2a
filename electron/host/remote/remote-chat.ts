/**
 * One chat reply through a remote engine with its speculation measured: the stream (openai-client.ts), then the
 * figures from the reply's own fields (spec-stats.ts), and for vLLM without per-request metrics the deltas of its
 * /metrics counters scraped around the request. The window's chat routing and the CLI both call this.
 */
import type { RemoteKind, RemoteSpeculation } from "../../../contracts/window/domain.js";
import { RemoteError } from "./errors.js";
import type { OpenAiClient, StreamChatRequest, StreamChatResult } from "./openai-client.js";
import { parsePrometheus } from "./prometheus.js";
import { fromCounterDelta, specCounters, speculationFromResponse, unavailableReason, type SpecCounters } from "./spec-stats.js";

export interface RemoteChatResult extends StreamChatResult {
  speculation: RemoteSpeculation;
}

/** The figures local chat reports (GenerationStats' names), computed the same way from a remote reply. */
export interface RemoteReplyStats {
  tokens: number;
  /** Decode speed after the first token, as the engine computes it: (tokens - 1) / seconds after the first. */
  tokensPerSecond: number;
  timeToFirstTokenMs: number | null;
  /** "eog" for finish_reason "stop", "max-tokens" for "length", else the server's own word. */
  stopReason: string;
  promptTokens: number | null;
}

const METRICS_TIMEOUT_MS = 5_000;

async function scrape(client: OpenAiClient, signal?: AbortSignal): Promise<SpecCounters | null> {
  try {
    const answer = await client.get("/metrics", { timeoutMs: METRICS_TIMEOUT_MS, signal });
    return answer.ok ? specCounters(parsePrometheus(answer.body), "vllm") : null;
  } catch (error) {
    if (error instanceof RemoteError && error.code === "aborted") throw error;
    return null;
  }
}

export async function remoteChat(
  client: OpenAiClient,
  kind: RemoteKind | null,
  request: StreamChatRequest,
  onDelta: (text: string) => void,
): Promise<RemoteChatResult> {
  // vLLM's counters are read before the request in case the reply carries no per-request metrics.
  const before = kind === "vllm" ? await scrape(client, request.signal) : null;
  const result = await client.streamChat(request, onDelta);
  let speculation = speculationFromResponse(kind, result.final);
  if ("unavailable" in speculation && kind === "vllm") {
    const after = before ? await scrape(client, request.signal).catch(() => null) : null;
    if (before && after) {
      const delta = fromCounterDelta(before, after, { source: "vLLM /metrics counters", completionTokens: result.usage?.completionTokens ?? null });
      speculation = "unavailable" in delta ? { unavailable: `${unavailableReason(kind)} (${delta.unavailable})` } : delta;
    }
  }
  return { ...result, speculation };
}

export function replyStats(result: StreamChatResult): RemoteReplyStats {
  const timings = result.final.timings ?? {};
  const predicted = typeof timings.predicted_n === "number" ? timings.predicted_n : null;
  const tokens = result.usage?.completionTokens ?? predicted ?? result.deltas;
  const ttft = result.timeToFirstTokenMs;
  const decodeSeconds = ttft === null ? 0 : (result.durationMs - ttft) / 1000;
  const stopReason = result.finishReason === "stop" ? "eog" : result.finishReason === "length" ? "max-tokens" : (result.finishReason ?? "unknown");
  return {
    tokens,
    tokensPerSecond: tokens > 1 && decodeSeconds > 0 ? Math.round(((tokens - 1) / decodeSeconds) * 10) / 10 : 0,
    timeToFirstTokenMs: ttft === null ? null : Math.round(ttft),
    stopReason,
    promptTokens: result.usage?.promptTokens ?? null,
  };
}
