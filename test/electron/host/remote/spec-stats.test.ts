/**
 * Speculation figures from each server's recorded format (fixtures/, each naming its version): llama-server
 * timings, vLLM per-request metrics and /metrics counter deltas (approximate when others ran), SGLang meta_info;
 * unavailable (never zeros) when a server exposes nothing.
 */
import { describe, expect, it } from "vitest";
import { parsePrometheus } from "../../../../electron/host/remote/prometheus.js";
import {
  fromCounterDelta,
  fromSglangMetaInfo,
  fromTimings,
  fromVllmMetrics,
  specCounters,
  speculationFromResponse,
} from "../../../../electron/host/remote/spec-stats.js";
import * as sglang from "./fixtures/sglang.js";
import * as vllm from "./fixtures/vllm.js";

const counters = (c: { drafts: number; draftTokens: number; accepted: number; running: number }) => specCounters(parsePrometheus(vllm.metrics(c)), "vllm");

describe("llama-server timings", () => {
  it("reads draft_n and draft_n_accepted; no verify-step count", () => {
    expect(fromTimings({ predicted_n: 24, draft_n: 30, draft_n_accepted: 18 }, "llama-server")).toEqual({
      source: "llama-server timings",
      approximate: false,
      drafted: 30,
      accepted: 18,
      draftSteps: null,
      acceptanceRate: 0.6,
      meanAcceptedLength: null,
    });
  });

  it("is unavailable, not zero, when llama-server wrote no draft_n (it writes it only after drafting)", () => {
    const result = fromTimings({ predicted_n: 24, predicted_ms: 50 }, "llama-server");
    expect(result).toMatchObject({ unavailable: expect.stringMatching(/drafted nothing/) });
  });

  it("reads Tandem's timings: verify_steps gives the mean accepted length; speculator off is unavailable", () => {
    expect(fromTimings({ draft_n: 40, draft_n_accepted: 30, verify_steps: 10, speculator: "draft" }, "openai")).toMatchObject({
      source: "Tandem timings",
      drafted: 40,
      accepted: 30,
      draftSteps: 10,
      acceptanceRate: 0.75,
      meanAcceptedLength: 4,
    });
    expect(fromTimings({ draft_n: 0, draft_n_accepted: 0, verify_steps: 0, speculator: "off" }, "openai")).toHaveProperty("unavailable");
    // Tandem speculating and drafting nothing is a measured zero.
    expect(fromTimings({ draft_n: 0, draft_n_accepted: 0, verify_steps: 0, speculator: "lookup" }, "openai")).toMatchObject({ drafted: 0, acceptanceRate: null });
  });
});

describe(`vLLM ${vllm.VLLM_VERSION}`, () => {
  it("per-request metrics.speculative_decoding (--per-request-spec-decode-metrics)", () => {
    expect(fromVllmMetrics({ speculative_decoding: vllm.specSummary })).toEqual({
      source: "vLLM per-request metrics",
      approximate: false,
      drafted: 129,
      accepted: 10,
      draftSteps: 43,
      acceptanceRate: vllm.specSummary.draft_acceptance_rate,
      meanAcceptedLength: vllm.specSummary.mean_acceptance_length,
    });
    expect(fromVllmMetrics({ time_to_first_token_ms: 85 })).toBeNull();
  });

  it("the /metrics counters' deltas around one request on an idle server: exact", () => {
    const before = counters({ drafts: 120, draftTokens: 360, accepted: 250, running: 0 });
    const after = counters({ drafts: 140, draftTokens: 420, accepted: 290, running: 0 });
    expect(fromCounterDelta(before, after, { source: "vLLM /metrics counters", completionTokens: 60 })).toEqual({
      source: "vLLM /metrics counters",
      approximate: false,
      drafted: 60,
      accepted: 40,
      draftSteps: 20,
      acceptanceRate: 40 / 60,
      meanAcceptedLength: 3,
    });
  });

  it("marks the deltas approximate when other requests ran, or the counters moved more than this reply could", () => {
    const before = counters({ drafts: 120, draftTokens: 360, accepted: 250, running: 0 });
    const after = counters({ drafts: 140, draftTokens: 420, accepted: 290, running: 0 });
    const busyBefore = counters({ drafts: 120, draftTokens: 360, accepted: 250, running: 1 });
    const busyAfter = counters({ drafts: 140, draftTokens: 420, accepted: 290, running: 2 });
    const ours = { source: "vLLM /metrics counters", completionTokens: 60 };
    expect(fromCounterDelta(busyBefore, after, ours)).toMatchObject({ approximate: true });
    expect(fromCounterDelta(before, busyAfter, ours)).toMatchObject({ approximate: true });
    // Our request may still be counted as running at the second scrape: one is not proof of others.
    expect(fromCounterDelta(before, counters({ drafts: 140, draftTokens: 420, accepted: 290, running: 1 }), ours)).toMatchObject({ approximate: false });
    // 40 accepted drafts cannot come from a 30-token reply.
    expect(fromCounterDelta(before, after, { ...ours, completionTokens: 30 })).toMatchObject({ approximate: true, accepted: 40 });
  });

  it("no counters, counters that did not move, or went backwards: unavailable", () => {
    const none = specCounters(parsePrometheus("vllm:num_requests_running 0\n"), "vllm");
    const some = counters({ drafts: 1, draftTokens: 3, accepted: 2, running: 0 });
    expect(fromCounterDelta(none, none, { source: "s", completionTokens: 5 })).toMatchObject({ unavailable: expect.stringMatching(/no spec_decode counters/) });
    expect(fromCounterDelta(some, some, { source: "s", completionTokens: 5 })).toMatchObject({ unavailable: expect.stringMatching(/did not move/) });
    expect(fromCounterDelta(some, counters({ drafts: 0, draftTokens: 0, accepted: 0, running: 0 }), { source: "s", completionTokens: 5 })).toMatchObject({
      unavailable: expect.stringMatching(/backwards/),
    });
  });
});

describe("SGLang meta_info", () => {
  it("reads spec_verify_ct, the counts, spec_accept_rate and spec_accept_length", () => {
    expect(fromSglangMetaInfo(sglang.META_INFO)).toEqual({
      source: "SGLang meta_info",
      approximate: false,
      drafted: 75,
      accepted: 39,
      draftSteps: 25,
      acceptanceRate: 39 / 75,
      meanAcceptedLength: 64 / 25,
    });
  });

  it("reads the older count names too, and nothing from a server without speculation", () => {
    expect(fromSglangMetaInfo(sglang.OLDER_META_INFO)).toMatchObject({ drafted: 75, accepted: 39, draftSteps: 25 });
    expect(fromSglangMetaInfo(sglang.PLAIN_META_INFO)).toBeNull();
  });
});

describe("speculationFromResponse", () => {
  it("takes whichever the server sent, and says why when it sent nothing", () => {
    expect(speculationFromResponse("vllm", { metrics: { speculative_decoding: vllm.specSummary } })).toMatchObject({ source: "vLLM per-request metrics" });
    expect(speculationFromResponse("sglang", { meta_info: sglang.META_INFO })).toMatchObject({ source: "SGLang meta_info" });
    expect(speculationFromResponse("llama-server", { timings: { draft_n: 4, draft_n_accepted: 2 } })).toMatchObject({ source: "llama-server timings" });
    expect(speculationFromResponse("vllm", {})).toMatchObject({ unavailable: expect.stringMatching(/--per-request-spec-decode-metrics/) });
    expect(speculationFromResponse("ollama", { usage: {} })).toMatchObject({ unavailable: expect.stringMatching(/Ollama/) });
    expect(speculationFromResponse("sglang", { meta_info: sglang.PLAIN_META_INFO })).toMatchObject({ unavailable: expect.stringMatching(/SGLang/) });
    expect(speculationFromResponse("openai", { timings: { predicted_n: 3 } })).toMatchObject({ unavailable: expect.any(String) });
  });
});
