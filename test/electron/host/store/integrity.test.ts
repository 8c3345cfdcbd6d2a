/** Opening tandem.db: the integrity check finds damage, tells a damaged file from an unopenable one, and quarantines. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppDatabase } from "../../../../electron/host/store/app-database.js";
import { classifyOpenFailure, DatabaseDamagedError, DatabaseOpenError, damageApiError } from "../../../../electron/host/store/integrity.js";
import { toTandemApiError } from "../../../../electron/host/errors.js";
import { TandemApiError } from "../../../../contracts/window/index.js";
import { fillDatabase, pagesOf, randomPages, sha256, writeRandomPages } from "./damaged-db.js";
import { recordingLogger } from "../test-logger.js";

function freshDir(): { dataDir: string; file: string } {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-integrity-"));
  return { dataDir, file: join(dataDir, "tandem.db") };
}

function openError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the open to fail");
}

describe("the integrity check at open", () => {
  it("opens a healthy database with its conversations", () => {
    const { dataDir, file } = freshDir();
    const filled = fillDatabase(file, dataDir, 5, 4);
    const store = new AppDatabase(file, { dataDir });
    try {
      expect(store.listConversations().map((c) => c.id).sort()).toEqual(filled.conversations.map((c) => c.id).sort());
      expect(store.readOnly).toBe(false);
    } finally {
      store.close();
    }
  });

  // Several seeds: wherever the random pages land (table, index or interior pages), the check finds them.
  it.each([1, 2, 3, 4, 5])("finds random pages written over a database with conversations (seed %i)", (seed) => {
    const { dataDir, file } = freshDir();
    fillDatabase(file, dataDir, 30, 20);
    writeRandomPages(file, randomPages(file, 3, seed), seed);
    const before = sha256(file);
    const error = openError(() => new AppDatabase(file, { dataDir }));
    expect(error).toBeInstanceOf(DatabaseDamagedError);
    expect((error as DatabaseDamagedError).problem).toBe("corrupt");
    expect((error as DatabaseDamagedError).detail).toMatch(/malformed|corrupt|Page|page|Tree|tree/);
    // Finding it wrote nothing (no migration, no "interrupted" marking, no WAL switch).
    expect(sha256(file)).toBe(before);
  });

  it("finds damage confined to one leaf page of the messages table, which a plain SELECT of a few rows misses", () => {
    const { dataDir, file } = freshDir();
    fillDatabase(file, dataDir, 20, 20);
    const leaves = pagesOf(file, "messages");
    writeRandomPages(file, [leaves[Math.floor(leaves.length / 2)]], 7);
    expect(openError(() => new AppDatabase(file, { dataDir }))).toBeInstanceOf(DatabaseDamagedError);
  });

  it('tells a file that is not a database ("file is not a database") from damage', () => {
    const { dataDir, file } = freshDir();
    writeFileSync(file, "These are not the pages you are looking for. ".repeat(200));
    const error = openError(() => new AppDatabase(file, { dataDir })) as DatabaseDamagedError;
    expect(error).toBeInstanceOf(DatabaseDamagedError);
    expect(error.problem).toBe("not-a-database");
    expect(error.detail).toBe("file is not a database");
  });

  it("a damaged header page is 'not a database' too", () => {
    const { dataDir, file } = freshDir();
    fillDatabase(file, dataDir, 3, 3);
    writeRandomPages(file, [1], 11);
    expect((openError(() => new AppDatabase(file, { dataDir })) as DatabaseDamagedError).problem).toBe("not-a-database");
  });

  it("a path that can't be opened at all is a DatabaseOpenError (DATABASE_UNAVAILABLE) with the reason in words", () => {
    const { dataDir, file } = freshDir();
    mkdirSync(file);
    const error = openError(() => new AppDatabase(file, { dataDir })) as DatabaseOpenError;
    expect(error).toBeInstanceOf(DatabaseOpenError);
    expect(error).toBeInstanceOf(TandemApiError);
    expect(error.code).toBe("DATABASE_UNAVAILABLE");
    expect(error.message).toBe(`Tandem can't open its database ${file}: that path is a folder, not a database file.`);
  });

  it("a full disk at open says so (SQLite's SQLITE_FULL, or ENOSPC from the file system)", () => {
    for (const code of ["SQLITE_FULL", "ENOSPC"]) {
      const error = classifyOpenFailure("/data/tandem.db", Object.assign(new Error("database or disk is full"), { code }));
      expect(error).toBeInstanceOf(DatabaseOpenError);
      expect(error.message).toBe("Tandem can't open its database /data/tandem.db: the disk is full: free some space, then start Tandem again.");
    }
  });

  it("an empty file is a new database, not damage", () => {
    const { dataDir, file } = freshDir();
    writeFileSync(file, "");
    const store = new AppDatabase(file, { dataDir });
    expect(store.createConversation("Genesis").title).toBe("Genesis");
    store.close();
  });
});

describe("a quarantined (damaged) store", () => {
  it("refuses every write with DATABASE_DAMAGED and leaves the file byte for byte as it was", () => {
    const { dataDir, file } = freshDir();
    const filled = fillDatabase(file, dataDir, 20, 20);
    writeRandomPages(file, randomPages(file, 2, 3, pagesOf(file, "messages")), 3);
    const before = sha256(file);
    const store = new AppDatabase(file, { dataDir, quarantined: true, logger: recordingLogger() });
    try {
      expect(store.readOnly).toBe(true);
      const id = filled.conversations[0].id;
      const refused = [
        () => store.createConversation("Exodus"),
        () => store.renameConversation(id, "Leviticus"),
        () => store.touchConversation(id),
        () => store.setConversationSpeculation(id, "off"),
        () => store.deleteConversation(id),
        () => store.addMessage({ conversationId: id, role: "user", content: "x", status: "complete" }),
        () => store.updateMessageContent("m", "x"),
        () => store.finishMessage("m", { content: "x", status: "complete" }),
        () => store.deleteMessagesAfter(id, "m"),
        () => store.deleteMessage("m"),
        () => store.updateSettings({ temperature: 1 }),
        () => store.setModelOrigin("/m.gguf", { kind: "downloaded", source: "hf:a/b", at: 1 }),
        () => store.deleteModelOrigins(["/m.gguf"]),
      ];
      for (const write of refused) {
        const error = openError(write) as TandemApiError;
        expect(error).toBeInstanceOf(TandemApiError);
        expect(error.code).toBe("DATABASE_DAMAGED");
      }
      // What is readable is still served: the settings the engine starts with, the conversation list.
      expect(store.getSettings().temperature).toBe(0.3);
      expect(store.listConversations()).toHaveLength(20);
    } finally {
      store.close();
    }
    expect(sha256(file)).toBe(before);
  });

  it("serves default settings from a file that is not a database", () => {
    const { dataDir, file } = freshDir();
    writeFileSync(file, "garbage ".repeat(1000));
    const logger = recordingLogger();
    const store = new AppDatabase(file, { dataDir, quarantined: true, logger });
    try {
      expect(store.getSettings().modelsFolder).toBe(join(dataDir, "models"));
      expect(store.getModelOrigins(["/a.gguf"]).size).toBe(0);
      expect(() => store.listConversations()).toThrow(/file is not a database/);
    } finally {
      store.close();
    }
  });

  it("refuseWrites switches a healthy store to refusing (damage SQLite reported while running)", () => {
    const { dataDir, file } = freshDir();
    const store = new AppDatabase(file, { dataDir });
    try {
      store.createConversation("Numbers");
      store.refuseWrites();
      expect(() => store.createConversation("Deuteronomy")).toThrow(expect.objectContaining({ code: "DATABASE_DAMAGED" }));
      expect(store.listConversations().map((c) => c.title)).toEqual(["Numbers"]);
    } finally {
      store.close();
    }
  });
});

describe("SQLite's damage errors as the window sees them", () => {
  it("are DATABASE_DAMAGED with SQLite's words, not INTERNAL", () => {
    const corrupt = Object.assign(new Error("database disk image is malformed"), { code: "SQLITE_CORRUPT" });
    expect(damageApiError(corrupt)?.code).toBe("DATABASE_DAMAGED");
    const converted = toTandemApiError(corrupt);
    expect(converted.code).toBe("DATABASE_DAMAGED");
    expect(converted.message).toContain("database disk image is malformed");
    expect(toTandemApiError(Object.assign(new Error("file is not a database"), { code: "SQLITE_NOTADB" })).code).toBe("DATABASE_DAMAGED");
    expect(toTandemApiError(Object.assign(new Error("x"), { code: "SQLITE_CORRUPT_INDEX" })).code).toBe("DATABASE_DAMAGED");
    expect(damageApiError(Object.assign(new Error("busy"), { code: "SQLITE_BUSY" }))).toBeNull();
  });
});
