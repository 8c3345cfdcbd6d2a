/** Migration 6: message text search (SQLite FTS5) and the per-token trace of a reply. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppDatabase } from "../../../../electron/host/store/app-database.js";
import { migrate, migrations } from "../../../../electron/host/store/migrations.js";
import { MATCH_END, MATCH_START } from "../../../../contracts/window/values.js";
import type { ReplyTrace } from "../../../../contracts/window/index.js";

let dataDir: string;
let file: string;
let store: AppDatabase;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "tandem-search-test-"));
  file = join(dataDir, "tandem.db");
  store = new AppDatabase(file, { dataDir });
});

afterEach(() => store.close());

const say = (conversationId: string, content: string, role: "user" | "assistant" = "user") =>
  store.addMessage({ conversationId, role, content, status: "complete" });

/** The snippet with its match markers as [brackets]. */
const shown = (match: string | null | undefined) => (match ?? "").replaceAll(MATCH_START, "[").replaceAll(MATCH_END, "]");

describe("message search (FTS5)", () => {
  it("finds a conversation by a word in a message, with the matching snippet", () => {
    const exodus = store.createConversation("Exodus");
    say(exodus.id, "Who led the people out of Egypt?");
    say(exodus.id, "Moses led the Israelites across the Red Sea.", "assistant");
    const other = store.createConversation("Genesis");
    say(other.id, "In the beginning");

    const found = store.listConversations("moses");
    expect(found.map((c) => c.id)).toEqual([exodus.id]);
    expect(shown(found[0]!.match)).toContain("[Moses] led the Israelites");
  });

  it("matches titles too (no snippet then), several words together, prefixes, and ignores FTS5 syntax", () => {
    const a = store.createConversation("Psalms");
    say(a.id, "The Lord is my shepherd");
    const b = store.createConversation("Notes");
    say(b.id, "A shepherd boy named David");
    expect(store.listConversations("psal").map((c) => [c.title, c.match ?? null])).toEqual([["Psalms", null]]);
    expect(store.listConversations("shepherd david").map((c) => c.title)).toEqual(["Notes"]);
    expect(store.listConversations("shep").map((c) => c.title).sort()).toEqual(["Notes", "Psalms"]);
    expect(store.listConversations('shepherd" (NEAR*')).toEqual([]);
    expect(store.listConversations('"shepherd"^(')).toHaveLength(2);
    expect(store.listConversations("***")).toEqual([]);
  });

  it("follows edits and deletions of messages and conversations", () => {
    const c = store.createConversation("Chat");
    const m = say(c.id, "about pharaoh");
    expect(store.listConversations("pharaoh")).toHaveLength(1);
    store.updateMessageContent(m.id, "about manna");
    expect(store.listConversations("pharaoh")).toHaveLength(0);
    expect(store.listConversations("manna")).toHaveLength(1);
    const reply = store.addMessage({ conversationId: c.id, role: "assistant", content: "", status: "streaming" });
    store.finishMessage(reply.id, { content: "quail in the evening", status: "complete" });
    expect(store.listConversations("quail")).toHaveLength(1);
    store.deleteMessage(reply.id);
    expect(store.listConversations("quail")).toHaveLength(0);
    store.deleteConversation(c.id);
    expect(store.listConversations("manna")).toHaveLength(0);
  });

  it("upgrades a version 5 database: its old messages are found", () => {
    store.close();
    const oldFile = join(dataDir, "v5.db");
    const raw = new Database(oldFile);
    expect(migrate(raw, migrations.filter((m) => m.version <= 5))).toBe(5);
    raw.prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'Old chat', 1, 2)").run();
    raw
      .prepare(
        `INSERT INTO messages (id, conversation_id, seq, role, content, status, created_at)
         VALUES ('m1', 'c1', 1, 'user', 'Tell me about Moses and the burning bush', 'complete', 3)`,
      )
      .run();
    raw.close();

    store = new AppDatabase(oldFile, { dataDir });
    expect(store.schemaVersion).toBe(6);
    const found = store.listConversations("burning");
    expect(found.map((c) => c.id)).toEqual(["c1"]);
    expect(shown(found[0]!.match)).toContain("the [burning] bush");
    // Old replies have no trace.
    expect(store.getMessage("m1")?.trace).toBeUndefined();
  });
});

describe("reply traces", () => {
  it("stores a reply's per-token record with its end and reads it back", () => {
    const c = store.createConversation("Chat");
    const reply = store.addMessage({ conversationId: c.id, role: "assistant", content: "", status: "streaming" });
    const trace: ReplyTrace = {
      events: [
        [12.5, 0, "", 0, 0, "t", [5]],
        [20, 1, "draft", 3, 2, "ddt", [6, 1, 4]],
      ],
    };
    store.finishMessage(reply.id, { content: "Hello, world", status: "complete", trace });
    expect(store.getMessage(reply.id)?.trace).toEqual(trace);
    store.close();
    const raw = new Database(file);
    raw.prepare("UPDATE messages SET trace_json = 'not json' WHERE id = ?").run(reply.id);
    raw.close();
    store = new AppDatabase(file, { dataDir });
    expect(store.getMessage(reply.id)?.trace).toBeNull();
  });
});
