/**
 * The OpenAI-compatible client against a scripted local HTTP server: streaming with each server's recorded chunks,
 * the retry and timeout policy (429 with retry-after, 500s, a hang, a dropped connection mid-stream, never a retry
 * once a stream began), Stop aborting the HTTP request, and the typed errors with their partial text.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RemoteError } from "../../../../electron/host/remote/errors.js";
import { OpenAiClient } from "../../../../electron/host/remote/openai-client.js";
import { json, sse, startFakeServer, type FakeServer } from "./fake-server.js";
import * as llama from "./fixtures/llama-server.js";
import * as ollama from "./fixtures/ollama.js";
import * as sglang from "./fixtures/sglang.js";
import * as vllm from "./fixtures/vllm.js";

let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const messages = [{ role: "user" as const, content: "Hi" }];
const CHAT = "/v1/chat/completions";

async function failure(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteError);
  return error as RemoteError;
}

describe("OpenAiClient: streaming", () => {
  it("streams llama-server's chunks and returns the text, finish reason, usage and timings", async () => {
    server = await startFakeServer({ [CHAT]: sse(llama.stream({ drafted: { draft_n: 30, draft_n_accepted: 18 } })) });
    const client = new OpenAiClient({ baseUrl: `${server.url}/v1/`, apiKey: "sk-1" });
    const pieces: string[] = [];
    const result = await client.streamChat({ model: llama.MODEL, messages, maxTokens: 24, temperature: 0 }, (t) => pieces.push(t));
    expect(pieces).toEqual(["And the LORD", " spake unto Moses."]);
    expect(result).toMatchObject({ text: "And the LORD spake unto Moses.", finishReason: "stop", model: llama.MODEL, deltas: 2 });
    expect(result.usage).toEqual({ promptTokens: 20, completionTokens: 24, totalTokens: 44 });
    expect(result.final.timings).toMatchObject({ draft_n: 30, draft_n_accepted: 18, predicted_n: 24 });
    expect(result.timeToFirstTokenMs).toBeGreaterThan(0);
    const sent = server.last.get(CHAT)!;
    expect(sent.headers.authorization).toBe("Bearer sk-1");
    expect(JSON.parse(sent.body)).toEqual({ model: llama.MODEL, messages, stream: true, stream_options: { include_usage: true }, max_tokens: 24, temperature: 0 });
  });

  it("keeps vLLM's metrics and SGLang's meta_info from the last chunk, and reads Ollama's plain stream", async () => {
    server = await startFakeServer({ [CHAT]: sse(vllm.streamWithSpecMetrics()) });
    const client = new OpenAiClient({ baseUrl: server.url });
    const v = await client.streamChat({ model: vllm.MODEL, messages }, () => {});
    expect(v.text).toBe("Paris is the capital.");
    expect(v.final.metrics).toMatchObject({ speculative_decoding: { num_draft_tokens: 129 } });
    server.route(CHAT, sse(sglang.streamWithMetaInfo()));
    const s = await client.streamChat({ model: sglang.MODEL, messages }, () => {});
    expect(s).toMatchObject({ text: "Hello there", finishReason: "length" });
    expect(s.final.meta_info).toMatchObject({ spec_verify_ct: 25 });
    server.route(CHAT, sse(sglang.streamWithChoiceMetaInfo()));
    const sc = await client.streamChat({ model: sglang.MODEL, messages }, () => {});
    expect(sc).toMatchObject({ text: "Hi", finishReason: "stop" });
    expect(sc.final.meta_info).toMatchObject({ spec_verify_ct: 25 });
    server.route(CHAT, sse(ollama.stream()));
    const o = await client.streamChat({ model: ollama.MODEL, messages }, () => {});
    expect(o).toMatchObject({ text: "Hi!", finishReason: "stop", usage: { completionTokens: 2 } });
  });

  it("reads a server that answered JSON instead of a stream", async () => {
    server = await startFakeServer({
      [CHAT]: json(200, { choices: [{ message: { content: "whole" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1 }, timings: { draft_n: 2 } }),
    });
    const result = await new OpenAiClient({ baseUrl: server.url }).streamChat({ model: "m", messages }, () => {});
    expect(result).toMatchObject({ text: "whole", finishReason: "stop", final: { timings: { draft_n: 2 } } });
  });

  it("lists models from /v1/models whatever form the base URL takes", async () => {
    server = await startFakeServer({ "/v1/models": json(200, vllm.models) });
    for (const base of [server.url, `${server.url}/`, `${server.url}/v1`, `${server.url}/v1/`]) {
      expect(await new OpenAiClient({ baseUrl: base }).listModels(), base).toEqual([{ id: vllm.MODEL, ownedBy: "vllm" }]);
    }
  });
});

describe("OpenAiClient: retries and timeouts", () => {
  it("retries a 429 after the retry-after it names, then succeeds", async () => {
    server = await startFakeServer({
      [CHAT]: (req, res, body, hit) =>
        hit === 1
          ? void res.writeHead(429, { "content-type": "application/json", "retry-after": "0.3" }).end(JSON.stringify({ error: { message: "slow down" } }))
          : sse(ollama.stream())(req, res, body, hit),
    });
    const started = performance.now();
    const result = await new OpenAiClient({ baseUrl: server.url, random: () => 0 }).streamChat({ model: "m", messages }, () => {});
    expect(result.text).toBe("Hi!");
    expect(server.hits.get(CHAT)).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("gives up on 429 after maxRetries with the rate-limit error and its retry-after", async () => {
    server = await startFakeServer({ [CHAT]: json(429, { error: { message: "Rate limit reached" } }, { "retry-after-ms": "20" }) });
    const error = await failure(new OpenAiClient({ baseUrl: server.url }).streamChat({ model: "m", messages }, () => {}));
    expect(error).toMatchObject({ code: "rate-limited", status: 429, retryAfterMs: 20, serverMessage: "Rate limit reached" });
    expect(error.message).toMatch(/rate limiting/);
    expect(server.hits.get(CHAT)).toBe(3); // the first attempt + 2 retries
  });

  it("retries 500s (exponential backoff when no header) and reports the server error", async () => {
    server = await startFakeServer({ [CHAT]: json(500, { error: { message: "CUDA out of memory" } }) });
    const started = performance.now();
    const error = await failure(new OpenAiClient({ baseUrl: server.url, random: () => 1 }).streamChat({ model: "m", messages }, () => {}));
    expect(error).toMatchObject({ code: "server", status: 500 });
    expect(error.message).toMatch(/CUDA out of memory/);
    expect(server.hits.get(CHAT)).toBe(3);
    // 0.5 s and 1 s, each less 25 % jitter (random() = 1): 375 + 750 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1100);
  });

  it("does not retry 401/404, and x-should-retry: false stops a 503 from being retried", async () => {
    server = await startFakeServer({
      [CHAT]: json(401, { error: { message: "Invalid API Key", type: "authentication_error", code: 401 } }),
      "/v1/models": json(503, { error: "busy" }, { "x-should-retry": "false" }),
    });
    const client = new OpenAiClient({ baseUrl: server.url, apiKey: "wrong" });
    expect(await failure(client.streamChat({ model: "m", messages }, () => {}))).toMatchObject({ code: "auth", status: 401, serverMessage: "Invalid API Key" });
    expect(server.hits.get(CHAT)).toBe(1);
    expect(await failure(client.listModels())).toMatchObject({ code: "server", status: 503 });
    expect(server.hits.get("/v1/models")).toBe(1);
    server.route(CHAT, json(404, { error: { message: "The model `x` does not exist." } }));
    const notFound = await failure(client.streamChat({ model: "x", messages }, () => {}));
    expect(notFound).toMatchObject({ code: "not-found", status: 404 });
    expect(notFound.message).toMatch(/the model "x"/);
  });

  it("times out a server that never answers, retrying like openai-node, then reports the timeout", async () => {
    server = await startFakeServer({ [CHAT]: () => {} }); // accepts, never answers
    const client = new OpenAiClient({ baseUrl: server.url, timeoutMs: 200, maxRetries: 1, random: () => 1 });
    const started = performance.now();
    const error = await failure(client.streamChat({ model: "m", messages }, () => {}));
    expect(error.code).toBe("timeout");
    expect(server.hits.get(CHAT)).toBe(2);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("times out a stream that falls silent mid-reply, keeping the partial text (and never retries it)", async () => {
    server = await startFakeServer({
      [CHAT]: (_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(llama.stream()[1]!);
      },
    });
    const error = await failure(new OpenAiClient({ baseUrl: server.url, timeoutMs: 300 }).streamChat({ model: "m", messages }, () => {}));
    expect(error).toMatchObject({ code: "timeout", partialText: "And the LORD" });
    expect(server.hits.get(CHAT)).toBe(1);
  });

  it("a connection dropped mid-stream is an interrupted reply with its partial text, never retried", async () => {
    server = await startFakeServer({
      [CHAT]: async (_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(llama.stream()[1]!);
        await new Promise((resolve) => setTimeout(resolve, 50));
        res.socket?.destroy();
      },
    });
    const pieces: string[] = [];
    const error = await failure(new OpenAiClient({ baseUrl: server.url }).streamChat({ model: "m", messages }, (t) => pieces.push(t)));
    expect(error).toMatchObject({ code: "interrupted", partialText: "And the LORD" });
    expect(pieces).toEqual(["And the LORD"]);
    expect(server.hits.get(CHAT)).toBe(1);
  });

  it("retries a connection refused, then reports the server unreachable", async () => {
    const gone = await startFakeServer();
    const url = gone.url;
    await gone.close();
    const client = new OpenAiClient({ baseUrl: url, maxRetries: 1, random: () => 1 });
    const error = await failure(client.listModels());
    expect(error.code).toBe("unreachable");
    expect(error.message).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });
});

describe("OpenAiClient: malformed streams and Stop", () => {
  it("unparsable data, an in-stream error, or an end without a finish: typed errors with the partial text", async () => {
    server = await startFakeServer({ [CHAT]: sse([llama.stream()[1]!, "data: {not json\n\n"]) });
    const client = new OpenAiClient({ baseUrl: server.url });
    expect(await failure(client.streamChat({ model: "m", messages }, () => {}))).toMatchObject({ code: "malformed-stream", partialText: "And the LORD" });
    server.route(CHAT, sse([llama.stream()[1]!, `data: ${JSON.stringify({ error: { code: 500, message: "slot failed" } })}\n\n`]));
    expect(await failure(client.streamChat({ model: "m", messages }, () => {}))).toMatchObject({ code: "server", partialText: "And the LORD", serverMessage: "slot failed" });
    server.route(CHAT, sse([llama.stream()[1]!]));
    expect(await failure(client.streamChat({ model: "m", messages }, () => {}))).toMatchObject({ code: "interrupted", partialText: "And the LORD" });
    server.route(CHAT, sse([]));
    expect(await failure(client.streamChat({ model: "m", messages }, () => {}))).toMatchObject({ code: "malformed-stream", partialText: "" });
  });

  it("Stop aborts the HTTP request: the server sees the connection close, the error keeps the text so far", async () => {
    let closed = false;
    server = await startFakeServer({
      [CHAT]: async (req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.on("close", () => (closed = true));
        for (let i = 0; i < 500 && !closed; i++) {
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }] })}\n\n`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        res.end();
      },
    });
    const controller = new AbortController();
    let received = 0;
    const pending = new OpenAiClient({ baseUrl: server.url }).streamChat({ model: "m", messages, signal: controller.signal }, () => {
      if (++received === 3) controller.abort();
    });
    const error = await failure(pending);
    expect(error.code).toBe("aborted");
    expect(error.partialText).toBe("t0 t1 t2 ");
    await expect.poll(() => closed, { timeout: 2000 }).toBe(true);
  });

  it("Stop during a retry's wait ends at once", async () => {
    server = await startFakeServer({ [CHAT]: json(503, {}, { "retry-after": "30" }) });
    const controller = new AbortController();
    const pending = new OpenAiClient({ baseUrl: server.url, random: () => 0 }).streamChat({ model: "m", messages, signal: controller.signal }, () => {});
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    expect((await failure(pending)).code).toBe("aborted");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
