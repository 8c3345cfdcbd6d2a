/**
 * A reply whose end can't be written (the disk is full): the window must still get the end, and the store must get it
 * once there is room. The host runs for real (fake engine, real SQLite file); the only fake is the disk-full fault,
 * injected where better-sqlite3 would throw it: every write statement fails with SQLITE_FULL while the disk is "full".
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { UNSAVED_DISK_FULL_ERROR } from "../../../electron/host/generations.js";
import { createHost, DATABASE_FILE, type HostInternals } from "../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../electron/host/types.js";
import { Message, type WindowEventData } from "../../../contracts/window/index.js";
import { waitFor, writeFakeEngine } from "./fake-engine.js";
import { recordingLogger, type RecordingLogger } from "./test-logger.js";

let entry: string;
let modelPath: string;
const hosts: Host[] = [];

beforeAll(() => {
  entry = writeFakeEngine();
  modelPath = join(mkdtempSync(join(tmpdir(), "tandem-generations-models-")), "fake.gguf");
  writeFileSync(modelPath, "fake");
});

afterEach(async () => {
  disk.free();
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
  vi.restoreAllMocks();
});

/** The disk-full fault: while full, preparing any write statement throws what SQLite reports for a full disk. */
const disk = (() => {
  let full = false;
  return {
    fill() {
      const prepare = Database.prototype.prepare;
      vi.spyOn(Database.prototype, "prepare").mockImplementation(function (this: Database.Database, source: string) {
        if (full && /^\s*(INSERT|UPDATE|DELETE)\b/i.test(source)) throw new Database.SqliteError("database or disk is full", "SQLITE_FULL");
        return prepare.call(this, source);
      });
      full = true;
    },
    free() {
      full = false;
    },
  };
})();

interface Harness {
  host: Host;
  dataDir: string;
  logger: RecordingLogger;
  completions(messageId: string): Message[];
}

async function startHost(fakeEnv: Record<string, string>, internals: HostInternals = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-generations-"));
  const logger = recordingLogger();
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1.0.0" },
    {
      logger,
      env: { PATH: process.env.PATH, ...fakeEnv },
      supervisorTiming: { pingIntervalMs: 0, stopTimeoutMs: 500 },
      persistIntervalMs: 10,
      ...internals,
    },
  );
  hosts.push(host);
  const completed: Array<WindowEventData<"messageCompleted">> = [];
  host.onEvent((event, data) => {
    if (event === "messageCompleted") completed.push(data as WindowEventData<"messageCompleted">);
  });
  await host.start();
  await host.api.loadModel({ path: modelPath });
  return { host, dataDir, logger, completions: (id) => completed.filter((e) => e.message.id === id).map((e) => e.message) };
}

/** The message's row as another connection reads it from the database file. */
function storedRow(dataDir: string, id: string): { status: string; content: string; error: string | null; stats_json: string | null } {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare("SELECT status, content, error, stats_json FROM messages WHERE id = ?").get(id) as ReturnType<typeof storedRow>;
  } finally {
    db.close();
  }
}

describe("a full disk at the end of a reply", () => {
  it("ends the reply in the window with its text and says the disk is full; the end is saved once there is room", async () => {
    const { host, dataDir, logger, completions } = await startHost({ TANDEM_FAKE_STEP_MS: "40" }, { saveRetry: { firstDelayMs: 50, maxDelayMs: 100 } });
    const conversation = await host.api.createConversation({});
    const { assistantMessage } = await host.api.sendMessage({ conversationId: conversation.id, content: "the disk fills up now" });
    disk.fill();

    await waitFor(() => completions(assistantMessage.id).length > 0, 10_000, "the reply's end in the window");
    const [shown] = completions(assistantMessage.id);
    expect(Message.parse(shown)).toEqual(shown); // a well-formed event
    expect(shown).toMatchObject({ status: "error", content: "Echo: the disk fills up now", error: UNSAVED_DISK_FULL_ERROR });
    expect(shown!.stats?.tokens).toBeGreaterThan(0);
    // A window opening the conversation now sees the same, not a reply streaming forever.
    const reopened = await host.api.getConversation({ id: conversation.id });
    expect(reopened.messages.at(-1)).toEqual(shown);
    expect(storedRow(dataDir, assistantMessage.id).status).toBe("streaming");

    // Retries on a still-full disk fail quietly: one error line, one event.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(completions(assistantMessage.id)).toHaveLength(1);
    expect(logger.messages("error").filter((m) => m.startsWith("Could not record the end of a reply"))).toHaveLength(1);
    expect(logger.messages("warn").filter((m) => m.startsWith("Could not save a partial reply")).length).toBeLessThanOrEqual(1);

    disk.free();
    await waitFor(() => completions(assistantMessage.id).length === 2, 5_000, "the saved reply's end");
    expect(completions(assistantMessage.id)[1]).toMatchObject({ status: "complete", content: "Echo: the disk fills up now", error: null });
    const row = storedRow(dataDir, assistantMessage.id);
    expect(row).toMatchObject({ status: "complete", content: "Echo: the disk fills up now", error: null });
    expect(row.stats_json).not.toBeNull();
    expect((await host.api.getConversation({ id: conversation.id })).messages.at(-1)).toMatchObject({ status: "complete" });
  });

  it("saves an unsaved end before the next reply, so that reply's history has it", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "tandem-record-")), "generate.json");
    // Timed retries far away: only the next reply can be what saves it.
    const { host, dataDir, completions } = await startHost(
      { TANDEM_FAKE_STEP_MS: "40", TANDEM_FAKE_RECORD_MESSAGES: record },
      { saveRetry: { firstDelayMs: 60_000 } },
    );
    const conversation = await host.api.createConversation({});
    const first = await host.api.sendMessage({ conversationId: conversation.id, content: "first" });
    disk.fill();
    await waitFor(() => completions(first.assistantMessage.id).length > 0, 10_000, "the first reply's end");
    expect(completions(first.assistantMessage.id)[0]).toMatchObject({ status: "error", error: UNSAVED_DISK_FULL_ERROR });

    // While the disk is full, sending is refused in plain words (not INTERNAL), and nothing is half-written.
    await expect(host.api.sendMessage({ conversationId: conversation.id, content: "refused" })).rejects.toMatchObject({
      code: "DISK_FULL",
      message: "The disk is full: free some space and try again. (Tandem was writing the chat database.)",
    });

    disk.free();
    const second = await host.api.sendMessage({ conversationId: conversation.id, content: "second" });
    expect(storedRow(dataDir, first.assistantMessage.id)).toMatchObject({ status: "complete", content: "Echo: first" });
    expect(completions(first.assistantMessage.id).at(-1)).toMatchObject({ status: "complete" });
    await waitFor(() => completions(second.assistantMessage.id).length > 0, 10_000, "the second reply's end");
    const sent = JSON.parse(readFileSync(record, "utf8")) as { messages: unknown[] };
    expect(sent.messages).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "Echo: first" },
      { role: "user", content: "second" },
    ]);
  });
});
