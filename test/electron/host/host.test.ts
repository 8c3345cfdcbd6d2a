/** The host over the fake engine: the API's behaviour without a real model (host.int.test.ts uses the real one). */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHost, DATABASE_FILE } from "../../../electron/host/host.js";
import { AppDatabase } from "../../../electron/host/store/app-database.js";
import { nodeForkSpawner } from "../../../electron/host/supervision/supervisor.js";
import type { EngineChild, Host } from "../../../electron/host/types.js";
import { type WindowEventData } from "../../../contracts/window/index.js";
import { waitFor, writeFakeEngine } from "./fake-engine.js";
import { recordingLogger } from "./test-logger.js";
import { sharedModel } from "../../helpers/models.js";
import { apiError } from "./api-error.js";
import { recordHostEvents, type HostEvents } from "./event-recorder.js";

let entry: string;
let modelsDir: string;
let modelPath: string;
const hosts: Host[] = [];

beforeAll(() => {
  entry = writeFakeEngine();
  modelsDir = mkdtempSync(join(tmpdir(), "tandem-host-models-"));
  modelPath = join(modelsDir, "kjv-fake.gguf");
  writeFileSync(modelPath, "fake");
  writeFileSync(join(modelsDir, "broken.gguf"), "fake");
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

interface Harness extends HostEvents {
  host: Host;
  dataDir: string;
  pids: number[];
}

function makeHost(fakeEnv: Record<string, string> = {}, pickFolder?: () => Promise<string | null>): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-host-test-"));
  const pids: number[] = [];
  const host = createHost(
    {
      dataDir,
      engineEntry: entry,
      spawner: {
        spawn(options): EngineChild {
          const child = nodeForkSpawner.spawn(options);
          if (child.pid) pids.push(child.pid);
          return child;
        },
      },
      mode: "web",
      appVersion: "9.9.9-test",
      pickFolder,
    },
    {
      logger: recordingLogger(),
      env: { PATH: process.env.PATH, ...fakeEnv },
      supervisorTiming: { pingIntervalMs: 0, backoffBaseMs: 20, stopTimeoutMs: 500 },
      persistIntervalMs: 50,
    },
  );
  hosts.push(host);
  const { events, of, completed } = recordHostEvents(host, 10_000);
  return { host, dataDir, events, pids, of, completed };
}

async function startWithModel(fakeEnv: Record<string, string> = {}): Promise<Harness> {
  const harness = makeHost(fakeEnv);
  await harness.host.start();
  await harness.host.api.loadModel({ path: modelPath });
  return harness;
}

describe("host startup and status", () => {
  it("starts the engine and reports its status", async () => {
    const { host, of } = makeHost();
    await host.start();
    const status = await host.api.getEngineStatus({});
    expect(status).toMatchObject({ state: "ready", model: null, lastCrash: null, restarts: 0 });
    expect(status.system?.backend).toBe("cpu");
    expect(of("engineStatus").map((s) => s.state)).toContain("starting");
    expect(of("engineStatus").at(-1)?.state).toBe("ready");
    expect(await host.api.getAppInfo({})).toMatchObject({ version: "9.9.9-test", mode: "web", canPickFolder: false });
  });

  it("validates params and answers with TandemApiError", async () => {
    const { host } = makeHost();
    await host.start();
    const error = await apiError(host.api.renameConversation({ id: "x", title: "   " }));
    expect(error.code).toBe("BAD_REQUEST");
    expect((await apiError(host.api.getConversation({ id: "missing" }))).code).toBe("NOT_FOUND");
  });

  it("loads the saved model when it starts", async () => {
    const first = await startWithModel();
    await first.host.dispose();
    // A second host over the same data folder finds modelPath in the settings and loads it by itself.
    const host = createHost(
      { dataDir: first.dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
      { logger: recordingLogger(), env: { PATH: process.env.PATH } },
    );
    hosts.push(host);
    let model: string | undefined;
    host.onEvent((event, data) => {
      if (event === "engineStatus") model = (data as WindowEventData<"engineStatus">).model?.modelPath;
    });
    await host.start();
    await waitFor(() => model === modelPath, 5_000, "the saved model to load");
    expect((await host.api.getEngineStatus({})).model?.modelPath).toBe(modelPath);
  });
});

describe("models", () => {
  it("loads a model, reports progress and saves it as the chat model", async () => {
    const { host, of } = makeHost({ TANDEM_FAKE_LOAD_MS: "100" });
    await host.start();
    const loaded = await host.api.loadModel({ path: modelPath });
    expect(loaded.modelPath).toBe(modelPath);
    expect(of("modelLoadProgress")).toEqual([
      { modelPath, progress: 0.5 },
      { modelPath, progress: 1 },
    ]);
    expect(of("engineStatus").map((s) => s.state)).toContain("loading-model");
    expect((await host.api.getEngineStatus({})).model?.name).toBe("kjv-fake.gguf");
    expect((await host.api.getSettings({})).modelPath).toBe(modelPath);
    expect(of("settingsChanged").at(-1)?.modelPath).toBe(modelPath);
  });

  it("refuses a missing file and reports an engine load failure", async () => {
    const { host } = makeHost();
    await host.start();
    expect((await apiError(host.api.loadModel({ path: join(modelsDir, "nope.gguf") }))).code).toBe("MODEL_NOT_FOUND");
    const failure = await apiError(host.api.loadModel({ path: join(modelsDir, "broken.gguf") }));
    expect(failure).toMatchObject({ code: "MODEL_LOAD_FAILED", message: "The model file is damaged" });
    expect((await host.api.getEngineStatus({})).modelError).toBe("The model file is damaged");
    expect((await host.api.getSettings({})).modelPath).toBeNull();
  });

  it("lists the models folder and changes it", async () => {
    const { host, of } = makeHost();
    await host.start();
    expect((await host.api.listModels({})).models).toEqual([]);
    const listing = await host.api.setModelsFolder({ path: modelsDir });
    expect(listing.folder).toBe(modelsDir);
    expect(listing.models.map((m) => m.name)).toEqual(["broken.gguf", "kjv-fake.gguf"]);
    expect((await host.api.getSettings({})).modelsFolder).toBe(modelsDir);
    expect(of("settingsChanged").at(-1)?.modelsFolder).toBe(modelsDir);
    expect((await apiError(host.api.setModelsFolder({ path: modelPath }))).message).toMatch(/not a folder/);
  });

  it("chooseModelsFolder uses the shell's picker, or asks for a typed path", async () => {
    const withoutPicker = makeHost();
    await withoutPicker.host.start();
    const error = await apiError(withoutPicker.host.api.chooseModelsFolder({}));
    expect(error.code).toBe("UNSUPPORTED");
    expect(error.message).toMatch(/Type the folder path instead/);

    let answer: string | null = null;
    const withPicker = makeHost({}, async () => answer);
    await withPicker.host.start();
    expect(await withPicker.host.api.chooseModelsFolder({})).toBeNull();
    answer = modelsDir;
    expect((await withPicker.host.api.chooseModelsFolder({}))?.models).toHaveLength(2);
  });
});

describe("model library", () => {
  it("lists each model with its GGUF facts, and an error for an unreadable file", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tandem-host-library-"));
    copyFileSync(sharedModel("kjv-chat-6m.gguf"), join(folder, "kjv-chat-6m.gguf"));
    copyFileSync(sharedModel("kjv-chat-draft-1m.gguf"), join(folder, "kjv-chat-draft-1m.gguf"));
    writeFileSync(join(folder, "notes.gguf"), "not a model");
    const { host } = makeHost();
    await host.start();
    const { models } = await host.api.setModelsFolder({ path: folder });
    expect(models.map((m) => m.name)).toEqual(["kjv-chat-6m.gguf", "kjv-chat-draft-1m.gguf", "notes.gguf"]);
    expect(models[0]).toMatchObject({ architecture: "llama", parameters: 5_795_072, quantization: "F32", contextLength: 256, tokenizer: "llama", vocabSize: 2048, hasChatTemplate: true, chatTemplate: "ChatML" });
    expect(models[0].error).toBeUndefined();
    expect(models[2].error).toMatch(/^notes\.gguf is not a GGUF model/);
    expect(models[2].architecture).toBeUndefined();
    expect((await host.api.listModels({})).models).toEqual(models);

    const drafts = await host.api.compatibleDrafts({ targetPath: join(folder, "kjv-chat-6m.gguf") });
    expect(drafts.candidates).toEqual([
      expect.objectContaining({ name: "kjv-chat-draft-1m.gguf", compatible: true, recommended: true, parameters: 920_192 }),
    ]);
    expect(await host.api.compatibleDrafts({})).toEqual({ targetPath: null, candidates: [] });
    expect((await apiError(host.api.compatibleDrafts({ targetPath: join(folder, "notes.gguf") }))).code).toBe("NOT_GGUF");
  });

  it("imports a GGUF into the models folder and deletes it; the loaded model is refused with BUSY", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tandem-host-import-"));
    const { host, of } = makeHost();
    await host.start();
    await host.api.setModelsFolder({ path: folder });
    expect((await apiError(host.api.importModel({ path: modelPath }))).code).toBe("NOT_GGUF");
    const imported = await host.api.importModel({ path: sharedModel("kjv-chat-draft-1m.gguf"), mode: "copy" });
    expect(imported).toMatchObject({ method: "copied", folder, model: { name: "kjv-chat-draft-1m.gguf", architecture: "llama" } });
    expect((await host.api.listModels({})).models.map((m) => m.name)).toEqual(["kjv-chat-draft-1m.gguf"]);
    // The window takes the library from modelsChanged only: a change the host makes itself is pushed at once.
    expect(of("modelsChanged").at(-1)?.models.map((m) => m.name)).toEqual(["kjv-chat-draft-1m.gguf"]);

    await host.api.loadModel({ path: imported.model.path });
    const busy = await apiError(host.api.deleteModel({ path: imported.model.path }));
    expect(busy.code).toBe("BUSY");
    expect(busy.message).toMatch(/loaded chat model/);

    await host.api.loadModel({ path: modelPath });
    const size = imported.model.sizeBytes;
    expect(await host.api.deleteModel({ path: imported.model.path })).toEqual({ deleted: true, freedBytes: size });
    expect((await host.api.listModels({})).models).toEqual([]);
    expect(of("modelsChanged").at(-1)?.models).toEqual([]);
    expect(of("settingsChanged").length).toBeGreaterThan(0);
  });

  it("chooseModelFile is UNSUPPORTED without the shell's file picker", async () => {
    const { host } = makeHost();
    await host.start();
    expect(await host.api.getAppInfo({})).toMatchObject({ canPickFile: false });
    expect((await apiError(host.api.chooseModelFile({}))).code).toBe("UNSUPPORTED");
  });
});

describe("chat", () => {
  it("without a model: keeps the user message and ends the reply with a clear error", async () => {
    const { host, completed } = makeHost();
    await host.start();
    const conversation = await host.api.createConversation({});
    const { userMessage, assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "Hello" });
    expect(userMessage).toMatchObject({ role: "user", content: "Hello", status: "complete" });
    expect(assistantMessage).toMatchObject({ role: "assistant", status: "streaming", content: "" });
    const done = await completed(assistantMessage.id);
    expect(done).toMatchObject({ status: "error", error: "No model loaded: choose a model first." });
    const { messages } = await host.api.getConversation({ id: conversation.id });
    expect(messages.map((m) => [m.role, m.status])).toEqual([
      ["user", "complete"],
      ["assistant", "error"],
    ]);
  });

  it("streams a reply, records it with stats and titles the conversation", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "tandem-record-")), "generate.json");
    const { host, of, completed } = await startWithModel({ TANDEM_FAKE_RECORD_MESSAGES: record });
    await host.api.updateSettings({ systemPrompt: "You are terse.", temperature: 0.2, maxTokens: 64 });
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({
      conversationId: conversation.id,
      content: "The LORD is my shepherd and I shall not want for anything at all",
    });
    expect(assistantMessage.model).toBe("kjv-fake.gguf");
    expect(assistantMessage.settings).toEqual({
      systemPrompt: "You are terse.",
      temperature: 0.2,
      maxTokens: 64,
      speculation: "auto",
      draftModel: null,
    });
    const done = await completed(assistantMessage.id);
    expect(done.status).toBe("complete");
    expect(done.content).toBe("Echo: The LORD is my shepherd and I shall not want for anything at all");
    expect(done.stats?.stopReason).toBe("eog");
    const streamed = of("tokens").filter((t) => t.messageId === assistantMessage.id);
    expect(streamed.every((t) => t.conversationId === conversation.id)).toBe(true);
    expect(streamed.flatMap((t) => t.tokens.map((token) => token.text)).join("")).toBe(done.content);

    const sent = JSON.parse(readFileSync(record, "utf8")) as { messageId: string; conversationId: string; messages: unknown[]; maxTokens: number; sampling: unknown };
    expect(sent).toMatchObject({ messageId: assistantMessage.id, conversationId: conversation.id, maxTokens: 64, sampling: { temperature: 0.2 } });
    expect(sent.messages).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "The LORD is my shepherd and I shall not want for anything at all" },
    ]);

    const titled = (await host.api.listConversations({}))[0];
    expect(titled.title).toBe("The LORD is my shepherd and I shall not…");
    expect(of("conversationUpdated").some((e) => e.conversation.title === titled.title)).toBe(true);
    // A later message does not retitle it.
    const second = await host.api.sendMessage({ conversationId: conversation.id, content: "Another one" });
    await completed(second.assistantMessage.id);
    expect((await host.api.getConversation({ id: conversation.id })).conversation.title).toBe(titled.title);
  });

  it("sends the usable history: no error replies, no empty assistant turns", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "tandem-record-")), "generate.json");
    const harness = makeHost({ TANDEM_FAKE_RECORD_MESSAGES: record });
    const { host, completed } = harness;
    await host.start();
    const conversation = await host.api.createConversation({ title: "History" });
    const failed = await host.api.sendMessage({ conversationId: conversation.id, content: "first try" });
    await completed(failed.assistantMessage.id);
    await host.api.loadModel({ path: modelPath });
    const ok = await host.api.sendMessage({ conversationId: conversation.id, content: "second" });
    await completed(ok.assistantMessage.id);
    const last = await host.api.sendMessage({ conversationId: conversation.id, content: "third" });
    await completed(last.assistantMessage.id);
    const sent = JSON.parse(readFileSync(record, "utf8")) as { messages: unknown[] };
    expect(sent.messages).toEqual([
      { role: "user", content: "first try" },
      { role: "user", content: "second" },
      { role: "assistant", content: "Echo: second" },
      { role: "user", content: "third" },
    ]);
  });

  it("runs one generation at a time", async () => {
    const { host, completed } = await startWithModel({ TANDEM_FAKE_STEP_MS: "30" });
    const conversation = await host.api.createConversation({});
    const other = await host.api.createConversation({});
    const first = await host.api.sendMessage({ conversationId: conversation.id, content: "one two three four five six" });
    const busy = await apiError(host.api.sendMessage({ conversationId: other.id, content: "me too" }));
    expect(busy.code).toBe("BUSY");
    expect((await apiError(host.api.regenerate({ conversationId: conversation.id }))).code).toBe("BUSY");
    expect((await apiError(host.api.loadModel({ path: modelPath }))).code).toBe("BUSY");
    expect((await host.api.getConversation({ id: other.id })).messages).toEqual([]);
    await completed(first.assistantMessage.id);
    const after = await host.api.sendMessage({ conversationId: other.id, content: "now" });
    expect((await completed(after.assistantMessage.id)).status).toBe("complete");
  });

  it("Stop keeps the partial reply as 'stopped'", async () => {
    const { host, of, completed } = await startWithModel({ TANDEM_FAKE_STEP_MS: "40" });
    const conversation = await host.api.createConversation({});
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: words });
    await waitFor(() => of("tokens").length >= 3, 5_000, "some tokens");
    expect(await host.api.stopGeneration({ conversationId: "another" })).toEqual({ stopped: false });
    expect(await host.api.stopGeneration({ conversationId: conversation.id })).toEqual({ stopped: true });
    const done = await completed(assistantMessage.id);
    expect(done.status).toBe("stopped");
    expect(done.content.startsWith("Echo: word0")).toBe(true);
    expect(done.content.length).toBeLessThan(`Echo: ${words}`.length);
    expect(done.stats?.stopReason).toBe("abort");
  });

  it("keeps the partial reply in SQLite while streaming", async () => {
    const { host, dataDir, of, completed } = await startWithModel({ TANDEM_FAKE_STEP_MS: "40" });
    const conversation = await host.api.createConversation({});
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: words });
    await waitFor(() => of("tokens").length >= 6, 5_000, "tokens");
    await new Promise((resolve) => setTimeout(resolve, 120));
    // Read the file the way a fresh process would after a crash, without touching it.
    const reader = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    const saved = reader.prepare("SELECT content, status FROM messages WHERE id = ?").get(assistantMessage.id) as { content: string; status: string };
    reader.close();
    expect(saved.status).toBe("streaming");
    expect(saved.content.startsWith("Echo: w0 w1")).toBe(true);
    expect(saved.content.length).toBeLessThan(`Echo: ${words}`.length);
    await host.api.stopGeneration({ conversationId: conversation.id });
    await completed(assistantMessage.id);
  });

  it("shows the live text of a streaming reply in getConversation", async () => {
    const { host, of, completed } = await startWithModel({ TANDEM_FAKE_STEP_MS: "40" });
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "a b c d e f g h i j k l m n o p" });
    await waitFor(() => of("tokens").length >= 2, 5_000, "tokens");
    const { messages } = await host.api.getConversation({ id: conversation.id });
    const live = messages.find((m) => m.id === assistantMessage.id)!;
    const streamedSoFar = of("tokens").flatMap((t) => t.tokens.map((token) => token.text)).join("");
    expect(live.status).toBe("streaming");
    expect(live.content).toBe(streamedSoFar);
    await completed(assistantMessage.id);
  });

  it("reports engine errors on the message", async () => {
    const { host, completed } = await startWithModel();
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "TOOLONG text" });
    expect(await completed(assistantMessage.id)).toMatchObject({ status: "error", error: "The message is too long for the context", content: "" });
  });

  it("a crash mid-reply interrupts it, keeps the partial text, and the next message works after the restart", async () => {
    const { host, dataDir, of, completed, pids } = await startWithModel();
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "please CRASH during this reply" });
    const done = await completed(assistantMessage.id);
    expect(done).toMatchObject({
      status: "interrupted",
      content: "Echo: please",
      error: "The engine stopped unexpectedly (exited); the reply was cut off.",
    });
    expect(of("engineCrashed")[0]).toMatchObject({ crash: { reason: "exited", exitCode: 9 }, restarting: true });
    await waitFor(() => of("engineStatus").some((s) => s.state === "ready" && s.model !== null && s.restarts === 1), 10_000, "restart + model reload");
    expect(pids).toHaveLength(2);
    const next = await host.api.sendMessage({ conversationId: conversation.id, content: "still there?" });
    expect(await completed(next.assistantMessage.id)).toMatchObject({ status: "complete", content: "Echo: still there?" });
    const status = await host.api.getEngineStatus({});
    expect(status.lastCrash?.reason).toBe("exited");
    await host.dispose();
    const reader = new AppDatabase(join(dataDir, DATABASE_FILE), { dataDir });
    expect(reader.getMessage(assistantMessage.id)).toMatchObject({ status: "interrupted", content: "Echo: please" });
    reader.close();
  });

  it("regenerate replaces the last reply", async () => {
    const { host, completed } = await startWithModel();
    const conversation = await host.api.createConversation({});
    expect((await apiError(host.api.regenerate({ conversationId: conversation.id }))).code).toBe("BAD_REQUEST");
    const sent = await host.api.sendMessage({ conversationId: conversation.id, content: "hello" });
    await completed(sent.assistantMessage.id);
    const { assistantMessage } = await host.api.regenerate({ conversationId: conversation.id });
    expect(assistantMessage.id).not.toBe(sent.assistantMessage.id);
    await completed(assistantMessage.id);
    const { messages } = await host.api.getConversation({ id: conversation.id });
    expect(messages.map((m) => m.id)).toEqual([sent.userMessage.id, assistantMessage.id]);
  });

  it("editAndResend edits only the last user message and drops what followed", async () => {
    const { host, completed } = await startWithModel();
    const conversation = await host.api.createConversation({});
    const first = await host.api.sendMessage({ conversationId: conversation.id, content: "first" });
    await completed(first.assistantMessage.id);
    const second = await host.api.sendMessage({ conversationId: conversation.id, content: "second" });
    await completed(second.assistantMessage.id);
    const refused = await apiError(host.api.editAndResend({ conversationId: conversation.id, messageId: first.userMessage.id, content: "changed" }));
    expect(refused.code).toBe("BAD_REQUEST");
    const { userMessage, assistantMessage } = await host.api.editAndResend({
      conversationId: conversation.id,
      messageId: second.userMessage.id,
      content: "second, edited",
    });
    expect(userMessage).toMatchObject({ id: second.userMessage.id, content: "second, edited" });
    expect((await completed(assistantMessage.id)).content).toBe("Echo: second, edited");
    const { messages } = await host.api.getConversation({ id: conversation.id });
    expect(messages.map((m) => m.content)).toEqual(["first", "Echo: first", "second, edited", "Echo: second, edited"]);
  });

  it("conversations: create, rename, search and delete push events", async () => {
    const { host, of } = makeHost();
    await host.start();
    const created = await host.api.createConversation({ title: "  Psalms  " });
    expect(created.title).toBe("Psalms");
    await host.api.renameConversation({ id: created.id, title: "Proverbs" });
    expect((await host.api.listConversations({ query: "prov" })).map((c) => c.id)).toEqual([created.id]);
    expect(await host.api.deleteConversation({ id: created.id })).toEqual({ deleted: true });
    expect(await host.api.deleteConversation({ id: created.id })).toEqual({ deleted: false });
    expect(of("conversationUpdated").map((e) => e.conversation.title)).toEqual(["Psalms", "Proverbs"]);
    expect(of("conversationDeleted")).toEqual([{ id: created.id }]);
  });
});

describe("settings and engine control", () => {
  it("a GPU change restarts the engine and reloads the model", async () => {
    const { host, of, pids } = await startWithModel();
    const settings = await host.api.updateSettings({ gpu: "cpu" });
    expect(settings.gpu).toBe("cpu");
    expect(of("settingsChanged").at(-1)?.gpu).toBe("cpu");
    await waitFor(() => pids.length === 2, 5_000, "a new engine");
    await waitFor(() => of("engineStatus").some((s) => s.system?.gpuRequested === "cpu" && s.model !== null), 5_000, "reload");
  });

  it("a threads change reloads the loaded model with the new value", async () => {
    const { host, of } = await startWithModel();
    await host.api.updateSettings({ threads: 2 });
    await waitFor(() => of("engineStatus").some((s) => s.model?.threads === 2), 5_000, "reload with 2 threads");
    const status = await host.api.getEngineStatus({});
    expect(status.model?.threads).toBe(2);
  });

  it("restartEngine replaces the engine and brings the model back", async () => {
    const { host, pids, of } = await startWithModel();
    const status = await host.api.restartEngine({});
    expect(status.state === "ready" || status.state === "loading-model").toBe(true);
    expect(pids).toHaveLength(2);
    expect(of("engineCrashed")).toEqual([]);
    await waitFor(() => of("engineStatus").at(-1)?.model !== null, 5_000, "model reload");
  });

  it("dispose stops a running reply, keeps its text and closes the database", async () => {
    const { host, dataDir, of } = await startWithModel({ TANDEM_FAKE_STEP_MS: "40" });
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "a b c d e f g h i j k l m n o p q r s t" });
    await waitFor(() => of("tokens").length >= 3, 5_000, "tokens");
    await host.dispose();
    expect((await apiError(host.api.listConversations({}))).code).toBe("NOT_STARTED");
    const reader = new AppDatabase(join(dataDir, DATABASE_FILE), { dataDir });
    const saved = reader.getMessage(assistantMessage.id);
    reader.close();
    expect(saved?.status).toBe("stopped");
    expect(saved?.content.startsWith("Echo: a b")).toBe(true);
  });
});

describe("before start", () => {
  it("serves the store before start() so an early window is not refused", async () => {
    const { host } = makeHost();
    const conversation = await host.api.createConversation({ title: "Early" });
    expect((await host.api.listConversations({})).map((c) => c.id)).toEqual([conversation.id]);
    expect((await host.api.getEngineStatus({})).state).toBe("stopped");
    await host.start();
    expect((await host.api.getEngineStatus({})).state).toBe("ready");
  });
});

describe("speculation", () => {
  let draftsDir: string;
  let draftPath: string;
  let otherDraftPath: string;
  let incompatiblePath: string;

  beforeAll(() => {
    draftsDir = mkdtempSync(join(tmpdir(), "tandem-host-drafts-"));
    draftPath = join(draftsDir, "kjv-draft.gguf");
    otherDraftPath = join(draftsDir, "kjv-draft-2.gguf");
    incompatiblePath = join(draftsDir, "incompatible-draft.gguf");
    for (const path of [draftPath, otherDraftPath, incompatiblePath]) writeFileSync(path, "fake");
  });

  /** The fake engine appends every request it gets to a file, across restarts. */
  function recordCalls(): { env: Record<string, string>; calls: () => Array<{ method: string; params: Record<string, unknown> }> } {
    const file = join(mkdtempSync(join(tmpdir(), "tandem-calls-")), "calls.jsonl");
    writeFileSync(file, "");
    return {
      env: { TANDEM_FAKE_RECORD_CALLS: file },
      calls: () =>
        readFileSync(file, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { method: string; params: Record<string, unknown> }),
    };
  }

  const modelCalls = (calls: Array<{ method: string; params: Record<string, unknown> }>) =>
    calls.filter((c) => /^(load|unload)/.test(c.method)).map((c) => `${c.method} ${String(c.params.modelPath ?? "")}`.trim());

  it("setDraftModel loads the draft, saves it and pushes the status; null unloads it and clears the setting", async () => {
    const recorder = recordCalls();
    const { host, of } = await startWithModel(recorder.env);
    const info = await host.api.setDraftModel({ path: draftPath });
    expect(info).toMatchObject({ modelPath: draftPath, name: "kjv-draft.gguf" });
    expect((await host.api.getSettings({})).draftModelPath).toBe(draftPath);
    expect(of("settingsChanged").at(-1)?.draftModelPath).toBe(draftPath);
    expect(of("engineStatus").at(-1)).toMatchObject({ draftModel: { modelPath: draftPath }, draftError: null });
    expect(recorder.calls().find((c) => c.method === "loadDraftModel")?.params).toEqual({ modelPath: draftPath, threads: "auto" });

    expect(await host.api.setDraftModel({ path: null })).toBeNull();
    expect((await host.api.getSettings({})).draftModelPath).toBeNull();
    expect(await host.api.getEngineStatus({})).toMatchObject({ draftModel: null, draftError: null });
    expect(modelCalls(recorder.calls())).toEqual([`loadModel ${modelPath}`, `loadDraftModel ${draftPath}`, "unloadDraftModel"]);
  });

  it("refuses the chat model, or a copy of its file, as its draft", async () => {
    const { host } = await startWithModel();
    const itself = await apiError(host.api.setDraftModel({ path: modelPath }));
    expect(itself.code).toBe("DRAFT_IS_MODEL");
    expect(itself.message).toMatch(/is the chat model: a model cannot draft for itself/);
    const copyDir = mkdtempSync(join(tmpdir(), "tandem-host-copy-"));
    const copy = join(copyDir, basename(modelPath));
    copyFileSync(modelPath, copy);
    const copied = await apiError(host.api.setDraftModel({ path: copy }));
    expect(copied.code).toBe("DRAFT_IS_MODEL");
    expect(copied.message).toMatch(/\(a copy of its file\)/);
    expect((await host.api.getEngineStatus({})).draftModel).toBeNull();
  });

  it("refuses to load the configured draft as the chat model (it would draft for itself)", async () => {
    const { host } = await startWithModel();
    await host.api.setDraftModel({ path: draftPath });
    const refused = await apiError(host.api.loadModel({ path: draftPath }));
    expect(refused.code).toBe("DRAFT_AS_MODEL");
    expect(refused.message).toMatch(/kjv-draft\.gguf is the draft model: as the chat model it would draft for itself/);
    expect((await host.api.getEngineStatus({})).model?.modelPath).toBe(modelPath);
  });

  it("needs a loaded target and an existing file", async () => {
    const { host } = makeHost();
    await host.start();
    const noTarget = await apiError(host.api.setDraftModel({ path: draftPath }));
    expect(noTarget.code).toBe("NO_MODEL");
    expect(noTarget.message).toMatch(/Load a chat model first/);
    await host.api.loadModel({ path: modelPath });
    expect((await apiError(host.api.setDraftModel({ path: join(draftsDir, "nope.gguf") }))).code).toBe("MODEL_NOT_FOUND");
    expect((await host.api.getSettings({})).draftModelPath).toBeNull();
  });

  it("reloads the saved draft after every target load, a threads change and an engine restart", async () => {
    const recorder = recordCalls();
    const { host, of } = await startWithModel(recorder.env);
    await host.api.setDraftModel({ path: draftPath });
    // Loading a target drops the draft in the engine: the host loads it again right after.
    await host.api.loadModel({ path: modelPath });
    expect((await host.api.getEngineStatus({})).draftModel?.modelPath).toBe(draftPath);

    await host.api.updateSettings({ threads: 2 });
    await waitFor(() => of("engineStatus").some((s) => s.model?.threads === 2 && s.draftModel !== null), 5_000, "reload with 2 threads");
    // The draft's threads are measured on their own, whatever the target's setting.
    expect(recorder.calls().filter((c) => c.method === "loadDraftModel").at(-1)?.params).toEqual({ modelPath: draftPath, threads: "auto" });

    await host.api.restartEngine({});
    await waitFor(() => of("engineStatus").some((s) => s.restarts === 1 && s.state === "ready" && s.draftModel !== null), 5_000, "draft after restart");
    expect(modelCalls(recorder.calls())).toEqual([
      `loadModel ${modelPath}`,
      `loadDraftModel ${draftPath}`,
      `loadModel ${modelPath}`,
      `loadDraftModel ${draftPath}`,
      `loadModel ${modelPath}`, // threads change
      `loadDraftModel ${draftPath}`,
      `loadModel ${modelPath}`, // the restarted engine
      `loadDraftModel ${draftPath}`,
    ]);
  });

  it("brings the draft back after an engine crash", async () => {
    const recorder = recordCalls();
    const { host, of, completed } = await startWithModel(recorder.env);
    await host.api.setDraftModel({ path: draftPath });
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "please CRASH now" });
    expect((await completed(assistantMessage.id)).status).toBe("interrupted");
    // While the engine is down it holds no draft; once it is back, the target and then the draft are loaded again.
    expect(of("engineStatus").some((s) => s.state !== "ready" && s.draftModel === null)).toBe(true);
    await waitFor(() => of("engineStatus").some((s) => s.restarts === 1 && s.draftModel?.modelPath === draftPath), 10_000, "draft reload");
    expect(modelCalls(recorder.calls()).slice(-2)).toEqual([`loadModel ${modelPath}`, `loadDraftModel ${draftPath}`]);
  });

  it("refuses an incompatible draft without saving it; the current draft stays loaded", async () => {
    const recorder = recordCalls();
    const { host, of } = await startWithModel(recorder.env);
    await host.api.setDraftModel({ path: draftPath });
    const settingsEvents = of("settingsChanged").length;
    const refused = await apiError(host.api.setDraftModel({ path: incompatiblePath }));
    expect(refused).toMatchObject({ code: "DRAFT_INCOMPATIBLE", message: expect.stringMatching(/tokenizer differs.*vocabulary size 32000 vs 256/) });
    expect((await host.api.getSettings({})).draftModelPath).toBe(draftPath);
    expect(of("settingsChanged")).toHaveLength(settingsEvents);
    // The engine checks a new draft before letting its current one go: nothing to reload. The refused draft is the
    // user's mistake of the moment, not a problem of the configured one: no draftError.
    expect(await host.api.getEngineStatus({})).toMatchObject({ draftModel: { modelPath: draftPath }, draftError: null });
    expect(modelCalls(recorder.calls()).slice(-2)).toEqual([`loadDraftModel ${draftPath}`, `loadDraftModel ${incompatiblePath}`]);
  });

  it("a draft that fails to load leaves the current draft in place", async () => {
    const recorder = recordCalls();
    const { host } = await startWithModel(recorder.env);
    await host.api.setDraftModel({ path: draftPath });
    const broken = join(draftsDir, "broken-draft.gguf");
    writeFileSync(broken, "fake");
    expect((await apiError(host.api.setDraftModel({ path: broken }))).code).toBe("MODEL_LOAD_FAILED");
    expect((await host.api.getSettings({})).draftModelPath).toBe(draftPath);
    expect((await host.api.getEngineStatus({})).draftModel?.modelPath).toBe(draftPath);
    expect(modelCalls(recorder.calls()).slice(-2)).toEqual([`loadDraftModel ${draftPath}`, `loadDraftModel ${broken}`]);
  });

  it("an incompatible saved draft sets draftError at start and keeps the setting", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-host-test-"));
    const seed = new AppDatabase(join(dataDir, DATABASE_FILE), { dataDir });
    seed.updateSettings({ modelPath, draftModelPath: incompatiblePath });
    seed.close();
    const host = createHost(
      { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
      { logger: recordingLogger(), env: { PATH: process.env.PATH } },
    );
    hosts.push(host);
    let draftError: string | null = null;
    host.onEvent((event, data) => {
      if (event === "engineStatus") draftError = (data as WindowEventData<"engineStatus">).draftError;
    });
    await host.start();
    await waitFor(() => draftError !== null, 5_000, "the draft error");
    const status = await host.api.getEngineStatus({});
    expect(status.model?.modelPath).toBe(modelPath);
    expect(status.draftModel).toBeNull();
    expect(status.draftError).toMatch(/tokenizer differs/);
    expect((await host.api.getSettings({})).draftModelPath).toBe(incompatiblePath);
  });

  it("updateSettings({ draftModelPath }) works like setDraftModel: a refused draft saves nothing of the patch", async () => {
    const { host } = await startWithModel();
    const refused = await apiError(host.api.updateSettings({ draftModelPath: incompatiblePath, temperature: 0.1 }));
    expect(refused.code).toBe("DRAFT_INCOMPATIBLE");
    expect(await host.api.getSettings({})).toMatchObject({ draftModelPath: null, temperature: 0.7 });

    const saved = await host.api.updateSettings({ draftModelPath: otherDraftPath, temperature: 0.1 });
    expect(saved).toMatchObject({ draftModelPath: otherDraftPath, temperature: 0.1 });
    expect((await host.api.getEngineStatus({})).draftModel?.name).toBe("kjv-draft-2.gguf");

    await host.api.updateSettings({ draftModelPath: null });
    expect(await host.api.getEngineStatus({})).toMatchObject({ draftModel: null });
    expect((await host.api.getSettings({})).draftModelPath).toBeNull();
  });

  it("sends each conversation's effective mode to the engine and records it on the reply", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "tandem-record-")), "generate.json");
    const { host, of, completed } = await startWithModel({ TANDEM_FAKE_RECORD_MESSAGES: record });
    const sent = () => JSON.parse(readFileSync(record, "utf8")) as { speculation: unknown };
    await host.api.updateSettings({ speculation: "lookup", maxDraftTokens: 5 });
    const following = await host.api.createConversation({});
    expect(following.speculation).toBeNull();
    const own = await host.api.createConversation({});
    const updated = await host.api.setConversationSpeculation({ id: own.id, mode: "off" });
    expect(updated).toMatchObject({ id: own.id, speculation: "off", updatedAt: own.updatedAt });
    expect(of("conversationUpdated").at(-1)?.conversation).toEqual(updated);
    expect((await host.api.getConversation({ id: own.id })).conversation.speculation).toBe("off");
    expect((await apiError(host.api.setConversationSpeculation({ id: "missing", mode: "off" }))).code).toBe("NOT_FOUND");

    const a = await host.api.sendMessage({ conversationId: following.id, content: "one two three" });
    expect(a.assistantMessage.settings).toMatchObject({ speculation: "lookup", draftModel: null });
    await completed(a.assistantMessage.id);
    expect(sent().speculation).toEqual({ mode: "lookup", maxDraftTokens: 5 });

    const b = await host.api.sendMessage({ conversationId: own.id, content: "one two three" });
    expect(b.assistantMessage.settings).toMatchObject({ speculation: "off" });
    const plain = await completed(b.assistantMessage.id);
    expect(sent().speculation).toEqual({ mode: "off", maxDraftTokens: 5 });
    expect(plain.stats?.speculation).toBeNull();
    expect(of("tokens").filter((t) => t.messageId === plain.id).every((t) => t.step === undefined)).toBe(true);

    // Back to following the settings; the draft's file name is recorded for a mode that may use it.
    await host.api.setConversationSpeculation({ id: own.id, mode: null });
    await host.api.setDraftModel({ path: draftPath });
    await host.api.updateSettings({ speculation: "auto" });
    const c = await host.api.sendMessage({ conversationId: own.id, content: "four" });
    expect(c.assistantMessage.settings).toMatchObject({ speculation: "auto", draftModel: "kjv-draft.gguf" });
    await completed(c.assistantMessage.id);
    expect(sent().speculation).toEqual({ mode: "auto", maxDraftTokens: 5 });
  });

  it("forwards each verify step on the window's tokens events", async () => {
    const { host, of, completed } = await startWithModel();
    await host.api.setDraftModel({ path: draftPath });
    const conversation = await host.api.createConversation({});
    await host.api.setConversationSpeculation({ id: conversation.id, mode: "draft" });
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "a b c d e" });
    const done = await completed(assistantMessage.id);
    expect(done.status).toBe("complete");
    const events = of("tokens").filter((t) => t.messageId === assistantMessage.id);
    expect(events.map((e) => e.step?.index)).toEqual([0, 1, 2]);
    expect(events.every((e) => e.step?.speculator === "draft")).toBe(true);
    expect(events[0].tokens.map((t) => t.source)).toEqual(["draft", "target"]);
    expect(events.flatMap((e) => e.tokens.map((t) => t.text)).join("")).toBe("Echo: a b c d e");
    const spec = done.stats!.speculation!;
    expect(spec.proposed).toBe(spec.accepted + spec.rejected);
    expect(spec.accepted).toBe(events.reduce((n, e) => n + e.step!.accepted, 0));
    // The reply keeps a per-token record of those events (the window rebuilds tinting and charts from it).
    const { messages } = await host.api.getConversation({ id: conversation.id });
    const trace = messages.find((m) => m.id === assistantMessage.id)!.trace!;
    expect(trace.events.map((e) => e[1])).toEqual([0, 1, 2]);
    expect(trace.events[0]![5]).toBe("dt");
    expect(trace.events.flatMap((e) => e[6]).reduce((n, len) => n + len, 0)).toBe("Echo: a b c d e".length);
  });

  it("draft mode without a draft ends the reply with an error that says where to fix it", async () => {
    const { host, completed } = await startWithModel();
    const conversation = await host.api.createConversation({});
    await host.api.setConversationSpeculation({ id: conversation.id, mode: "draft" });
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "hello" });
    const done = await completed(assistantMessage.id);
    expect(done).toMatchObject({ status: "error", content: "" });
    expect(done.error).toMatch(/Choose a draft model in Settings, or pick another speculation mode/);
  });
});

describe("conversation cache", () => {
  type Call = { method: string; params: Record<string, unknown> };
  const recordCalls = () => join(mkdtempSync(join(tmpdir(), "tandem-calls-")), "calls.jsonl");
  const callsIn = (file: string): Call[] =>
    readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Call);

  it("passes the cache settings on every load; changing them reloads the model", async () => {
    const calls = recordCalls();
    const { host, of } = await startWithModel({ TANDEM_FAKE_RECORD_CALLS: calls });
    const loads = () => callsIn(calls).filter((c) => c.method === "loadModel").map((c) => c.params);
    expect(loads()[0]).toMatchObject({ cacheSlots: "auto", cacheDiskBudgetBytes: 2 * 1024 ** 3 });
    await waitFor(() => of("engineStatus").at(-1)?.cache !== null, 5_000, "cache figures after the load");
    expect((await host.api.getEngineStatus({})).cache).toEqual({ slots: 2, slotsInUse: 0, diskBytes: 0, diskStates: 0, diskBudgetBytes: 2 * 1024 ** 3, memoryBytes: 2e6 });

    await host.api.updateSettings({ cacheSlots: 3 });
    await waitFor(() => of("engineStatus").some((s) => s.model?.cacheSlots === 3), 5_000, "reload with 3 slots");
    expect(loads()).toHaveLength(2);
    expect(loads()[1]).toMatchObject({ cacheSlots: 3 });
    await host.api.updateSettings({ cacheDiskBudgetGB: 0.5 });
    await waitFor(() => loads().length === 3, 5_000, "reload with a new disk budget");
    expect(loads()[2]).toMatchObject({ cacheSlots: 3, cacheDiskBudgetBytes: 512 * 1024 ** 2 });
    await waitFor(() => of("engineStatus").at(-1)?.cache?.diskBudgetBytes === 512 * 1024 ** 2, 5_000, "new budget in the status");
    // Same values: nothing reloads.
    await host.api.updateSettings({ cacheSlots: 3, cacheDiskBudgetGB: 0.5 });
    expect(loads()).toHaveLength(3);
    expect((await apiError(host.api.updateSettings({ cacheSlots: 0 }))).code).toBe("BAD_REQUEST");
    expect((await apiError(host.api.updateSettings({ cacheDiskBudgetGB: 0.01 }))).code).toBe("BAD_REQUEST");
  });

  it("forwards each reply's cache outcome before its tokens and refreshes the cache figures after it", async () => {
    const { host, of, events, completed } = await startWithModel();
    const a = await host.api.createConversation({});
    const b = await host.api.createConversation({});
    const c = await host.api.createConversation({});
    const ask = async (id: string, content: string) => {
      const { assistantMessage } = await host.api.sendMessage({ conversationId: id, content });
      await completed(assistantMessage.id);
      return assistantMessage.id;
    };
    const first = await ask(a.id, "one");
    const outcome = of("cacheOutcome").find((e) => e.messageId === first)!;
    expect(outcome).toEqual({ conversationId: a.id, messageId: first, outcome: "cold", restoredTokens: 0, evaluatedTokens: 10, ms: 4 });
    // The outcome arrives before the reply's first tokens.
    const order = events.filter((e) => (e.event === "cacheOutcome" || e.event === "tokens") && e.data.messageId === first).map((e) => e.event);
    expect(order[0]).toBe("cacheOutcome");
    expect(order.slice(1).every((name) => name === "tokens")).toBe(true);

    await ask(b.id, "two");
    expect(of("cacheOutcome").at(-1)?.outcome).toBe("cold");
    await ask(a.id, "three");
    expect(of("cacheOutcome").at(-1)).toMatchObject({ conversationId: a.id, outcome: "slot-hit", restoredTokens: 8 });
    await ask(c.id, "four"); // pages b out (2 slots)
    await waitFor(() => of("engineStatus").at(-1)?.cache?.diskStates === 1, 5_000, "status refreshed after the reply");
    expect((await host.api.getEngineStatus({})).cache).toMatchObject({ slots: 2, slotsInUse: 2, diskStates: 1, diskBytes: 1000 });
    const back = await ask(b.id, "five");
    expect(of("cacheOutcome").at(-1)).toMatchObject({ messageId: back, outcome: "disk-restore" });
    const done = (await host.api.getConversation({ id: b.id })).messages.at(-1)!;
    expect(done.stats?.cache).toEqual({ outcome: "disk-restore", restoredTokens: 8, restoreMs: 3 });
    expect(await host.api.getCacheInfo({})).toMatchObject({ slotsInUse: 2, diskStates: 1 });
  });

  it("clearCache empties the disk, refreshes the status, and is refused with BUSY during a reply", async () => {
    const { host, of, completed } = await startWithModel({ TANDEM_FAKE_STEP_MS: "30" });
    await host.api.updateSettings({ cacheSlots: 1 });
    await waitFor(() => of("engineStatus").some((s) => s.model?.cacheSlots === 1 && s.cache?.slots === 1), 5_000, "1 slot");
    for (const content of ["a", "b", "c"]) {
      const conversation = await host.api.createConversation({});
      const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content });
      await completed(assistantMessage.id);
    }
    await waitFor(() => of("engineStatus").at(-1)?.cache?.diskStates === 2, 5_000, "two states on disk");

    const conversation = await host.api.createConversation({});
    const running = await host.api.sendMessage({ conversationId: conversation.id, content: "a long reply with many words to stream" });
    expect((await apiError(host.api.clearCache({}))).code).toBe("BUSY");
    await completed(running.assistantMessage.id);
    await waitFor(() => of("engineStatus").at(-1)?.cache?.diskStates === 3, 5_000, "three states on disk");

    expect(await host.api.clearCache({})).toEqual({ freedBytes: 3000 });
    expect((await host.api.getEngineStatus({})).cache).toMatchObject({ diskStates: 0, diskBytes: 0, slotsInUse: 0 });
    expect(of("engineStatus").at(-1)?.cache?.diskBytes).toBe(0);
  });

  it("has no cache figures without a model", async () => {
    const { host, of } = makeHost();
    await host.start();
    expect((await host.api.getEngineStatus({})).cache).toBeNull();
    expect(await host.api.getCacheInfo({})).toMatchObject({ slots: 0, diskStates: 0 });
    await host.api.loadModel({ path: modelPath });
    expect((await host.api.getEngineStatus({})).cache?.slots).toBe(2);
    await host.api.updateSettings({ modelPath: null });
    await waitFor(() => of("engineStatus").at(-1)?.model === null, 5_000, "unload");
    expect((await host.api.getEngineStatus({})).cache).toBeNull();
  });
});
