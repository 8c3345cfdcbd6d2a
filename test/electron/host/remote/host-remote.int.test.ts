/**
 * Chat through a remote engine, end to end in the host: a connection added and tested through the window API, chosen
 * as the chat engine, and replies streamed into a conversation from two real servers on the KJV pair with its
 * draft: llama-server built from node-llama-cpp's bundled llama.cpp, and Tandem's own `tandem serve`
 * (real-backends.ts). The local engine is the fake one: nothing here runs on this machine's engine.
 *
 * Checked for each server: the reply's text and speculation counters are those of the same request sent straight
 * to the server (greedy, so both runs are the same); they survive a reload; Stop keeps the partial reply; a
 * connection lost mid-reply keeps the partial reply marked interrupted; a wrong key is refused with a clear error.
 * Stop and the lost connection go through a pacing proxy (fault injection): the KJV model writes a whole reply in
 * a few milliseconds, faster than a test can press Stop.
 */
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RemoteSpeculationMeasured } from "../../../../contracts/window/index.js";
import { findLlamaCppTools } from "../../../../engine/dev/bench/peer/llama-cpp-tools.js";
import { createHost } from "../../../../electron/host/host.js";
import { OpenAiClient } from "../../../../electron/host/remote/openai-client.js";
import { metricSum, parsePrometheus } from "../../../../electron/host/remote/prometheus.js";
import { remoteChat } from "../../../../electron/host/remote/remote-chat.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { waitFor, writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";
import { MODEL_ID, startLlamaServer, startTandemServe, type RealServer } from "./real-backends.js";
import { recordHostEvents, type HostEvents } from "../event-recorder.js";

const tools = await findLlamaCppTools();
if (!tools) {
  console.warn(
    "remote engines in the host: the llama-server half is skipped: llama.cpp's tools are not built for node-llama-cpp's bundled revision " +
      "(npm run -s tandem -- bench --peer llama.cpp --build-only; .ci/run does it first)",
  );
}

const PROMPT = "The LORD is my shepherd; I shall not want.";
const MAX_TOKENS = 40;
const KEY = "test-key-4242";

interface Harness extends HostEvents {
  host: Host;
}

let engineEntry: string;
const hosts: Host[] = [];

function makeHost(): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-host-remote-"));
  const host = createHost(
    { dataDir, engineEntry, spawner: nodeForkSpawner, mode: "web", appVersion: "9.9.9-test" },
    {
      logger: recordingLogger(),
      env: { PATH: process.env.PATH },
      supervisorTiming: { pingIntervalMs: 0, backoffBaseMs: 20, stopTimeoutMs: 500 },
      persistIntervalMs: 50,
      remoteClient: { timeoutMs: 30_000 },
    },
  );
  hosts.push(host);
  const { events, of, completed } = recordHostEvents(host, 30_000);
  return { host, events, of, completed };
}

/**
 * Forwards to a real server, but writes the response's stream on one chunk per `paceMs`, and can drop the
 * connection to the host mid-reply (`cut`), as a server dying or a network failing would.
 */
class PacingProxy {
  private server: Server | null = null;
  private live = new Set<ServerResponse>();
  constructor(
    private readonly upstream: string,
    private readonly paceMs: number,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/v1`;
  }

  cut(): void {
    for (const res of this.live) res.socket?.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const root = this.upstream.replace(/\/v1$/, "");
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const answer = await fetch(`${root}${req.url}`, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
    res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
    this.live.add(res);
    res.on("close", () => this.live.delete(res));
    const reader = answer.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      res.write(value);
      await new Promise((resolve) => setTimeout(resolve, this.paceMs));
    }
    res.end();
  }
}

beforeAll(() => {
  engineEntry = writeFakeEngine();
});

afterAll(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

const backends = [
  { name: "llama-server", prefix: "llamacpp", available: tools !== null, start: (apiKey?: string) => startLlamaServer(tools!, apiKey ? { apiKey } : {}) },
  { name: "tandem serve", prefix: "tandem", available: true, start: (apiKey?: string) => startTandemServe(apiKey ? { apiKey } : {}) },
];

/** The server's own running totals of drafted and accepted tokens (its /metrics). */
async function serverTotals(baseUrl: string, prefix: string): Promise<{ drafted: number; accepted: number }> {
  const samples = parsePrometheus((await new OpenAiClient({ baseUrl }).get("/metrics")).body);
  return {
    drafted: metricSum(samples, `${prefix}:spec_decode_num_draft_tokens_total`) ?? NaN,
    accepted: metricSum(samples, `${prefix}:spec_decode_num_accepted_tokens_total`) ?? NaN,
  };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`chat through a remote ${backend.name} (KJV target + draft), in the host`, () => {
    let server: RealServer;
    let h: Harness;

    beforeAll(async () => {
      server = await backend.start();
      h = makeHost();
      await h.host.start();
      await h.host.api.updateSettings({ temperature: 0, maxTokens: MAX_TOKENS });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    async function useConnection(baseUrl: string, apiKey?: string) {
      const view = await h.host.api.addConnection({ baseUrl, ...(apiKey ? { apiKey } : {}) });
      if (view.test?.ok) await h.host.api.updateSettings({ chatEngine: { kind: "remote", connectionId: view.id, model: MODEL_ID } });
      return view;
    }

    it("adds and tests a connection, replies come from the server with its own counters, and they survive a reload", async () => {
      const view = await useConnection(server.baseUrl);
      expect(view.test).toMatchObject({ ok: true });
      expect(view.test?.ok && view.test.models).toContain(MODEL_ID);
      expect(view.hasApiKey).toBe(false);
      expect(h.of("connectionsChanged").at(-1)?.connections.map((c) => c.id)).toContain(view.id);

      const conversation = await h.host.api.createConversation({});
      const before = await serverTotals(server.baseUrl, backend.prefix);
      const sent = await h.host.api.sendMessage({ conversationId: conversation.id, content: PROMPT });
      expect(sent.assistantMessage.remote).toMatchObject({ connectionId: view.id, stats: null });
      expect(sent.assistantMessage.model).toBe(MODEL_ID);
      const done = await h.completed(sent.assistantMessage.id);
      expect(done.status).toBe("complete");
      expect(done.content.length).toBeGreaterThan(0);
      // What the window was streamed is the reply.
      const streamed = h.of("tokens").filter((t) => t.messageId === done.id).flatMap((t) => t.tokens.map((token) => token.text)).join("");
      expect(streamed).toBe(done.content);
      // The counters shown are the server's own for this reply: its /metrics totals moved by exactly as much.
      const after = await serverTotals(server.baseUrl, backend.prefix);
      const stats = done.remote?.stats;
      expect(stats?.tokens).toBeGreaterThan(0);
      expect("unavailable" in stats!.speculation).toBe(false);
      const spec = stats!.speculation as RemoteSpeculationMeasured;
      expect(spec.drafted).toBeGreaterThan(0);
      expect({ drafted: spec.drafted, accepted: spec.accepted }).toEqual({ drafted: after.drafted - before.drafted, accepted: after.accepted - before.accepted });
      expect(spec.source).toMatch(/timings/);

      // The same request straight to the server (greedy): the same text.
      const direct = await remoteChat(new OpenAiClient({ baseUrl: server.baseUrl }), view.kind, {
        model: MODEL_ID,
        messages: [{ role: "user", content: PROMPT }],
        maxTokens: MAX_TOKENS,
        temperature: 0,
      }, () => {});
      expect(done.content).toBe(direct.text);

      // Stored with the message: a reload shows the same.
      const reloaded = await h.host.api.getConversation({ id: conversation.id });
      expect(reloaded.messages.at(-1)?.remote).toEqual(done.remote);

      // Edit works as for a local model: the edited question goes to the server and its reply replaces the old one.
      const edited = await h.host.api.editAndResend({ conversationId: conversation.id, messageId: sent.userMessage.id, content: "In the beginning God created the heaven and the earth." });
      const again = await h.completed(edited.assistantMessage.id);
      expect(again).toMatchObject({ status: "complete", model: MODEL_ID, remote: { connectionId: view.id } });
      expect(again.content.length).toBeGreaterThan(0);
      expect((await h.host.api.getConversation({ id: conversation.id })).messages.map((m) => m.id)).toEqual([sent.userMessage.id, edited.assistantMessage.id]);
    });

    it("Stop ends a remote reply as stopped and keeps what arrived", async () => {
      const proxy = new PacingProxy(server.baseUrl, 40);
      const base = await proxy.start();
      try {
        await useConnection(base);
        const conversation = await h.host.api.createConversation({});
        const sent = await h.host.api.sendMessage({ conversationId: conversation.id, content: PROMPT });
        await waitFor(() => h.of("tokens").some((t) => t.messageId === sent.assistantMessage.id), 20_000, "the first streamed text");
        const startedAt = Date.now();
        expect(await h.host.api.stopGeneration({ conversationId: conversation.id })).toEqual({ stopped: true });
        const done = await h.completed(sent.assistantMessage.id);
        expect(Date.now() - startedAt).toBeLessThan(2_000);
        expect(done.status).toBe("stopped");
        expect(done.content.length).toBeGreaterThan(0);
        const stored = (await h.host.api.getConversation({ id: conversation.id })).messages.at(-1);
        expect(stored?.status).toBe("stopped");
        expect(stored?.content).toBe(done.content);
      } finally {
        await proxy.stop();
      }
    });

    it("a connection lost mid-reply keeps the partial reply, marked interrupted with the reason", async () => {
      const proxy = new PacingProxy(server.baseUrl, 40);
      const base = await proxy.start();
      try {
        const view = await useConnection(base);
        const conversation = await h.host.api.createConversation({});
        const sent = await h.host.api.sendMessage({ conversationId: conversation.id, content: PROMPT });
        await waitFor(() => h.of("tokens").some((t) => t.messageId === sent.assistantMessage.id), 20_000, "the first streamed text");
        proxy.cut();
        const done = await h.completed(sent.assistantMessage.id);
        expect(done.status).toBe("interrupted");
        expect(done.content.length).toBeGreaterThan(0);
        expect(done.error).toContain(view.name);
        // The conversation goes on: the next reply works once the server is reachable again.
        expect((await h.host.api.getConversation({ id: conversation.id })).messages.at(-1)?.content).toBe(done.content);
      } finally {
        await proxy.stop();
      }
    });

    it("a wrong API key: the test says so, a reply fails with the reason, nothing is lost; the right key works", async () => {
      const guarded = await backend.start(KEY);
      try {
        const wrong = await useConnection(guarded.baseUrl, "not-the-key");
        expect(wrong.test).toMatchObject({ ok: false, code: "auth" });
        expect(wrong.test && !wrong.test.ok && wrong.test.message).toMatch(/API key/);
        await h.host.api.updateSettings({ chatEngine: { kind: "remote", connectionId: wrong.id, model: MODEL_ID } });
        const conversation = await h.host.api.createConversation({});
        const sent = await h.host.api.sendMessage({ conversationId: conversation.id, content: PROMPT });
        const failed = await h.completed(sent.assistantMessage.id);
        expect(failed.status).toBe("error");
        expect(failed.error).toMatch(/API key/);
        const stored = (await h.host.api.getConversation({ id: conversation.id })).messages;
        expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);
        expect(stored[0]?.content).toBe(PROMPT);

        const fixed = await h.host.api.updateConnection({ id: wrong.id, apiKey: KEY });
        expect(fixed.test).toMatchObject({ ok: true });
        expect(fixed.hasApiKey).toBe(true);
        const retried = await h.host.api.regenerate({ conversationId: conversation.id });
        expect((await h.completed(retried.assistantMessage.id)).status).toBe("complete");

        // Removing the connection in use sends chat back to this machine's model.
        expect(await h.host.api.removeConnection({ id: wrong.id })).toEqual({ removed: true });
        expect((await h.host.api.getSettings({})).chatEngine).toEqual({ kind: "local" });
      } finally {
        await guarded.stop();
      }
    });
  });
}
