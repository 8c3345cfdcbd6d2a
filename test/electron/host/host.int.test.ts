/**
 * The host with the real engine (dist/engine/main.js, built by `node build.mjs`) and the real model: a reply
 * streams and completes with stats; killing the engine mid-reply keeps the partial reply as 'interrupted', the
 * engine comes back with the model, and the next message works. Also `node dist/web.js` as a user starts it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHost, DATABASE_FILE } from "../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../electron/host/supervision/supervisor.js";
import type { EngineChild, Host } from "../../../electron/host/types.js";
import { repoPath, sharedModel, targetModel, TEST_THREADS } from "../../helpers/models.js";
import { isProcessAlive, waitFor } from "./fake-engine.js";
import { recordingLogger } from "./test-logger.js";
import { recordHostEvents } from "./event-recorder.js";

const engineEntry = repoPath("dist/engine/main.js");
const hosts: Host[] = [];

beforeAll(() => {
  if (!existsSync(engineEntry)) throw new Error(`${engineEntry} is missing: run \`node build.mjs\` first`);
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function realHost(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-host-int-"));
  const pids: number[] = [];
  const host = createHost(
    {
      dataDir,
      engineEntry,
      spawner: {
        spawn(options): EngineChild {
          const child = nodeForkSpawner.spawn(options);
          if (child.pid) pids.push(child.pid);
          return child;
        },
      },
      mode: "web",
      appVersion: "0.0.0-int",
    },
    { logger: recordingLogger(), env: { ...process.env, ...env } },
  );
  hosts.push(host);
  const { of, completed } = recordHostEvents(host, 60_000);
  return { host, dataDir, pids, of, completed };
}

async function setUp(harness: ReturnType<typeof realHost>): Promise<void> {
  await harness.host.start();
  expect((await harness.host.api.getEngineStatus({})).state).toBe("ready");
  await harness.host.api.updateSettings({ temperature: 0, threads: TEST_THREADS, maxTokens: 200, contextSize: 256 });
  const model = await harness.host.api.loadModel({ path: targetModel() });
  expect(model).toMatchObject({ contextSize: 256, threads: TEST_THREADS });
}

describe("host with the real engine", () => {
  it("streams a reply and completes it with stats", async () => {
    const harness = realHost();
    await setUp(harness);
    const { host, of, completed } = harness;
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({
      conversationId: conversation.id,
      content: "The LORD is my shepherd; I shall not want.",
    });
    expect(assistantMessage.model).toBe("kjv-chat-6m.gguf");
    const done = await completed(assistantMessage.id);
    expect(done.status).toBe("complete");
    expect(done.content.length).toBeGreaterThan(0);
    expect(done.stats).toMatchObject({ threads: TEST_THREADS, backend: "cpu" });
    expect(done.stats!.tokens).toBeGreaterThan(0);
    const streamed = of("tokens")
      .filter((t) => t.messageId === assistantMessage.id)
      .flatMap((t) => t.tokens.map((token) => token.text))
      .join("");
    expect(streamed).toBe(done.content);
    expect((await host.api.getConversation({ id: conversation.id })).conversation.title).toBe("The LORD is my shepherd; I shall not…");
  });

  it("speculates with a draft model: steps on the streamed tokens, accepted drafts, consistent counters", async () => {
    const harness = realHost();
    await setUp(harness);
    const { host, of, completed } = harness;
    const draftPath = sharedModel("kjv-chat-draft-1m.gguf");
    const draft = await host.api.setDraftModel({ path: draftPath });
    expect(draft).toMatchObject({ modelPath: draftPath, name: "kjv-chat-draft-1m.gguf", threads: TEST_THREADS });
    expect((await host.api.getSettings({})).draftModelPath).toBe(draftPath);
    expect(await host.api.getEngineStatus({})).toMatchObject({ draftModel: { modelPath: draftPath }, draftError: null });

    const conversation = await host.api.createConversation({});
    await host.api.setConversationSpeculation({ id: conversation.id, mode: "draft" });
    const { assistantMessage } = await host.api.sendMessage({
      conversationId: conversation.id,
      content: "In the beginning God created the heaven and the earth.",
    });
    expect(assistantMessage.settings).toMatchObject({ speculation: "draft", draftModel: "kjv-chat-draft-1m.gguf" });
    const done = await completed(assistantMessage.id);
    expect(done.status).toBe("complete");
    const events = of("tokens").filter((t) => t.messageId === assistantMessage.id);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.step !== undefined)).toBe(true);
    expect(events.map((e) => e.step!.index)).toEqual(events.map((_, i) => events[0].step!.index + i));
    const tokens = events.flatMap((e) => e.tokens);
    expect(tokens.map((t) => t.text).join("")).toBe(done.content);
    expect(tokens.some((t) => t.source === "draft")).toBe(true);

    const spec = done.stats!.speculation!;
    expect(spec.mode).toBe("draft");
    expect(spec.proposed).toBeGreaterThan(0);
    expect(spec.proposed).toBe(spec.accepted + spec.rejected);
    expect(spec.accepted).toBe(events.reduce((n, e) => n + e.step!.accepted, 0));
    expect(tokens.filter((t) => t.source === "draft")).toHaveLength(spec.accepted);

    // Loading the target again drops the draft in the engine; the host loads it back.
    await host.api.loadModel({ path: targetModel() });
    expect((await host.api.getEngineStatus({})).draftModel?.modelPath).toBe(draftPath);
    const next = await host.api.sendMessage({ conversationId: conversation.id, content: "And God said, Let there be light." });
    expect((await completed(next.assistantMessage.id)).stats?.speculation?.mode).toBe("draft");
  });

  it("pages conversations over the cache: switching back restores the state, clearCache empties the disk", async () => {
    const harness = realHost();
    await harness.host.start();
    // One slot: every switch pages the other conversation out to disk.
    await harness.host.api.updateSettings({ temperature: 0, threads: TEST_THREADS, maxTokens: 24, contextSize: 256, cacheSlots: 1, speculation: "off" });
    const model = await harness.host.api.loadModel({ path: targetModel() });
    expect(model).toMatchObject({ cacheSlots: 1 });
    expect(model.cacheMemoryBytes).toBeGreaterThan(0);
    const { host, of, completed, dataDir } = harness;
    const a = await host.api.createConversation({});
    const b = await host.api.createConversation({});
    const ask = async (id: string, content: string) => {
      const { assistantMessage } = await host.api.sendMessage({ conversationId: id, content });
      const done = await completed(assistantMessage.id);
      expect(done.status).toBe("complete");
      return { done, outcome: of("cacheOutcome").find((e) => e.messageId === assistantMessage.id)! };
    };
    expect((await ask(a.id, "The LORD is my shepherd; I shall not want.")).outcome).toMatchObject({ conversationId: a.id, outcome: "cold", restoredTokens: 0 });
    expect((await ask(b.id, "In the beginning God created the heaven and the earth.")).outcome.outcome).toBe("cold");
    const back = await ask(a.id, "He maketh me to lie down in green pastures.");
    expect(back.outcome.outcome).toBe("disk-restore");
    expect(back.outcome.restoredTokens).toBeGreaterThan(10);
    expect(back.outcome.evaluatedTokens).toBe(back.done.stats!.evaluatedPromptTokens);
    expect(back.done.stats!.cache).toMatchObject({ outcome: "disk-restore", restoredTokens: back.outcome.restoredTokens });

    await waitFor(() => (of("engineStatus").at(-1)?.cache?.diskStates ?? 0) >= 1, 10_000, "cache figures after the reply");
    const before = (await host.api.getEngineStatus({})).cache!;
    expect(before).toMatchObject({ slots: 1, slotsInUse: 1 });
    expect(before.diskBytes).toBeGreaterThan(0);
    const kv = join(dataDir, "cache", "kv");
    const stateFiles = () => readdirSync(kv).flatMap((folder) => readdirSync(join(kv, folder)));
    expect(stateFiles().length).toBeGreaterThan(0);

    const { freedBytes } = await host.api.clearCache({});
    expect(freedBytes).toBeGreaterThanOrEqual(before.diskBytes);
    expect((await host.api.getEngineStatus({})).cache).toMatchObject({ diskBytes: 0, diskStates: 0, slotsInUse: 0 });
    expect(stateFiles()).toEqual([]);
    // With nothing cached, the next turn of b is evaluated from scratch.
    expect((await ask(b.id, "And God said, Let there be light.")).outcome.outcome).toBe("cold");
  });

  it("keeps a partial reply when the engine is killed, restarts it and answers the next message", async () => {
    // Paced decoding (an engine knob for tests) leaves time to kill the engine mid-reply.
    const harness = realHost({ TANDEM_ENGINE_STEP_DELAY_MS: "15" });
    await setUp(harness);
    const { host, dataDir, pids, of, completed } = harness;
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({
      conversationId: conversation.id,
      content: "In the beginning God created the heaven and the earth.",
    });
    await waitFor(() => of("tokens").filter((t) => t.messageId === assistantMessage.id).length >= 3, 30_000, "the first tokens");
    const enginePid = pids.at(-1)!;
    process.kill(enginePid, "SIGKILL");

    const interrupted = await completed(assistantMessage.id);
    expect(interrupted.status).toBe("interrupted");
    expect(interrupted.error).toBe("The engine stopped unexpectedly (killed); the reply was cut off.");
    expect(interrupted.content.length).toBeGreaterThan(0);
    expect(of("engineCrashed")[0]).toMatchObject({ crash: { reason: "killed", signal: "SIGKILL" }, restarting: true });
    await waitFor(() => !isProcessAlive(enginePid), 5_000, "the killed engine to be gone");

    // The partial text is on disk, not only in memory.
    const reader = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    const row = reader.prepare("SELECT status, content FROM messages WHERE id = ?").get(assistantMessage.id) as { status: string; content: string };
    reader.close();
    expect(row).toEqual({ status: "interrupted", content: interrupted.content });

    // The engine comes back and reloads the model by itself; the next message simply works.
    const next = await host.api.sendMessage({ conversationId: conversation.id, content: "And God said, Let there be light." });
    const answered = await completed(next.assistantMessage.id);
    expect(answered.status).toBe("complete");
    expect(answered.content.length).toBeGreaterThan(0);
    expect(pids.length).toBe(2);
    const status = await host.api.getEngineStatus({});
    expect(status).toMatchObject({ state: "ready", restarts: 1, lastCrash: { reason: "killed" } });
    expect(status.model?.modelPath).toBe(targetModel());
  });
});

describe("web mode as built", () => {
  it("prints exactly one line with the URL and shuts down cleanly on SIGTERM", async () => {
    const webEntry = repoPath("dist/web.js");
    if (!existsSync(webEntry)) throw new Error(`${webEntry} is missing: run \`node build.mjs\` first`);
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-web-int-"));
    const child = spawn(process.execPath, [webEntry, "--port", "0"], {
      env: { ...process.env, TANDEM_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes("\n"), 30_000, `the URL line (stderr: ${stderr})`);
      await waitFor(() => stderr.includes("Engine ready"), 60_000, "the engine to start");
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^Tandem web mode: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
      const port = Number(/:(\d+)\//.exec(lines[0])![1]);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toContain(`connect-src 'self' ws://127.0.0.1:${port}`);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(existsSync(join(dataDir, DATABASE_FILE))).toBe(true);
  });
});
