/**
 * The remote engine client against two real servers on the KJV pair with its draft (real-backends.ts): llama-server
 * built from node-llama-cpp's bundled llama.cpp, and Tandem's own `tandem serve`. For each: detection, a streamed
 * chat whose acceptance counters equal the server's own `timings` (and, for llama-server, its /metrics counters),
 * Stop aborting the request promptly, a wrong API key, and the server SIGKILLed mid-reply keeping the partial text.
 * Without the llama.cpp build in the cache the llama-server half is skipped with a message (`.ci/run` builds it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RemoteKind, RemoteSpeculationMeasured } from "../../../../contracts/window/domain.js";
import { findLlamaCppTools } from "../../../../engine/dev/bench/peer/llama-cpp-tools.js";
import { detectRemote } from "../../../../electron/host/remote/detect.js";
import { RemoteError } from "../../../../electron/host/remote/errors.js";
import { OpenAiClient, type StreamChatRequest } from "../../../../electron/host/remote/openai-client.js";
import { parsePrometheus } from "../../../../electron/host/remote/prometheus.js";
import { remoteChat } from "../../../../electron/host/remote/remote-chat.js";
import { fromCounterDelta, specCounters, type SpecCounters } from "../../../../electron/host/remote/spec-stats.js";
import { MODEL_ID, startLlamaServer, startTandemServe, type RealServer } from "./real-backends.js";

const tools = await findLlamaCppTools();
if (!tools) {
  console.warn(
    "remote engines: the llama-server integration tests are skipped: llama.cpp's tools are not built for node-llama-cpp's bundled revision " +
      "(build them with `npm run -s tandem -- bench --peer llama.cpp --build-only`; .ci/run does it first)",
  );
}

interface Backend {
  name: string;
  available: boolean;
  kind: RemoteKind;
  start(options?: { apiKey?: string }): Promise<RealServer>;
}

const backends: Backend[] = [
  { name: "llama-server", available: tools !== null, kind: "llama-server", start: (options) => startLlamaServer(tools!, options) },
  { name: "tandem serve", available: true, kind: "openai", start: (options) => startTandemServe(options) },
];

const PROMPT = "The LORD is my shepherd; I shall not want.";
const chatRequest = (extra: Partial<StreamChatRequest> = {}): StreamChatRequest => ({
  model: MODEL_ID,
  messages: [{ role: "user", content: PROMPT }],
  maxTokens: 40,
  temperature: 0,
  ...extra,
});
/** A long reply (llama-server: EOS ignored) so that Stop and the kill land while tokens are still coming. */
const LONG = { maxTokens: 200, extraBody: { ignore_eos: true } };

async function rejection(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "the call should have failed").toBeInstanceOf(RemoteError);
  return error as RemoteError;
}

async function llamaCounters(client: OpenAiClient): Promise<SpecCounters & { predicted: number | null }> {
  const samples = parsePrometheus((await client.get("/metrics")).body);
  const predicted = samples.find((s) => s.name === "llamacpp:tokens_predicted_total")?.value ?? null;
  return { ...specCounters(samples, "llamacpp"), predicted };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`remote engine client against a real ${backend.name} (KJV target + draft)`, () => {
    let server: RealServer;
    let client: OpenAiClient;

    beforeAll(async () => {
      server = await backend.start();
      client = new OpenAiClient({ baseUrl: server.baseUrl, timeoutMs: 30_000 });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("detects the server and lists the model", async () => {
      const detection = await detectRemote(client);
      expect(detection.kind).toBe(backend.kind);
      expect(detection.models).toContain(MODEL_ID);
      if (backend.kind === "llama-server") expect(detection.version).toMatch(/^b\d+-[0-9a-f]+$/);
    });

    it("streams a chat; the acceptance counters reported are the server's own timings", async () => {
      const before = backend.name === "llama-server" ? await llamaCounters(client) : null;
      const pieces: string[] = [];
      const result = await remoteChat(client, backend.kind, chatRequest(), (text) => pieces.push(text));
      expect(pieces.length).toBeGreaterThan(1);
      expect(result.text).toBe(pieces.join(""));
      expect(result.text.length).toBeGreaterThan(10);
      expect(["stop", "length"]).toContain(result.finishReason);
      expect(result.usage?.completionTokens).toBeGreaterThan(0);
      const timings = result.final.timings!;
      expect(timings.draft_n, "the server drafted").toBeGreaterThan(0);
      const speculation = result.speculation as RemoteSpeculationMeasured;
      expect(speculation).toMatchObject({
        source: backend.kind === "llama-server" ? "llama-server timings" : "Tandem timings",
        approximate: false,
        drafted: timings.draft_n,
        accepted: timings.draft_n_accepted,
      });
      expect(speculation.acceptanceRate).toBeCloseTo((timings.draft_n_accepted as number) / (timings.draft_n as number), 10);
      if (backend.name === "tandem serve") {
        expect(speculation.draftSteps).toBe(timings.verify_steps);
        expect(speculation.meanAcceptedLength).toBeCloseTo(1 + (timings.draft_n_accepted as number) / (timings.verify_steps as number), 10);
      }
      if (before) {
        // The server's own Prometheus counters moved by exactly the reply's timings.
        const after = await llamaCounters(client);
        const delta = fromCounterDelta(before, after, { source: "llama-server /metrics", completionTokens: result.usage?.completionTokens ?? null });
        expect(delta).toMatchObject({ drafted: timings.draft_n, accepted: timings.draft_n_accepted, approximate: false });
        console.info(
          `llama-server reply: ${result.usage?.completionTokens} tokens, drafted ${timings.draft_n}, accepted ${timings.draft_n_accepted} ` +
            `(rate ${speculation.acceptanceRate?.toFixed(3)}), verify steps ${(delta as RemoteSpeculationMeasured).draftSteps} (from /metrics)`,
        );
      } else {
        console.info(`tandem serve reply: drafted ${timings.draft_n}, accepted ${timings.draft_n_accepted}, verify steps ${timings.verify_steps}`);
      }
    });

    it("Stop aborts the request promptly and the server serves the next one", async () => {
      const controller = new AbortController();
      const before = backend.name === "llama-server" ? await llamaCounters(client) : null;
      let abortedAt = 0;
      const pending = client.streamChat(chatRequest({ ...LONG, signal: controller.signal }), () => {
        if (!abortedAt) {
          abortedAt = performance.now();
          controller.abort();
        }
      });
      const error = await rejection(pending);
      const stoppedAfterMs = performance.now() - abortedAt;
      expect(error.code).toBe("aborted");
      expect(error.partialText.length).toBeGreaterThan(0);
      expect(stoppedAfterMs).toBeLessThan(500);
      if (before) {
        // llama-server noticed the closed connection and released the slot before writing all 200 tokens.
        await expect
          .poll(async () => (await llamaCounters(client)).running, { timeout: 5000 })
          .toBe(0);
        const after = await llamaCounters(client);
        expect(after.predicted! - before.predicted!).toBeLessThan(200);
      }
      const next = await client.streamChat(chatRequest({ maxTokens: 8 }), () => {});
      expect(next.text.length).toBeGreaterThan(0);
    });

    it("a wrong API key is the auth error; the right one works", async () => {
      const guarded = await backend.start({ apiKey: "k-right-12345678" });
      try {
        const wrong = new OpenAiClient({ baseUrl: guarded.baseUrl, apiKey: "k-wrong", maxRetries: 0 });
        const listing = await rejection(wrong.listModels());
        expect(listing).toMatchObject({ code: "auth", status: 401 });
        expect(listing.message).toMatch(/refused the API key/);
        expect(await rejection(wrong.streamChat(chatRequest(), () => {}))).toMatchObject({ code: "auth" });
        expect(await rejection(new OpenAiClient({ baseUrl: guarded.baseUrl }).listModels())).toMatchObject({ code: "auth" });
        const right = new OpenAiClient({ baseUrl: guarded.baseUrl, apiKey: "k-right-12345678" });
        expect((await right.listModels()).map((m) => m.id)).toContain(MODEL_ID);
      } finally {
        await guarded.stop();
      }
    });

    it("the server SIGKILLed mid-reply: an interrupted error carrying the partial reply", async () => {
      const pieces: string[] = [];
      let killing: Promise<void> | null = null;
      const pending = client.streamChat(chatRequest(LONG), (text) => {
        pieces.push(text);
        killing ??= server.kill();
      });
      const error = await rejection(pending);
      await killing;
      expect(error.code).toBe("interrupted");
      expect(error.message).toMatch(/mid-reply/);
      expect(error.partialText.length).toBeGreaterThan(0);
      expect(error.partialText).toBe(pieces.join(""));
      // The server is gone: the next request cannot reach it.
      expect(await rejection(new OpenAiClient({ baseUrl: server.baseUrl, maxRetries: 0 }).listModels())).toMatchObject({ code: "unreachable" });
    });
  });
}
