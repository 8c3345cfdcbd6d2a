/** The small parsers of the remote client: base URLs, server-sent events, Prometheus text. */
import { describe, expect, it } from "vitest";
import { parseBaseUrl } from "../../../../electron/host/remote/base-url.js";
import { SseParser } from "../../../../electron/host/remote/sse.js";
import { metricSum, parsePrometheus } from "../../../../electron/host/remote/prometheus.js";
import * as vllm from "./fixtures/vllm.js";

describe("parseBaseUrl", () => {
  it("accepts a base URL with or without /v1 and trailing slashes", () => {
    for (const input of ["http://gpu:8000", "http://gpu:8000/", "http://gpu:8000/v1", "http://gpu:8000/v1/", " http://gpu:8000/v1// "]) {
      expect(parseBaseUrl(input), input).toEqual({ root: "http://gpu:8000", v1: "http://gpu:8000/v1" });
    }
    expect(parseBaseUrl("https://proxy.example/llm/v1")).toEqual({ root: "https://proxy.example/llm", v1: "https://proxy.example/llm/v1" });
  });

  it("refuses what is not an http(s) URL", () => {
    expect(() => parseBaseUrl("gpu:8000")).toThrow(/http/);
    expect(() => parseBaseUrl("not a url")).toThrow(/not a URL/);
    expect(() => parseBaseUrl("ftp://gpu/")).toThrow(/http/);
  });
});

describe("SseParser", () => {
  it("splits events across arbitrary chunk boundaries, CRLF or LF, skipping comments", () => {
    const stream = ': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\nevent: error\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n';
    for (const size of [1, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      events.push(...parser.end());
      expect(events, `chunks of ${size}`).toEqual([
        { event: null, data: '{"a":1}' },
        { event: "error", data: "line1\nline2" },
        { event: null, data: "[DONE]" },
      ]);
    }
  });

  it("keeps an event the stream ended without its blank line", () => {
    const parser = new SseParser();
    expect(parser.push("data: x")).toEqual([]);
    expect(parser.end()).toEqual([{ event: null, data: "x" }]);
  });
});

describe("parsePrometheus", () => {
  it("reads vLLM's /metrics: names, labels, values; HELP/TYPE and _created samples apart", () => {
    const samples = parsePrometheus(vllm.metrics({ drafts: 120, draftTokens: 360, accepted: 250, running: 2 }));
    expect(metricSum(samples, "vllm:spec_decode_num_drafts_total")).toBe(120);
    expect(metricSum(samples, "vllm:spec_decode_num_draft_tokens_total")).toBe(360);
    expect(metricSum(samples, "vllm:num_requests_running", { model_name: vllm.MODEL })).toBe(2);
    expect(metricSum(samples, "vllm:spec_decode_num_accepted_tokens_per_pos_total")).toBe(250);
    expect(metricSum(samples, "vllm:spec_decode_num_accepted_tokens_per_pos_total", { position: "1" })).toBe(100);
    expect(metricSum(samples, "vllm:nothing")).toBeNull();
    expect(samples.find((s) => s.name === "vllm:spec_decode_num_drafts_created")?.value).toBeCloseTo(1.7873661e9);
  });

  it("handles escaped label values, timestamps, +Inf and skips junk lines", () => {
    const samples = parsePrometheus('m{a="x\\"y",b="p,q"} 3 1700000000000\nh_bucket{le="+Inf"} +Inf\ngarbage line here\nn 4e2\n');
    expect(samples).toEqual([
      { name: "m", labels: { a: 'x"y', b: "p,q" }, value: 3 },
      { name: "h_bucket", labels: { le: "+Inf" }, value: Infinity },
      { name: "n", labels: {}, value: 400 },
    ]);
  });
});
