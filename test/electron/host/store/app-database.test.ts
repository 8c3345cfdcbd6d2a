import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppDatabase, INTERRUPTED_BY_SHUTDOWN_ERROR, defaultSettings } from "../../../../electron/host/store/app-database.js";
import { migrate, migrations } from "../../../../electron/host/store/migrations.js";
import type { GenerationStats } from "../../../../contracts/engine/protocol.js";
import { recordingLogger } from "../test-logger.js";

const stats: GenerationStats = {
  tokens: 3,
  promptTokens: 10,
  reusedPromptTokens: 2,
  evaluatedPromptTokens: 8,
  truncatedMessages: 0,
  timeToFirstTokenMs: 12,
  tokensPerSecond: 100,
  durationMs: 40,
  stopReason: "eog",
  threads: 1,
  backend: "cpu",
  targetDecodes: 3,
  speculation: null,
};

let dataDir: string;
let file: string;
let store: AppDatabase;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "tandem-store-test-"));
  file = join(dataDir, "tandem.db");
  store = new AppDatabase(file, { dataDir });
});

afterEach(() => store.close());

function reopen(): AppDatabase {
  store.close();
  store = new AppDatabase(file, { dataDir });
  return store;
}

describe("conversations", () => {
  it("creates, renames and deletes", () => {
    const created = store.createConversation();
    expect(created.title).toBe("New chat");
    expect(store.getConversation(created.id)).toEqual(created);
    const renamed = store.renameConversation(created.id, "Psalms");
    expect(renamed?.title).toBe("Psalms");
    expect(renamed!.updatedAt).toBeGreaterThan(created.updatedAt);
    expect(store.renameConversation("missing", "x")).toBeNull();
    expect(store.deleteConversation(created.id)).toBe(true);
    expect(store.deleteConversation(created.id)).toBe(false);
    expect(store.getConversation(created.id)).toBeNull();
  });

  it("lists the most recently updated first", () => {
    const a = store.createConversation("A");
    const b = store.createConversation("B");
    const c = store.createConversation("C");
    expect(store.listConversations().map((x) => x.title)).toEqual(["C", "B", "A"]);
    store.touchConversation(a.id);
    expect(store.listConversations().map((x) => x.id)).toEqual([a.id, c.id, b.id]);
  });

  it("searches titles case-insensitively, including non-ASCII letters", () => {
    store.createConversation("Genesis notes");
    store.createConversation("ÉCOLE de Paris");
    store.createConversation("Exodus");
    expect(store.listConversations("GENESIS").map((x) => x.title)).toEqual(["Genesis notes"]);
    expect(store.listConversations("école").map((x) => x.title)).toEqual(["ÉCOLE de Paris"]);
    expect(store.listConversations("s").map((x) => x.title)).toEqual(["Exodus", "ÉCOLE de Paris", "Genesis notes"]);
    expect(store.listConversations("100%")).toEqual([]);
    expect(store.listConversations("  ")).toHaveLength(3);
  });

  it("deletes a conversation's messages with it", () => {
    const conversation = store.createConversation();
    const message = store.addMessage({ conversationId: conversation.id, role: "user", content: "hi", status: "complete" });
    store.deleteConversation(conversation.id);
    expect(store.getMessage(message.id)).toBeNull();
  });
});

describe("messages", () => {
  it("keeps messages in order with their metadata", () => {
    const conversation = store.createConversation();
    const user = store.addMessage({ conversationId: conversation.id, role: "user", content: "Hello", status: "complete" });
    const assistant = store.addMessage({
      conversationId: conversation.id,
      role: "assistant",
      content: "",
      status: "streaming",
      model: "kjv.gguf",
      settings: { systemPrompt: "Be brief", temperature: 0.5, maxTokens: 64 },
    });
    expect(assistant.settings).toEqual({ systemPrompt: "Be brief", temperature: 0.5, maxTokens: 64 });
    expect(assistant.model).toBe("kjv.gguf");
    expect(assistant.stats).toBeNull();
    expect(store.getMessages(conversation.id).map((m) => m.id)).toEqual([user.id, assistant.id]);
  });

  it("saves streaming text and the final outcome", () => {
    const conversation = store.createConversation();
    const assistant = store.addMessage({ conversationId: conversation.id, role: "assistant", content: "", status: "streaming" });
    store.updateMessageContent(assistant.id, "In the beg");
    expect(store.getMessage(assistant.id)).toMatchObject({ content: "In the beg", status: "streaming" });
    const finished = store.finishMessage(assistant.id, { content: "In the beginning", status: "complete", stats });
    expect(finished).toMatchObject({ content: "In the beginning", status: "complete", stats, error: null });
    const failed = store.finishMessage(assistant.id, { content: "", status: "error", error: "No model" });
    expect(failed).toMatchObject({ status: "error", error: "No model", stats: null });
    expect(store.finishMessage("missing", { content: "", status: "complete" })).toBeNull();
  });

  it("deletes only the messages after a given one, in that conversation", () => {
    const one = store.createConversation();
    const other = store.createConversation();
    const ids = ["a", "b", "c", "d"].map(
      (content) => store.addMessage({ conversationId: one.id, role: "user", content, status: "complete" }).id,
    );
    const untouched = store.addMessage({ conversationId: other.id, role: "user", content: "x", status: "complete" });
    expect(store.deleteMessagesAfter(one.id, ids[1])).toBe(2);
    expect(store.getMessages(one.id).map((m) => m.content)).toEqual(["a", "b"]);
    expect(store.getMessage(untouched.id)).not.toBeNull();
    // A new message continues after the survivors.
    store.addMessage({ conversationId: one.id, role: "assistant", content: "e", status: "complete" });
    expect(store.getMessages(one.id).map((m) => m.content)).toEqual(["a", "b", "e"]);
  });

  it("turns replies left streaming by a dead process into interrupted ones, keeping their text", () => {
    const conversation = store.createConversation();
    const assistant = store.addMessage({ conversationId: conversation.id, role: "assistant", content: "", status: "streaming" });
    store.updateMessageContent(assistant.id, "partial reply");
    const done = store.addMessage({ conversationId: conversation.id, role: "assistant", content: "done", status: "complete" });
    reopen();
    expect(store.getMessage(assistant.id)).toMatchObject({
      status: "interrupted",
      content: "partial reply",
      error: INTERRUPTED_BY_SHUTDOWN_ERROR,
    });
    expect(store.getMessage(done.id)).toMatchObject({ status: "complete", error: null });
  });

  it("opens on a full disk: replies left streaming read as interrupted, and are marked so at the next message added", () => {
    const conversation = store.createConversation();
    const left = store.addMessage({ conversationId: conversation.id, role: "assistant", content: "cut off", status: "streaming" });
    store.close();
    // The fault: SQLite's answer to a write on a full disk (only the recovery's UPDATE runs at open).
    let full = true;
    const prepare = Database.prototype.prepare;
    const spy = vi.spyOn(Database.prototype, "prepare").mockImplementation(function (this: Database.Database, source: string) {
      if (full && source.startsWith("UPDATE")) throw new Database.SqliteError("database or disk is full", "SQLITE_FULL");
      return prepare.call(this, source);
    });
    try {
      const logger = recordingLogger();
      store = new AppDatabase(file, { dataDir, logger });
      expect(logger.messages("warn")).toEqual([expect.stringContaining("Could not mark 1 unfinished message(s) as interrupted")]);
      expect(store.getMessage(left.id)).toMatchObject({ status: "interrupted", content: "cut off", error: INTERRUPTED_BY_SHUTDOWN_ERROR });
      full = false;
      // A reply started now is 'streaming' for real, and stays so.
      const next = store.addMessage({ conversationId: conversation.id, role: "assistant", content: "", status: "streaming" });
      expect(store.getMessage(next.id)?.status).toBe("streaming");
    } finally {
      spy.mockRestore();
    }
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare("SELECT status, error FROM messages WHERE id = ?").get(left.id)).toEqual({ status: "interrupted", error: INTERRUPTED_BY_SHUTDOWN_ERROR });
    raw.close();
  });

  it("ignores an unreadable stats column instead of failing the whole conversation", () => {
    const conversation = store.createConversation();
    const message = store.addMessage({ conversationId: conversation.id, role: "assistant", content: "x", status: "complete" });
    store.close();
    const raw = new Database(file);
    raw.prepare("UPDATE messages SET stats_json = '{broken' WHERE id = ?").run(message.id);
    raw.close();
    store = new AppDatabase(file, { dataDir });
    expect(store.getMessages(conversation.id)[0]).toMatchObject({ content: "x", stats: null });
  });
});

describe("speculation mode per conversation", () => {
  it("starts null (follow settings), saves a mode across reopening and clears it", () => {
    const conversation = store.createConversation("Psalms");
    expect(conversation.speculation).toBeNull();
    const set = store.setConversationSpeculation(conversation.id, "draft");
    expect(set).toMatchObject({ id: conversation.id, speculation: "draft", updatedAt: conversation.updatedAt });
    reopen();
    expect(store.getConversation(conversation.id)?.speculation).toBe("draft");
    expect(store.listConversations()[0].speculation).toBe("draft");
    expect(store.setConversationSpeculation(conversation.id, null)?.speculation).toBeNull();
    expect(store.setConversationSpeculation("missing", "off")).toBeNull();
  });

  it("reads an unknown stored mode as null", () => {
    const conversation = store.createConversation();
    store.close();
    const raw = new Database(file);
    raw.prepare("UPDATE conversations SET speculation = 'turbo' WHERE id = ?").run(conversation.id);
    raw.close();
    store = new AppDatabase(file, { dataDir });
    expect(store.getConversation(conversation.id)).toMatchObject({ title: "New chat", speculation: null });
  });
});

describe("settings", () => {
  it("starts from the defaults", () => {
    expect(store.getSettings()).toEqual({
      systemPrompt: "",
      temperature: 0.7,
      maxTokens: 512,
      contextSize: "auto",
      gpu: "auto",
      threads: "auto",
      modelsFolder: join(dataDir, "models"),
      extraModelsFolders: [],
      modelPath: null,
      theme: "system",
      speculation: "auto",
      draftModelPath: null,
      maxDraftTokens: 8,
      cacheSlots: "auto",
      cacheDiskBudgetGB: 2,
      apiServer: { enabled: false, host: "127.0.0.1", port: 11435, corsOrigins: [], keepConversations: false, maxQueue: 16 },
      chatEngine: { kind: "local" },
    });
    expect(defaultSettings(dataDir).modelsFolder).toBe(join(dataDir, "models"));
  });

  it("keeps the conversation cache settings: auto or a slot count, and a disk budget in GB", () => {
    store.updateSettings({ cacheSlots: 4, cacheDiskBudgetGB: 0.5 });
    reopen();
    expect(store.getSettings()).toMatchObject({ cacheSlots: 4, cacheDiskBudgetGB: 0.5 });
    store.updateSettings({ cacheSlots: "auto" });
    expect(store.getSettings().cacheSlots).toBe("auto");
    expect(() => store.updateSettings({ cacheSlots: 17 })).toThrow();
    expect(() => store.updateSettings({ cacheDiskBudgetGB: 2000 })).toThrow();
  });

  it("saves changes across reopening", () => {
    store.updateSettings({ temperature: 0, threads: 1, modelPath: "/m/kjv.gguf" });
    reopen();
    expect(store.getSettings()).toMatchObject({ temperature: 0, threads: 1, modelPath: "/m/kjv.gguf", maxTokens: 512 });
  });

  it("refuses invalid values", () => {
    expect(() => store.updateSettings({ temperature: 9 })).toThrow();
    expect(store.getSettings().temperature).toBe(0.7);
  });

  it("falls back to the default for a corrupted row, keeping the valid ones", () => {
    store.updateSettings({ maxTokens: 100, systemPrompt: "Be kind" });
    store.close();
    const logger = recordingLogger();
    const raw = new Database(file);
    raw.prepare("UPDATE settings SET value_json = ? WHERE key = 'maxTokens'").run('"lots"');
    raw.prepare("INSERT INTO settings (key, value_json) VALUES ('theme', '{not json')").run();
    raw.prepare("INSERT INTO settings (key, value_json) VALUES ('obsoleteKey', '1')").run();
    raw.close();
    store = new AppDatabase(file, { dataDir, logger });
    expect(store.getSettings()).toMatchObject({ maxTokens: 512, theme: "system", systemPrompt: "Be kind" });
    expect(logger.messages("warn")).toHaveLength(2);
  });

  it("saves the speculation settings and falls back to their defaults when corrupted", () => {
    store.updateSettings({ speculation: "ngram", draftModelPath: "/m/draft.gguf", maxDraftTokens: 4 });
    reopen();
    expect(store.getSettings()).toMatchObject({ speculation: "ngram", draftModelPath: "/m/draft.gguf", maxDraftTokens: 4 });
    expect(() => store.updateSettings({ maxDraftTokens: 33 })).toThrow();
    store.close();
    const raw = new Database(file);
    raw.prepare("UPDATE settings SET value_json = ? WHERE key = 'speculation'").run('"warp"');
    raw.prepare("UPDATE settings SET value_json = ? WHERE key = 'maxDraftTokens'").run("0");
    raw.prepare("UPDATE settings SET value_json = ? WHERE key = 'draftModelPath'").run("42");
    raw.close();
    store = new AppDatabase(file, { dataDir });
    expect(store.getSettings()).toMatchObject({ speculation: "auto", draftModelPath: null, maxDraftTokens: 8 });
  });
});

describe("schema", () => {
  it("records each migration once and reopening changes nothing", () => {
    const latest = Math.max(...migrations.map((m) => m.version));
    expect(store.schemaVersion).toBe(latest);
    const conversation = store.createConversation("kept");
    reopen();
    reopen();
    expect(store.schemaVersion).toBe(latest);
    expect(store.getConversation(conversation.id)?.title).toBe("kept");
    store.close();
    const raw = new Database(file);
    const rows = raw.prepare("SELECT version FROM schema_version").all();
    expect(rows).toHaveLength(migrations.length);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
    store = new AppDatabase(file, { dataDir });
  });

  it("migrates a database of the previous schema, keeping its data", () => {
    store.close();
    const oldFile = join(dataDir, "v1.db");
    const raw = new Database(oldFile);
    expect(migrate(raw, migrations.filter((m) => m.version === 1))).toBe(1);
    raw.prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'Genesis', 1, 2)").run();
    raw
      .prepare(
        `INSERT INTO messages (id, conversation_id, seq, role, content, status, error, model, settings_json, stats_json, created_at)
         VALUES ('m1', 'c1', 1, 'assistant', 'In the beginning', 'complete', NULL, 'kjv.gguf', ?, ?, 3)`,
      )
      .run(JSON.stringify({ systemPrompt: "", temperature: 0.7, maxTokens: 64 }), JSON.stringify({ ...stats, speculation: undefined }));
    raw.prepare("INSERT INTO settings (key, value_json) VALUES ('temperature', '0.3')").run();
    raw.close();

    store = new AppDatabase(oldFile, { dataDir });
    expect(store.schemaVersion).toBe(Math.max(...migrations.map((m) => m.version)));
    expect(store.getConversation("c1")).toEqual({ id: "c1", title: "Genesis", createdAt: 1, updatedAt: 2, speculation: null });
    // Replies from before speculation existed: no mode in their settings, stats without speculation read as null.
    expect(store.getMessage("m1")).toMatchObject({
      content: "In the beginning",
      model: "kjv.gguf",
      settings: { systemPrompt: "", temperature: 0.7, maxTokens: 64 },
      stats: { ...stats, speculation: null },
    });
    expect(store.getMessage("m1")?.settings?.speculation).toBeUndefined();
    expect(store.getSettings()).toMatchObject({ temperature: 0.3, speculation: "auto", draftModelPath: null, maxDraftTokens: 8 });
    expect(store.setConversationSpeculation("c1", "lookup")?.speculation).toBe("lookup");
  });

  it("applies only the migrations a database has not seen", () => {
    const db = new Database(":memory:");
    const applied: number[] = [];
    const tracked = (version: number) => ({
      version,
      name: `m${version}`,
      sql: `CREATE TABLE t${version} (x INTEGER); INSERT INTO t${version} VALUES (${version});`,
    });
    expect(migrate(db, [tracked(1)])).toBe(1);
    expect(migrate(db, [tracked(1), tracked(2)])).toBe(2);
    for (const version of [1, 2]) applied.push(...(db.prepare(`SELECT x FROM t${version}`).all() as Array<{ x: number }>).map((r) => r.x));
    expect(applied).toEqual([1, 2]);
    // A failing migration leaves nothing behind and is not recorded.
    expect(() => migrate(db, [tracked(1), tracked(2), { version: 3, name: "bad", sql: "CREATE TABLE t3 (x); SELECT * FROM nowhere;" }])).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't3'").get()).toBeUndefined();
    expect(migrate(db, [tracked(1), tracked(2)])).toBe(2);
    db.close();
  });

  it("enforces foreign keys", () => {
    expect(() => store.addMessage({ conversationId: "no-such-conversation", role: "user", content: "x", status: "complete" })).toThrow(/FOREIGN KEY/);
  });
});
