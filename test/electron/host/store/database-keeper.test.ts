/**
 * A damaged tandem.db through the whole host (real SQLite files, the fake engine): found at open, reported to the
 * window, writes refused without touching the file, backup-and-recover, and Tandem working normally afterwards.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { DatabaseKeeper, noticingDamage } from "../../../../electron/host/store/database-keeper.js";
import { createHost, DATABASE_FILE } from "../../../../electron/host/host.js";
import { AppDatabase } from "../../../../electron/host/store/app-database.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import type { DatabaseStatus, Message, TandemApi, WindowEvent, WindowEventData } from "../../../../contracts/window/index.js";
import { apiError } from "../api-error.js";
import { fillDatabase, pagesOf, randomPages, sha256, writeRandomPages } from "./damaged-db.js";
import { waitFor, writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

let entry: string;
let modelPath: string;
const hosts: Host[] = [];

beforeAll(() => {
  entry = writeFakeEngine();
  const modelsDir = mkdtempSync(join(tmpdir(), "tandem-db-models-"));
  modelPath = join(modelsDir, "kjv-fake.gguf");
  writeFileSync(modelPath, "fake");
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

type Recorded = { [E in WindowEvent]: { event: E; data: WindowEventData<E> } }[WindowEvent];

function makeHost(dataDir: string) {
  const logger = recordingLogger();
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "9.9.9-test" },
    { logger, env: { PATH: process.env.PATH }, supervisorTiming: { pingIntervalMs: 0, backoffBaseMs: 20, stopTimeoutMs: 500 }, persistIntervalMs: 50 },
  );
  hosts.push(host);
  const events: Recorded[] = [];
  host.onEvent((event, data) => events.push({ event, data } as Recorded));
  const of = <E extends WindowEvent>(event: E) => events.filter((e) => e.event === event).map((e) => e.data as WindowEventData<E>);
  const completed = async (messageId: string): Promise<Message> => {
    const find = () => of("messageCompleted").find((e) => e.message.id === messageId)?.message;
    await waitFor(() => find() !== undefined, 10_000, `messageCompleted for ${messageId}`);
    return find()!;
  };
  return { host, logger, of, completed };
}

/** A data folder whose tandem.db holds real conversations, with random pages written over its messages. */
function damagedDataDir(seed = 17) {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-db-host-"));
  const file = join(dataDir, DATABASE_FILE);
  const filled = fillDatabase(file, dataDir, 30, 20);
  writeRandomPages(file, randomPages(file, 3, seed, pagesOf(file, "messages")), seed);
  return { dataDir, file, filled };
}

describe("a damaged database at startup", () => {
  it("is found at open and reported to the window; the engine still starts; writes are refused and the file is untouched", async () => {
    const { dataDir, file, filled } = damagedDataDir();
    const damaged = sha256(file);
    const { host, of } = makeHost(dataDir);

    const status = await host.api.getDatabaseStatus({});
    expect(status).toEqual<DatabaseStatus>({
      state: "damaged",
      path: file,
      problem: "corrupt",
      detail: expect.any(String) as string,
      foundWhile: "opening",
      lastRecovery: null,
    });
    expect(of("databaseStatus").at(-1)).toEqual(status);

    // The rest of Tandem runs: the engine starts (with the settings that were still readable), reads work.
    await host.start();
    expect((await host.api.getEngineStatus({})).state).toBe("ready");
    expect((await host.api.getSettings({})).temperature).toBe(0.3);
    expect((await host.api.getAppInfo({})).dataDir).toBe(dataDir);
    await host.api.listModels({});

    // Every kind of write is refused with DATABASE_DAMAGED, nothing INTERNAL.
    const conversation = filled.conversations[0];
    for (const call of [
      host.api.createConversation({}),
      host.api.renameConversation({ id: conversation.id, title: "Exodus" }),
      host.api.deleteConversation({ id: conversation.id }),
      host.api.sendMessage({ conversationId: conversation.id, content: "Hello" }),
      host.api.updateSettings({ temperature: 1.2 }),
      host.api.setConversationSpeculation({ id: conversation.id, mode: "off" }),
    ]) {
      const error = await apiError(call);
      expect(error.code).toBe("DATABASE_DAMAGED");
      expect(error.message).toMatch(/damaged/);
    }
    // Not one byte was written into the damaged file.
    expect(sha256(file)).toBe(damaged);
    expect((await host.api.getDatabaseStatus({})).state).toBe("damaged");
  });

  it("backup-and-recover: the backup is byte-identical, readable rows come back, and a new chat and message are stored", async () => {
    const { dataDir, file, filled } = damagedDataDir();
    const damaged = sha256(file);
    const { host, of, completed } = makeHost(dataDir);
    await host.start();
    expect((await host.api.getDatabaseStatus({})).state).toBe("damaged");

    const recovery = await host.api.recoverDatabase({ mode: "recover" });

    expect(recovery.backupPath).toMatch(/tandem-damaged-\d{8}-\d{6}\.db$/);
    expect(sha256(recovery.backupPath)).toBe(damaged);
    expect(recovery).toMatchObject({ mode: "recover", conversations: 30, settings: 2, incompleteTables: ["messages"] });
    expect(recovery.messages).toBeGreaterThan(600 - 3 * 40);
    expect(recovery.messages).toBeLessThan(600);
    const status = await host.api.getDatabaseStatus({});
    expect(status).toMatchObject({ state: "ok", problem: null, detail: null, foundWhile: null, lastRecovery: recovery });
    expect(of("databaseStatus").at(-1)).toEqual(status);
    expect(of("settingsChanged").at(-1)?.temperature).toBe(0.3);

    // The recovered conversations, with their messages, through the API.
    const list = await host.api.listConversations({});
    expect(list.map((c) => c.id).sort()).toEqual(filled.conversations.map((c) => c.id).sort());
    const total = (await Promise.all(list.map((c) => host.api.getConversation({ id: c.id })))).reduce((n, c) => n + c.messages.length, 0);
    expect(total).toBe(recovery.messages);

    // Tandem works again: a new conversation and a reply are stored.
    await host.api.loadModel({ path: modelPath });
    const conversation = await host.api.createConversation({ title: "After the flood" });
    const sent = await host.api.sendMessage({ conversationId: conversation.id, content: "And God remembered Noah" });
    expect((await completed(sent.assistantMessage.id)).status).toBe("complete");
    await host.dispose();

    const store = new AppDatabase(file, { dataDir });
    try {
      expect(store.getConversation(conversation.id)?.title).toBe("After the flood");
      expect(store.getMessages(conversation.id).map((m) => [m.role, m.status])).toEqual([
        ["user", "complete"],
        ["assistant", "complete"],
      ]);
    } finally {
      store.close();
    }
    // The backup is still there, untouched by everything that followed.
    expect(sha256(recovery.backupPath)).toBe(damaged);
  });

  it('"Start with an empty database" keeps the backup too', async () => {
    const { dataDir, file } = damagedDataDir(23);
    const damaged = sha256(file);
    const { host } = makeHost(dataDir);
    await host.start();
    const recovery = await host.api.recoverDatabase({ mode: "empty" });
    expect(recovery).toMatchObject({ mode: "empty", conversations: 0, messages: 0 });
    expect(sha256(recovery.backupPath)).toBe(damaged);
    expect(await host.api.listConversations({})).toEqual([]);
    expect((await host.api.createConversation({ title: "Genesis" })).title).toBe("Genesis");
    expect((await host.api.getDatabaseStatus({})).state).toBe("ok");
  });

  it("a file that is not a database: reported as such, recovered into a fresh working database", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-db-host-"));
    const file = join(dataDir, DATABASE_FILE);
    writeFileSync(file, "Tandem notes, not a database. ".repeat(300));
    const content = readFileSync(file);
    const { host } = makeHost(dataDir);
    await host.start();
    expect(await host.api.getDatabaseStatus({})).toMatchObject({ state: "damaged", problem: "not-a-database", detail: "file is not a database" });
    expect((await host.api.getSettings({})).modelsFolder).toBe(join(dataDir, "models"));
    expect((await apiError(host.api.createConversation({}))).code).toBe("DATABASE_DAMAGED");

    const recovery = await host.api.recoverDatabase({ mode: "recover" });
    expect(recovery).toMatchObject({ conversations: 0, messages: 0, settings: 0 });
    expect(readFileSync(recovery.backupPath).equals(content)).toBe(true);
    expect((await host.api.createConversation({ title: "Genesis" })).title).toBe("Genesis");
    expect((await host.api.listConversations({})).map((c) => c.title)).toEqual(["Genesis"]);
  });

  it("a healthy database has nothing to recover", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-db-host-"));
    const { host } = makeHost(dataDir);
    expect(await host.api.getDatabaseStatus({})).toMatchObject({ state: "ok", problem: null });
    expect((await apiError(host.api.recoverDatabase({ mode: "recover" }))).code).toBe("BAD_REQUEST");
    expect(existsSync(join(dataDir, DATABASE_FILE))).toBe(true);
  });
});

describe("a database that can't be opened", () => {
  it("fails with DATABASE_UNAVAILABLE naming the file and the reason, and the host does not start", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-db-host-"));
    const file = join(dataDir, DATABASE_FILE);
    mkdirSync(file);
    const { host, logger } = makeHost(dataDir);
    const error = await apiError(host.api.getDatabaseStatus({}));
    expect(error.code).toBe("DATABASE_UNAVAILABLE");
    expect(error.message).toBe(`Tandem can't open its database ${file}: that path is a folder, not a database file.`);
    expect((await apiError(host.api.listConversations({}))).code).toBe("DATABASE_UNAVAILABLE");
    await expect(host.start()).rejects.toThrow(/can't open its database/);
    // Recorded in host.log, not printed by the host (the shells tell the user once).
    expect(logger.messages("error").filter((m) => m.includes("can't open its database"))).toEqual([]);
    expect(readFileSync(join(dataDir, "logs", "host.log"), "utf8")).toContain("that path is a folder, not a database file");
  });
});

describe("DatabaseKeeper", () => {
  it("switches to damaged when SQLite reports damage while running, and refuses the following writes", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-db-keeper-"));
    const changes: DatabaseStatus[] = [];
    const keeper = new DatabaseKeeper({ dataDir, logger: recordingLogger(), onChange: (status) => changes.push(status) });
    try {
      const store = keeper.open();
      store.createConversation("Ruth");
      keeper.noticeError(new Error("not about the database"));
      keeper.noticeError(Object.assign(new Error("busy"), { code: "SQLITE_BUSY" }));
      expect(changes).toEqual([]);
      keeper.noticeError(Object.assign(new Error("database disk image is malformed"), { code: "SQLITE_CORRUPT" }));
      expect(changes).toEqual([expect.objectContaining({ state: "damaged", problem: "corrupt", detail: "database disk image is malformed", foundWhile: "running" })]);
      expect(() => store.createConversation("Esther")).toThrow(expect.objectContaining({ code: "DATABASE_DAMAGED" }));
      // From now on the store is the read-only quarantined one, still serving what is readable.
      expect(keeper.current).toBeNull();
      const quarantined = keeper.open();
      expect(quarantined.readOnly).toBe(true);
      expect(quarantined.listConversations().map((c) => c.title)).toEqual(["Ruth"]);
      expect(() => quarantined.createConversation("Esther")).toThrow(expect.objectContaining({ code: "DATABASE_DAMAGED" }));
      // Reported once.
      keeper.noticeError(Object.assign(new Error("file is not a database"), { code: "SQLITE_NOTADB" }));
      expect(changes).toHaveLength(1);
    } finally {
      keeper.close();
    }
  });

  it("noticingDamage: an API call failing with SQLite's damage error switches the keeper over; the error still reaches the caller", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-db-keeper-"));
    const changes: DatabaseStatus[] = [];
    const keeper = new DatabaseKeeper({ dataDir, logger: recordingLogger(), onChange: (status) => changes.push(status) });
    const malformed = Object.assign(new Error("database disk image is malformed"), { code: "SQLITE_CORRUPT" });
    const api = noticingDamage(
      {
        async getSettings() {
          throw malformed;
        },
        async listConversations() {
          return [];
        },
      } as unknown as TandemApi,
      keeper,
    );
    try {
      keeper.open();
      expect(await api.listConversations({})).toEqual([]);
      expect(keeper.status.state).toBe("ok");
      await expect(api.getSettings({})).rejects.toBe(malformed);
      expect(keeper.status).toMatchObject({ state: "damaged", foundWhile: "running" });
      expect(changes).toHaveLength(1);
    } finally {
      keeper.close();
    }
  });
});
