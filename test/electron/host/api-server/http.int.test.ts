/**
 * The API server over raw HTTP (fetch and node:http), with the real engine, its draft model and an API key: bodies
 * it refuses (malformed, oversized), the key, the Host and Origin checks, CORS preflights (Private Network Access
 * included), and /metrics against the responses' own timings with draft speculation on.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatCompletion, Timings } from "../../../../contracts/openai/responses.js";
import { MODEL_ID, startHarness, type Harness } from "./harness.js";

const KEY = "sk-tandem-test-key-0123456789";
const ALLOWED = "http://localhost:3000";
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ apiKey: KEY, corsOrigins: () => [ALLOWED], draft: true, speculation: "off" });
});

afterAll(async () => {
  await harness?.close();
});

const url = (path: string) => `${harness.origin}${path}`;
const auth = { Authorization: `Bearer ${KEY}` };
const chat = (body: unknown, headers: Record<string, string> = auth) =>
  fetch(url("/v1/chat/completions"), { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

/** A raw request, for headers fetch refuses to set (Host). */
function raw(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: harness.server.port, path, method: "GET", headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The value of one sample of the Prometheus text (0 when absent). */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe("the API server over raw HTTP", () => {
  it("refuses malformed JSON with 400 and an oversized body with 413, in OpenAI's error format", async () => {
    const malformed = await chat('{"model": "x", "messages": [');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { type: "invalid_request_error", param: null, code: null } });
    const notAnObject = await chat({ model: MODEL_ID });
    expect(notAnObject.status).toBe(400);
    expect((await notAnObject.json()).error.param).toBe("messages");

    const huge = await chat({ model: MODEL_ID, messages: [{ role: "user", content: "a".repeat(5 * 1024 * 1024) }] });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { type: "invalid_request_error", code: "request_too_large" } });
  });

  it("needs the key: missing or wrong is 401 invalid_api_key, /health needs none", async () => {
    const body = { model: MODEL_ID, max_tokens: 2, messages: [{ role: "user", content: "Amen" }] };
    const attempts: Array<Record<string, string>> = [{}, { Authorization: "Bearer wrong-key" }, { Authorization: `Basic ${KEY}` }];
    for (const headers of attempts) {
      const response = await chat(body, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_api_key", type: "invalid_request_error" } });
    }
    expect((await fetch(url("/v1/models"))).status).toBe(401);
    expect((await fetch(url("/metrics"))).status).toBe(401);
    expect((await chat(body)).status).toBe(200);
    const health = await fetch(url("/health"));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", model: MODEL_ID });
    expect((await fetch(url("/v1/nothing"), { headers: auth })).status).toBe(404);
    expect((await fetch(url("/v1/chat/completions"), { headers: auth })).status).toBe(405);
  });

  it("refuses a Host header that is not its own (DNS rebinding)", async () => {
    const refused = await raw("/v1/models", { Host: "evil.example:80", ...auth });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "forbidden_host" } });
    expect((await raw("/v1/models", { Host: `localhost:${harness.server.port}`, ...auth })).status).toBe(200);
  });

  it("answers CORS preflights for allowed origins only, with Private Network Access when asked", async () => {
    const preflight = (origin: string) =>
      fetch(url("/v1/chat/completions"), {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type",
          "Access-Control-Request-Private-Network": "true",
        },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(allowed.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
    expect(allowed.headers.get("access-control-allow-methods")).toContain("POST");
    expect(allowed.headers.get("access-control-allow-private-network")).toBe("true");

    const refused = await preflight("https://evil.example");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-private-network")).toBeNull();

    // The actual request: the allowed page may read the answer, another page's request is refused before any work.
    const models = await fetch(url("/v1/models"), { headers: { ...auth, Origin: ALLOWED } });
    expect(models.status).toBe(200);
    expect(models.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const foreign = await chat({ model: MODEL_ID, messages: [{ role: "user", content: "Amen" }] }, { ...auth, Origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("reconciles /metrics with the responses' timings under draft speculation", async () => {
    const metrics = async () => (await fetch(url("/metrics"), { headers: auth })).text();
    const before = await metrics();
    const names = [
      "tandem:spec_decode_num_drafts_total",
      "tandem:spec_decode_num_draft_tokens_total",
      "tandem:spec_decode_num_accepted_tokens_total",
      "tandem:generation_tokens_total",
      "tandem:prompt_tokens_total",
      'tandem:requests_total{endpoint="/v1/chat/completions",status="200"}',
      "tandem:time_to_first_token_seconds_count",
    ];
    const start = Object.fromEntries(names.map((n) => [n, sample(before, n)]));
    const startPerPos = perPosition(before);

    const prompts = ["In the beginning God created the heaven and the earth.", "The LORD is my shepherd; I shall not want.", "Blessed are the meek."];
    const timings: Timings[] = [];
    const usage: ChatCompletion["usage"][] = [];
    for (const content of prompts) {
      const response = await chat({ model: MODEL_ID, temperature: 0, max_tokens: 60, messages: [{ role: "user", content }], tandem: { speculation: "draft" } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as ChatCompletion;
      timings.push(body.timings);
      usage.push(body.usage);
    }
    expect(timings.every((t) => t.speculator === "draft")).toBe(true);
    const sum = (pick: (t: Timings) => number) => timings.reduce((n, t) => n + pick(t), 0);
    expect(sum((t) => t.draft_n)).toBeGreaterThan(0);
    expect(sum((t) => t.draft_n_accepted)).toBeGreaterThan(0);

    const after = await metrics();
    const delta = (name: string) => sample(after, name) - start[name]!;
    expect(delta("tandem:spec_decode_num_draft_tokens_total")).toBe(sum((t) => t.draft_n));
    expect(delta("tandem:spec_decode_num_accepted_tokens_total")).toBe(sum((t) => t.draft_n_accepted));
    expect(delta("tandem:spec_decode_num_drafts_total")).toBe(sum((t) => t.verify_steps));
    expect(delta("tandem:generation_tokens_total")).toBe(sum((t) => t.predicted_n));
    expect(delta("tandem:prompt_tokens_total")).toBe(usage.reduce((n, u) => n + u.prompt_tokens, 0));
    expect(delta('tandem:requests_total{endpoint="/v1/chat/completions",status="200"}')).toBe(3);
    expect(delta("tandem:time_to_first_token_seconds_count")).toBe(3);
    // Per position, from the streamed verify steps: they add up to the accepted total, and fall with the position.
    const perPos = perPosition(after).map((n, i) => n - (startPerPos[i] ?? 0));
    expect(perPos.reduce((a, b) => a + b, 0)).toBe(sum((t) => t.draft_n_accepted));
    for (let i = 1; i < perPos.length; i++) expect(perPos[i]).toBeLessThanOrEqual(perPos[i - 1]!);
    expect(after).toMatch(/^# TYPE tandem:time_to_first_token_seconds histogram$/m);
    expect(after).toMatch(/^tandem:requests_running 0$/m);
    expect(after).toMatch(/^tandem:cache_outcome_total\{outcome="cold"\} \d+$/m);
  });
});

function perPosition(text: string): number[] {
  const counts: number[] = [];
  for (const match of text.matchAll(/^tandem:spec_decode_num_accepted_tokens_per_pos_total\{position="(\d+)"\} (\d+)$/gm)) {
    counts[Number(match[1])] = Number(match[2]);
  }
  return Array.from(counts, (n) => n ?? 0);
}
