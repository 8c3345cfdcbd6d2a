/** Backup-and-recover of a damaged tandem.db: what is moved aside (untouched), what is salvaged, what is lost. */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { AppDatabase } from "../../../../electron/host/store/app-database.js";
import { backupName, readRows, recoverDamagedDatabase, RECOVERED_CONVERSATION_TITLE } from "../../../../electron/host/store/recovery.js";
import { fillDatabase, pagesOf, randomPages, rawMessages, sha256, writeRandomPages } from "./damaged-db.js";
import { recordingLogger } from "../test-logger.js";

const AT = new Date(2025, 0, 15, 12, 30, 45).getTime();

function freshDir(): { dataDir: string; file: string } {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-recovery-"));
  return { dataDir, file: join(dataDir, "tandem.db") };
}

describe("recoverDamagedDatabase", () => {
  it("keeps the damaged file byte-identical as a timestamped backup and salvages every readable row", () => {
    const { dataDir, file } = freshDir();
    const filled = fillDatabase(file, dataDir, 40, 25);
    const original = rawMessages(file);
    expect(original).toHaveLength(1000);
    const damagedPages = randomPages(file, 3, 42, pagesOf(file, "messages"));
    writeRandomPages(file, damagedPages, 42);
    const damaged = sha256(file);
    // The read-only peeks above left SQLite's -wal/-shm next to it, as a crashed run would.
    const companions = ["-wal", "-shm"].filter((suffix) => existsSync(file + suffix));

    const recovery = recoverDamagedDatabase(file, { mode: "recover", now: () => AT, logger: recordingLogger() });

    // The backup: next to it, named with the time, byte for byte the damaged file; nothing else left behind.
    const backup = join(dataDir, "tandem-damaged-20250115-123045.db");
    expect(recovery.backupPath).toBe(backup);
    expect(recovery.backupFiles).toEqual([backup, ...companions.map((suffix) => backup + suffix)]);
    expect(sha256(recovery.backupPath)).toBe(damaged);
    expect(readdirSync(dataDir).sort()).toEqual([...recovery.backupFiles.map((f) => basename(f)), "tandem.db"].sort());

    // Every conversation survived (their table was not hit); the messages on the 3 damaged pages are lost, every
    // other one is back exactly as it was.
    expect(recovery).toMatchObject({ mode: "recover", conversations: 40, settings: 2, incompleteTables: ["messages"], at: AT });
    const recovered = rawMessages(file);
    expect(recovery.messages).toBe(recovered.length);
    expect(recovered.length).toBeLessThan(1000);
    // A leaf page of these messages holds a handful of them: 3 pages can't take more than a few dozen.
    expect(recovered.length).toBeGreaterThan(1000 - 3 * 40);
    const byId = new Map(original.map((m) => [m.id, m]));
    for (const message of recovered) expect(message).toEqual(byId.get(message.id));

    // The new database is healthy, opens with the check, and has the conversations and settings as they were.
    const store = new AppDatabase(file, { dataDir });
    try {
      expect(store.listConversations().map((c) => c.title).sort()).toEqual(filled.conversations.map((c) => c.title).sort());
      expect(store.getConversation(filled.conversations[7].id)).toEqual(filled.conversations[7]);
      expect(store.getSettings()).toMatchObject({ systemPrompt: "Answer in the style of the King James Bible.", temperature: 0.3 });
    } finally {
      store.close();
    }
  });

  it("moves the -wal and -shm aside with it, and salvages the writes that were only in the WAL", () => {
    const { dataDir, file } = freshDir();
    fillDatabase(file, dataDir, 10, 10);
    // A run that died with its WAL not checkpointed: a copy taken while the store is open.
    const live = new AppDatabase(file, { dataDir });
    const late = live.createConversation("Written just before the crash");
    live.addMessage({ conversationId: late.id, role: "user", content: "In the beginning", status: "complete" });
    const crashed = freshDir();
    for (const suffix of ["", "-wal", "-shm"]) copyFileSync(file + suffix, crashed.file + suffix);
    live.close();
    writeRandomPages(crashed.file, randomPages(crashed.file, 1, 5, pagesOf(crashed.file, "messages")), 5);
    const hashes = ["", "-wal", "-shm"].map((suffix) => sha256(crashed.file + suffix));

    const recovery = recoverDamagedDatabase(crashed.file, { mode: "recover", now: () => AT });

    const backup = join(crashed.dataDir, "tandem-damaged-20250115-123045.db");
    expect(recovery.backupFiles).toEqual([backup, `${backup}-wal`, `${backup}-shm`]);
    expect(["", "-wal", "-shm"].map((suffix) => sha256(backup + suffix))).toEqual(hashes);
    expect(existsSync(`${crashed.file}-wal`)).toBe(false);
    const store = new AppDatabase(crashed.file, { dataDir: crashed.dataDir });
    try {
      expect(store.getConversation(late.id)?.title).toBe("Written just before the crash");
      expect(store.getMessages(late.id).map((m) => m.content)).toEqual(["In the beginning"]);
    } finally {
      store.close();
    }
  });

  it("gives messages whose conversation row was lost a rebuilt conversation spanning them", () => {
    const { dataDir, file } = freshDir();
    const filled = fillDatabase(file, dataDir, 12, 6);
    // The conversations table fits one leaf page: damaging it loses every conversation row, no message.
    writeRandomPages(file, pagesOf(file, "conversations"), 9);

    const recovery = recoverDamagedDatabase(file, { mode: "recover", now: () => AT });

    expect(recovery).toMatchObject({ conversations: 12, messages: 72, incompleteTables: ["conversations"] });
    const store = new AppDatabase(file, { dataDir });
    try {
      const list = store.listConversations();
      expect(list.map((c) => c.title)).toEqual(Array(12).fill(RECOVERED_CONVERSATION_TITLE));
      const first = filled.conversations[0];
      const rebuilt = store.getConversation(first.id)!;
      const messages = filled.messages.get(first.id)!;
      expect(rebuilt.createdAt).toBe(messages[0].createdAt);
      expect(rebuilt.updatedAt).toBe(messages.at(-1)!.createdAt);
      expect(store.getMessages(first.id)).toEqual(messages);
    } finally {
      store.close();
    }
  });

  it("starts fresh from a file that is not a database, keeping it as the backup", () => {
    const { dataDir, file } = freshDir();
    writeFileSync(file, "not sqlite at all ".repeat(500));
    const before = sha256(file);
    const recovery = recoverDamagedDatabase(file, { mode: "recover", now: () => AT, logger: recordingLogger() });
    expect(recovery).toMatchObject({ conversations: 0, messages: 0, settings: 0 });
    expect(recovery.incompleteTables).toEqual(expect.arrayContaining(["conversations", "messages", "settings"]));
    expect(sha256(recovery.backupPath)).toBe(before);
    const store = new AppDatabase(file, { dataDir });
    expect(store.listConversations()).toEqual([]);
    store.close();
  });

  it('"empty" moves the file aside and leaves no database in its place (the store creates a new one)', () => {
    const { dataDir, file } = freshDir();
    fillDatabase(file, dataDir, 3, 2);
    writeRandomPages(file, pagesOf(file, "messages"), 1);
    const before = sha256(file);
    const recovery = recoverDamagedDatabase(file, { mode: "empty", now: () => AT });
    expect(recovery).toMatchObject({ mode: "empty", conversations: 0, messages: 0, settings: 0, incompleteTables: [] });
    expect(sha256(recovery.backupPath)).toBe(before);
    expect(existsSync(file)).toBe(false);
  });

  it("never overwrites an earlier backup made within the same second", () => {
    const { dataDir, file } = freshDir();
    writeFileSync(file, "first");
    const first = recoverDamagedDatabase(file, { mode: "empty", now: () => AT });
    writeFileSync(file, "second");
    const second = recoverDamagedDatabase(file, { mode: "empty", now: () => AT });
    expect(basename(first.backupPath)).toBe("tandem-damaged-20250115-123045.db");
    expect(basename(second.backupPath)).toBe("tandem-damaged-20250115-123045-2.db");
    expect(backupName(file, AT)).toBe(join(dataDir, "tandem-damaged-20250115-123045-3.db"));
  });
});

describe("readRows", () => {
  it("steps over a damaged page and goes on reading after it", () => {
    const { dataDir, file } = freshDir();
    fillDatabase(file, dataDir, 20, 20);
    const leaves = pagesOf(file, "messages");
    writeRandomPages(file, [leaves[3], leaves[leaves.length - 4]], 2);
    const db = new Database(file, { readonly: true });
    try {
      const rowids: number[] = [];
      const { complete } = readRows(db, "messages", [{ name: "id" }], (row) => rowids.push(row.__tandem_rowid as number));
      expect(complete).toBe(false);
      // Rows from before, between and after the two damaged pages, in order, each once.
      expect(rowids.length).toBeGreaterThan(350);
      expect(rowids.length).toBeLessThan(400);
      expect(rowids).toEqual([...rowids].sort((a, b) => a - b));
      expect(new Set(rowids).size).toBe(rowids.length);
      expect(rowids.at(-1)).toBe(400);
      expect(rowids[0]).toBe(1);
    } finally {
      db.close();
    }
  });
});
