/**
 * The API server over a paced engine (TANDEM_ENGINE_STEP_DELAY_MS: the KJV model would otherwise finish a reply in
 * ~0.1 s, before a client could act mid-reply): the openai client's abort stops the engine's generation, a full
 * queue answers 503 server_busy with Retry-After, and a waiting request that gives up leaves the queue.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, MODEL_ID, startHarness, type Harness } from "./harness.js";

let harness: Harness;
let client: OpenAI;

beforeAll(async () => {
  harness = await startHarness({ env: { TANDEM_ENGINE_STEP_DELAY_MS: "20" }, maxQueue: 1 });
  client = new OpenAI({ baseURL: harness.baseUrl, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await harness?.close();
});

const post = (body: object, signal?: AbortSignal) =>
  fetch(`${harness.baseUrl}/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal });

describe("the API server with a paced engine", () => {
  it("aborts the engine's generation when the openai client aborts its stream", async () => {
    const before = harness.results.length;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL_ID, temperature: 0, max_tokens: 200, messages: [{ role: "user", content: "Blessed are the poor in spirit" }], stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content && ++received === 3) controller.abort();
      }
    } catch (error) {
      expect((error as Error).name).toMatch(/Abort/);
    }
    expect(received).toBe(3);
    await eventually(() => harness.results.length > before, 10_000, "the aborted generation's result");
    const result = harness.results.at(-1)!;
    expect(result.stats.stopReason).toBe("abort");
    // Stopped within a few steps of the abort (20 ms each), far from the 200 asked for.
    expect(result.stats.tokens).toBeLessThan(20);
    expect(harness.server.admission.running).toBe(0);
  });

  it("answers 503 server_busy with Retry-After when the queue is full, and a waiting request that gives up leaves it", async () => {
    const body = (content: string) => ({ model: MODEL_ID, temperature: 0, max_tokens: 30, messages: [{ role: "user", content }] });
    const first = post(body("The LORD is my shepherd"));
    await eventually(() => harness.server.admission.running === 1, 10_000, "the first request at the engine");
    const leaving = new AbortController();
    const second = post(body("Blessed are the meek"), leaving.signal).catch((error: Error) => error);
    await eventually(() => harness.server.admission.waiting === 1, 10_000, "the second request waiting");
    const third = await post(body("Let there be light"));
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("2");
    expect(await third.json()).toMatchObject({ error: { type: "server_error", code: "server_busy", param: null } });

    leaving.abort();
    expect(await second).toBeInstanceOf(Error);
    await eventually(() => harness.server.admission.waiting === 0, 5_000, "the waiting request to leave");
    const answered = await first;
    expect(answered.status).toBe(200);
    // Room again: a new request is admitted and answered.
    expect((await post(body("Amen"))).status).toBe(200);
    const metrics = harness.server.metrics.render();
    expect(metrics).toContain('tandem:requests_total{endpoint="/v1/chat/completions",status="503"} 1');
  });
});
