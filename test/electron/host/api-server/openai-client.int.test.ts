/**
 * The API server as OpenAI's own Node client sees it, over the real engine and the KJV model: models, chat
 * completions (plain and streamed, identical greedy output, usage), stop strings, legacy completions, errors with
 * OpenAI's status codes and codes, concurrency, and a resent conversation evaluating only its new tokens.
 */
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Timings } from "../../../../contracts/openai/responses.js";
import { MODEL_ID, startHarness, type Harness } from "./harness.js";

let harness: Harness;
let client: OpenAI;

beforeAll(async () => {
  harness = await startHarness();
  client = new OpenAI({ baseURL: harness.baseUrl, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await harness?.close();
});

const greedy = { model: MODEL_ID, temperature: 0, max_tokens: 40 } as const;

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const text = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
const timingsOf = (value: object) => (value as { timings: Timings }).timings;

describe("the API server through the openai client", () => {
  it("lists the loaded model", async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([{ id: MODEL_ID, object: "model", created: expect.any(Number), owned_by: "tandem" }]);
    expect((await client.models.retrieve("kjv-chat-6m")).id).toBe(MODEL_ID);
  });

  it("answers a chat plainly and streamed with the same greedy text and the same usage", async () => {
    const messages = [{ role: "user" as const, content: "The LORD is my shepherd; I shall not want." }];
    const plain = await client.chat.completions.create({ ...greedy, messages });
    expect(plain.object).toBe("chat.completion");
    expect(plain.model).toBe(MODEL_ID);
    const reply = plain.choices[0]!;
    expect(reply.message.role).toBe("assistant");
    expect(reply.message.content!.length).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(reply.finish_reason);
    expect(plain.usage!.completion_tokens).toBeGreaterThan(0);
    expect(plain.usage!.completion_tokens).toBeLessThanOrEqual(40);
    expect(plain.usage!.total_tokens).toBe(plain.usage!.prompt_tokens + plain.usage!.completion_tokens);
    const timings = timingsOf(plain);
    expect(timings.predicted_n).toBe(plain.usage!.completion_tokens);
    expect(timings.prompt_n + timings.cache_n).toBe(plain.usage!.prompt_tokens);
    expect(timings).toMatchObject({ draft_n: 0, draft_n_accepted: 0, speculator: "off" });

    const chunks = await collect(await client.chat.completions.create({ ...greedy, messages, stream: true, stream_options: { include_usage: true } }));
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.every((c) => c.id === chunks[0]!.id && c.object === "chat.completion.chunk")).toBe(true);
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    // The same counts (the second run reuses the first one's prompt from the cache: only cached_tokens differs).
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: plain.usage!.prompt_tokens, completion_tokens: plain.usage!.completion_tokens, total_tokens: plain.usage!.total_tokens });
    expect(usageChunk.usage!.prompt_tokens_details!.cached_tokens).toBe(timingsOf(usageChunk).cache_n);
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: reply.finish_reason });
    expect(chunks.slice(0, -2).every((c) => c.choices[0]!.finish_reason === null && c.usage === null)).toBe(true);
    expect(text(chunks)).toBe(reply.message.content);
    expect(timingsOf(usageChunk).predicted_n).toBe(plain.usage!.completion_tokens);
    expect(chunks.slice(0, -1).some((c) => "timings" in c)).toBe(false);
  });

  it("cuts the reply before a stop string, plain and streamed", async () => {
    const messages = [{ role: "user" as const, content: "In the beginning God created the heaven and the earth." }];
    const full = (await client.chat.completions.create({ ...greedy, messages })).choices[0]!.message.content!;
    const words = full.split(" ").filter((w) => w.length > 2);
    const stop = words[Math.floor(words.length / 2)]!;
    const expected = full.slice(0, full.indexOf(stop));
    const plain = await client.chat.completions.create({ ...greedy, messages, stop: [stop, "zzzz-never"] });
    expect(plain.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: expected } });
    expect(plain.usage!.completion_tokens).toBeLessThan(timingsOf(plain).predicted_n + 1);
    const chunks = await collect(await client.chat.completions.create({ ...greedy, messages, stop, stream: true }));
    expect(text(chunks)).toBe(expected);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("continues a raw prompt through the legacy completions endpoint", async () => {
    const prompt = "And God said, Let there be light: and there was";
    const plain = await client.completions.create({ model: MODEL_ID, prompt, max_tokens: 10, temperature: 0 });
    expect(plain.object).toBe("text_completion");
    expect(plain.choices[0]!.text.length).toBeGreaterThan(0);
    expect(plain.usage!.completion_tokens).toBeLessThanOrEqual(10);
    let streamed = "";
    let finish: string | null = null;
    for await (const chunk of await client.completions.create({ model: MODEL_ID, prompt, max_tokens: 10, temperature: 0, stream: true })) {
      streamed += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(plain.choices[0]!.text);
    expect(finish).toBe(plain.choices[0]!.finish_reason);
    // Without a chat template the prompt is only its own tokens (and BOS): far fewer than a templated chat's.
    const templated = await client.chat.completions.create({ ...greedy, max_tokens: 1, messages: [{ role: "user", content: prompt }] });
    expect(plain.usage!.prompt_tokens).toBeLessThan(templated.usage!.prompt_tokens);
  });

  it("refuses what it cannot do with OpenAI's errors and status codes", async () => {
    const messages = [{ role: "user" as const, content: "Amen." }];
    await expect(client.chat.completions.create({ ...greedy, model: "gpt-4o", messages })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
      type: "invalid_request_error",
    });
    const long = "And it came to pass in those days, that there went out a decree from Caesar Augustus. ".repeat(60);
    await expect(client.chat.completions.create({ ...greedy, messages: [{ role: "user", content: long }] })).rejects.toMatchObject({
      status: 400,
      code: "context_length_exceeded",
    });
    await expect(client.chat.completions.create({ ...greedy, messages, n: 2 })).rejects.toMatchObject({ status: 400, param: "n", type: "invalid_request_error" });
    await expect(
      client.chat.completions.create({ ...greedy, messages, tools: [{ type: "function", function: { name: "f", parameters: {} } }] }),
    ).rejects.toMatchObject({ status: 400, param: "tools" });
  });

  it("runs 4 concurrent streams with the same greedy replies as sequential requests", async () => {
    const prompts = ["The LORD is my light", "Blessed are the meek", "Honour thy father and thy mother", "Let there be light"];
    const sequential: string[] = [];
    for (const content of prompts) {
      sequential.push((await client.chat.completions.create({ ...greedy, messages: [{ role: "user", content }] })).choices[0]!.message.content!);
    }
    const concurrent = await Promise.all(
      prompts.map(async (content) => text(await collect(await client.chat.completions.create({ ...greedy, messages: [{ role: "user", content }], stream: true })))),
    );
    expect(concurrent).toEqual(sequential);
  });

  it("serves a resent conversation from the cache: only the new message is evaluated", async () => {
    const system = { role: "system" as const, content: "Thou art a scribe of the king." };
    const first = { role: "user" as const, content: "Who is the king of glory?" };
    const turn1 = await client.chat.completions.create({ ...greedy, messages: [system, first] });
    const reply = turn1.choices[0]!.message.content!;
    const turn2 = await client.chat.completions.create({
      ...greedy,
      messages: [system, first, { role: "assistant", content: reply }, { role: "user", content: "Lift up your heads, O ye gates." }],
    });
    const timings = timingsOf(turn2);
    expect(timings.cache_outcome).toBe("slot-hit");
    expect(timings.cache_n).toBeGreaterThanOrEqual(turn1.usage!.prompt_tokens);
    expect(timings.prompt_n).toBeLessThan(turn2.usage!.prompt_tokens - turn1.usage!.prompt_tokens);
    expect(timings.prompt_n + timings.cache_n).toBe(turn2.usage!.prompt_tokens);
  });
});
