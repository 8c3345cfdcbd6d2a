/**
 * The API server inside the host (what the app and web mode run), with the real engine: off by default, started by
 * settings.apiServer, its status pushed to the window, its key set through the window API (never shown back), API
 * conversations kept in the chat list only when asked, a non-loopback address refused without a key, and the chat
 * window still answering while API requests use the engine.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiServerSettings, ApiServerStatus, Message } from "../../../../contracts/window/index.js";
import { API_KEY_FILE, createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { repoPath, targetModel, TEST_THREADS } from "../../../helpers/models.js";
import { recordingLogger } from "../test-logger.js";
import { eventually, MODEL_ID } from "./harness.js";

const hosts: Host[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

async function startedHost() {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-host-api-"));
  const host = createHost({ dataDir, engineEntry: repoPath("dist/engine/main.js"), spawner: nodeForkSpawner, mode: "web", appVersion: "0.0.0-int" }, { logger: recordingLogger() });
  hosts.push(host);
  const statuses: ApiServerStatus[] = [];
  const completed: Message[] = [];
  host.onEvent((event, data) => {
    if (event === "apiServerStatus") statuses.push(data as ApiServerStatus);
    if (event === "messageCompleted") completed.push((data as { message: Message }).message);
  });
  await host.start();
  await host.api.updateSettings({ temperature: 0, threads: TEST_THREADS, maxTokens: 30, contextSize: 256, speculation: "off" });
  await host.api.loadModel({ path: targetModel() });
  return { host, dataDir, statuses, completed };
}

const settings = (patch: Partial<ApiServerSettings> = {}): ApiServerSettings => ({
  enabled: true,
  host: "127.0.0.1",
  port: 0,
  corsOrigins: [],
  keepConversations: false,
  maxQueue: 16,
  ...patch,
});

const ask = (baseUrl: string, content: string, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ model: MODEL_ID, temperature: 0, max_tokens: 20, messages: [{ role: "user", content }] }),
  });

describe("the API server in the host", () => {
  it("is off by default, starts from settings, takes a key from the window and keeps it from the window", async () => {
    const { host, dataDir, statuses } = await startedHost();
    expect((await host.api.getSettings({})).apiServer).toEqual({ enabled: false, host: "127.0.0.1", port: 11435, corsOrigins: [], keepConversations: false, maxQueue: 16 });
    expect(await host.api.getApiServerStatus({})).toMatchObject({ state: "off", baseUrl: null, keySet: false });

    await host.api.updateSettings({ apiServer: settings() });
    await eventually(() => statuses.at(-1)?.state === "running", 10_000, "the server to run");
    const status = await host.api.getApiServerStatus({});
    expect(status).toMatchObject({ state: "running", error: null, modelId: MODEL_ID });
    expect(status.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const baseUrl = status.baseUrl!;
    expect((await ask(baseUrl, "The LORD is my shepherd")).status).toBe(200);
    // API traffic stays out of the chat list by default.
    expect(await host.api.listConversations({})).toEqual([]);

    const keyed = await host.api.setApiServerKey({ key: "window-key-123456" });
    expect(keyed).toMatchObject({ keySet: true, state: "running", baseUrl });
    expect(JSON.stringify(keyed)).not.toContain("window-key-123456");
    expect(JSON.stringify(await host.api.getSettings({}))).not.toContain("window-key-123456");
    expect(readFileSync(join(dataDir, API_KEY_FILE), "utf8")).toBe("window-key-123456");
    expect(statSync(join(dataDir, API_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await ask(baseUrl, "Amen")).status).toBe(401);
    expect((await ask(baseUrl, "Amen", { Authorization: "Bearer window-key-123456" })).status).toBe(200);
    await eventually(() => statuses.at(-1)?.requests === 3, 5_000, "the request count in the status");

    await host.api.updateSettings({ apiServer: settings({ enabled: false }) });
    await eventually(() => statuses.at(-1)?.state === "off", 10_000, "the server to stop");
    await expect(fetch(`${baseUrl}/models`)).rejects.toThrow();
  });

  it("refuses to listen beyond loopback without a key, with a clear error", async () => {
    const { host, statuses } = await startedHost();
    await host.api.updateSettings({ apiServer: settings({ host: "0.0.0.0" }) });
    await eventually(() => statuses.at(-1)?.state === "error", 10_000, "the refusal");
    expect((await host.api.getApiServerStatus({})).error).toMatch(/needs an API key/);
    await host.api.setApiServerKey({ key: "network-key-123456" });
    await eventually(() => statuses.at(-1)?.state === "running", 10_000, "the server to run with a key");
    expect((await host.api.getApiServerStatus({})).baseUrl).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/v1$/);
  });

  it("keeps API conversations when asked, and the chat window answers alongside API requests", async () => {
    const { host, statuses, completed } = await startedHost();
    await host.api.updateSettings({ apiServer: settings({ keepConversations: true }) });
    await eventually(() => statuses.at(-1)?.state === "running", 10_000, "the server to run");
    const baseUrl = (await host.api.getApiServerStatus({})).baseUrl!;

    const conversation = await host.api.createConversation({});
    const apiReplies = Promise.all(["Blessed are the meek", "Let there be light"].map((content) => ask(baseUrl, content)));
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "The LORD is my shepherd" });
    const responses = await apiReplies;
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    await eventually(() => completed.some((m) => m.id === assistantMessage.id), 30_000, "the window's reply");
    expect(completed.find((m) => m.id === assistantMessage.id)).toMatchObject({ status: "complete" });

    const listed = await host.api.listConversations({});
    const api = listed.filter((c) => c.title.startsWith("API: "));
    expect(api.map((c) => c.title).sort()).toEqual(["API: Blessed are the meek", "API: Let there be light"]);
    const stored = await host.api.getConversation({ id: api.find((c) => c.title === "API: Blessed are the meek")!.id });
    const body = await (await ask(baseUrl, "Blessed are the meek")).json();
    expect(stored.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
    expect(stored.messages[1]!.content).toBe(body.choices[0].message.content);
    expect(stored.messages[1]!.stats?.tokens).toBeGreaterThan(0);
  });
});
