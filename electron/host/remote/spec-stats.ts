/**
 * A remote reply's speculative decoding, read from whatever the server exposes, in one type (RemoteSpeculation,
 * contracts/window/domain.ts). Each source, and where its field names were checked:
 *
 * - llama-server: the response's (or the stream's last chunk's) `timings.draft_n` and `timings.draft_n_accepted`.
 *   llama.cpp `tools/server/server-common.cpp` (`server_slot_stats::to_json`, the revision bundled with
 *   node-llama-cpp 3.21.1, commit 80fb11ac) writes them only `if (n_draft_tokens > 0)`: absent means nothing was
 *   drafted (no draft model, or none proposed), so it reads as unavailable, not as zero. It reports no verify-step
 *   count per request. Tandem's own API server writes the same object with `draft_n` always present, plus
 *   `verify_steps` and `speculator` ("off" when it did not speculate).
 * - vLLM per request: `metrics.speculative_decoding` (`num_draft_tokens`, `num_accepted_draft_tokens`,
 *   `num_spec_steps`, `draft_acceptance_rate`, `mean_acceptance_length`, …) on the response or the stream's last
 *   chunk, when the server runs with `--per-request-spec-decode-metrics summary|detailed` (vllm-project/vllm PR
 *   #48915; nightly builds from 0.27.2rc1.dev, not in 0.27.1).
 * - vLLM otherwise: the deltas of the Prometheus counters `vllm:spec_decode_num_drafts_total`,
 *   `vllm:spec_decode_num_draft_tokens_total` and `vllm:spec_decode_num_accepted_tokens_total` around the request
 *   (approximate when other requests ran meanwhile); llama-server's `/metrics` (with `--metrics`) has the same
 *   three under `llamacpp:` (server-task.cpp `to_metrics`).
 * - SGLang: `meta_info.spec_accept_rate`, `spec_accept_length` (completion tokens / verify steps, the bonus token
 *   included) and `spec_verify_ct`, with the counts under `spec_num_correct_drafts`/`spec_num_proposed_drafts`
 *   (older: `spec_accepted_drafts`/`spec_proposed_drafts`, `spec_accept_token_num`/`spec_draft_token_num`);
 *   sglang `tokenizer_manager` `_calculate_spec_decoding_metrics`, written only when `spec_verify_ct > 0`.
 */
import type { RemoteKind, RemoteSpeculation, RemoteSpeculationMeasured } from "../../../contracts/window/domain.js";
import type { RemoteFinalFields } from "./openai-client.js";
import { metricSum, type PrometheusSample } from "./prometheus.js";

type Fields = Record<string, unknown>;

const num = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);
const firstNum = (fields: Fields, ...keys: string[]): number | null => {
  for (const key of keys) {
    const value = num(fields[key]);
    if (value !== null) return value;
  }
  return null;
};

function measured(source: string, figures: Partial<Omit<RemoteSpeculationMeasured, "source">>): RemoteSpeculationMeasured {
  const drafted = figures.drafted ?? null;
  const accepted = figures.accepted ?? null;
  const draftSteps = figures.draftSteps ?? null;
  return {
    source,
    approximate: figures.approximate ?? false,
    drafted,
    accepted,
    draftSteps,
    acceptanceRate: figures.acceptanceRate ?? (drafted !== null && accepted !== null && drafted > 0 ? accepted / drafted : null),
    meanAcceptedLength: figures.meanAcceptedLength ?? (accepted !== null && draftSteps !== null && draftSteps > 0 ? 1 + accepted / draftSteps : null),
  };
}

/** llama-server's `timings` (and Tandem's, which add `verify_steps` and `speculator`). */
export function fromTimings(timings: Fields, kind: RemoteKind | null): RemoteSpeculation {
  const tandemStyle = typeof timings.speculator === "string";
  const source = kind === "llama-server" ? "llama-server timings" : tandemStyle ? "Tandem timings" : "server timings (llama-server format)";
  if (timings.speculator === "off") return { unavailable: "the server ran this reply without speculation (speculator: off)" };
  const drafted = num(timings.draft_n);
  if (drafted === null || (drafted === 0 && !tandemStyle)) {
    return {
      unavailable:
        "the server drafted nothing for this reply (llama-server writes timings.draft_n only when it drafted: no draft model or speculation set on the server, or none proposed)",
    };
  }
  return measured(source, { drafted, accepted: num(timings.draft_n_accepted), draftSteps: num(timings.verify_steps) });
}

/** vLLM's per-request `metrics.speculative_decoding`, or null when the response has none. */
export function fromVllmMetrics(metrics: Fields): RemoteSpeculation | null {
  const spec = metrics.speculative_decoding;
  if (!spec || typeof spec !== "object") return null;
  const s = spec as Fields;
  return measured("vLLM per-request metrics", {
    drafted: num(s.num_draft_tokens),
    accepted: num(s.num_accepted_draft_tokens),
    draftSteps: num(s.num_spec_steps),
    acceptanceRate: num(s.draft_acceptance_rate),
    meanAcceptedLength: num(s.mean_acceptance_length),
  });
}

/** SGLang's `meta_info` speculation fields, or null when it has none (SGLang writes them only after a verify step). */
export function fromSglangMetaInfo(meta: Fields): RemoteSpeculation | null {
  const steps = num(meta.spec_verify_ct);
  if (steps === null || steps === 0) return null;
  return measured("SGLang meta_info", {
    drafted: firstNum(meta, "spec_num_proposed_drafts", "spec_proposed_drafts", "spec_draft_token_num"),
    accepted: firstNum(meta, "spec_num_correct_drafts", "spec_accepted_drafts", "spec_accept_token_num"),
    draftSteps: steps,
    acceptanceRate: num(meta.spec_accept_rate),
    meanAcceptedLength: num(meta.spec_accept_length),
  });
}

/** Why a kind of server gave no per-response figures (the /metrics fallback, where there is one, comes after). */
export function unavailableReason(kind: RemoteKind | null): string {
  switch (kind) {
    case "vllm":
      return "vLLM reports per-request speculation only when started with --per-request-spec-decode-metrics, and its /metrics had no spec_decode counters that moved";
    case "sglang":
      return "SGLang sent no meta_info speculation fields (speculation off on the server, or not passed through its OpenAI endpoint)";
    case "llama-server":
      return "llama-server sent no draft counts in its timings (no draft model or speculation set on the server)";
    case "ollama":
      return "Ollama does not report speculative decoding";
    case "lmstudio":
      return "LM Studio's OpenAI endpoint does not report speculative decoding";
    default:
      return "the server reports no speculative decoding figures";
  }
}

/**
 * The speculation of one reply from the fields of its last chunks: vLLM's metrics, then SGLang's meta_info, then
 * llama-server-style timings; unavailable (with the reason) when none is there.
 */
export function speculationFromResponse(kind: RemoteKind | null, final: RemoteFinalFields): RemoteSpeculation {
  if (final.metrics) {
    const vllm = fromVllmMetrics(final.metrics);
    if (vllm) return vllm;
  }
  if (final.meta_info) {
    const sglang = fromSglangMetaInfo(final.meta_info);
    if (sglang) return sglang;
  }
  if (final.timings) {
    const timings = fromTimings(final.timings, kind);
    if (!("unavailable" in timings) || kind === "llama-server") return timings;
  }
  return { unavailable: unavailableReason(kind) };
}

/** The speculation counters of one /metrics scrape (vLLM's or llama-server's names), null where absent. */
export interface SpecCounters {
  /** Verify steps (vLLM: "drafts"). */
  drafts: number | null;
  draftTokens: number | null;
  accepted: number | null;
  /** Requests running at the scrape (vLLM `vllm:num_requests_running`, llama-server `llamacpp:requests_processing`). */
  running: number | null;
}

export function specCounters(samples: PrometheusSample[], prefix: "vllm" | "llamacpp", labels: Record<string, string> = {}): SpecCounters {
  return {
    drafts: metricSum(samples, `${prefix}:spec_decode_num_drafts_total`, labels),
    draftTokens: metricSum(samples, `${prefix}:spec_decode_num_draft_tokens_total`, labels),
    accepted: metricSum(samples, `${prefix}:spec_decode_num_accepted_tokens_total`, labels),
    running: metricSum(samples, prefix === "vllm" ? "vllm:num_requests_running" : "llamacpp:requests_processing", labels),
  };
}

/**
 * One request's speculation from the counters scraped before and after it. Approximate when the server was busy
 * with others (more than one request running at either scrape, or running before ours started), or when the
 * counters moved more than this reply could account for (more accepted drafts or verify steps than it has tokens).
 * `running` before the request counts others only; after it, ours may still be counted, so only > 1 tells.
 */
export function fromCounterDelta(
  before: SpecCounters,
  after: SpecCounters,
  options: { source: string; completionTokens: number | null },
): RemoteSpeculation {
  if (before.draftTokens === null || after.draftTokens === null || before.accepted === null || after.accepted === null) {
    return { unavailable: "the server's /metrics has no spec_decode counters (speculation is off on the server)" };
  }
  const draftTokens = after.draftTokens - before.draftTokens;
  const accepted = after.accepted - before.accepted;
  const drafts = before.drafts !== null && after.drafts !== null ? after.drafts - before.drafts : null;
  if (draftTokens < 0 || accepted < 0 || (drafts !== null && drafts < 0)) {
    return { unavailable: "the server's counters went backwards during the request (it restarted)" };
  }
  if (draftTokens === 0) return { unavailable: "the server's spec_decode counters did not move during the request" };
  const tokens = options.completionTokens;
  const tooMuch = tokens !== null && (accepted > tokens || (drafts !== null && drafts > tokens));
  // Running at the first scrape: others (ours had not started). At the second, ours may not be counted out yet:
  // only more than one is certainly someone else.
  const othersRunning = (before.running ?? 0) > 0 || (after.running ?? 0) > 1;
  return measured(options.source, { approximate: tooMuch || othersRunning, drafted: draftTokens, accepted, draftSteps: drafts });
}
