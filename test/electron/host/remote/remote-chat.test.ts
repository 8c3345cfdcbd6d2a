/**
 * One reply with its speculation: vLLM without per-request metrics falls back to its /metrics counters scraped
 * around the request (approximate when others ran); the stats local chat prints come out of a remote reply too.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OpenAiClient } from "../../../../electron/host/remote/openai-client.js";
import { remoteChat, replyStats } from "../../../../electron/host/remote/remote-chat.js";
import { sse, startFakeServer, text, type FakeServer } from "./fake-server.js";
import * as llama from "./fixtures/llama-server.js";
import * as vllm from "./fixtures/vllm.js";

let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const request = { model: vllm.MODEL, messages: [{ role: "user" as const, content: "Capital of France?" }] };

describe("remoteChat", () => {
  it("vLLM with per-request metrics: those, no /metrics scrape needed for the figures", async () => {
    server = await startFakeServer({ "/v1/chat/completions": sse(vllm.streamWithSpecMetrics()), "/metrics": text(200, vllm.metrics({ drafts: 1, draftTokens: 3, accepted: 1, running: 0 })) });
    const result = await remoteChat(new OpenAiClient({ baseUrl: server.url }), "vllm", request, () => {});
    expect(result.speculation).toMatchObject({ source: "vLLM per-request metrics", drafted: 129, accepted: 10, draftSteps: 43 });
  });

  it("vLLM without them: the deltas of /metrics around the request, exact when alone, approximate when not", async () => {
    const scrapes = [
      { drafts: 120, draftTokens: 360, accepted: 250, running: 0 },
      { drafts: 140, draftTokens: 420, accepted: 290, running: 0 },
      { drafts: 140, draftTokens: 420, accepted: 290, running: 3 },
      { drafts: 170, draftTokens: 510, accepted: 350, running: 3 },
    ];
    server = await startFakeServer({
      "/v1/chat/completions": sse(vllm.streamWithoutMetrics(60)),
      "/metrics": (_req, res, _body, hit) => void res.writeHead(200, { "content-type": "text/plain" }).end(vllm.metrics(scrapes[hit - 1]!)),
    });
    const client = new OpenAiClient({ baseUrl: server.url });
    const alone = await remoteChat(client, "vllm", request, () => {});
    expect(alone.speculation).toEqual({ source: "vLLM /metrics counters", approximate: false, drafted: 60, accepted: 40, draftSteps: 20, acceptanceRate: 40 / 60, meanAcceptedLength: 3 });
    const busy = await remoteChat(client, "vllm", request, () => {});
    expect(busy.speculation).toMatchObject({ source: "vLLM /metrics counters", approximate: true, drafted: 90, accepted: 60 });
  });

  it("vLLM with neither: unavailable, with the reason", async () => {
    server = await startFakeServer({ "/v1/chat/completions": sse(vllm.streamWithoutMetrics()) });
    const result = await remoteChat(new OpenAiClient({ baseUrl: server.url }), "vllm", request, () => {});
    expect(result.speculation).toMatchObject({ unavailable: expect.stringMatching(/--per-request-spec-decode-metrics/) });
  });

  it("replyStats: the local chat's figures from a remote reply", async () => {
    server = await startFakeServer({ "/v1/chat/completions": sse(llama.stream({ drafted: { draft_n: 30, draft_n_accepted: 18 } }), 20) });
    const result = await remoteChat(new OpenAiClient({ baseUrl: server.url }), "llama-server", request, () => {});
    const stats = replyStats(result);
    expect(stats).toMatchObject({ tokens: 24, stopReason: "eog", promptTokens: 20 });
    expect(stats.tokensPerSecond).toBeGreaterThan(0);
    expect(stats.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(result.speculation).toMatchObject({ source: "llama-server timings", drafted: 30, accepted: 18 });
  });
});
