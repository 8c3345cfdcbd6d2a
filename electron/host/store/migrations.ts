/**
 * The database schema as an ordered list of migrations. Each runs once, in its own transaction, and is recorded in
 * `schema_version`; opening an up-to-date database runs nothing. Append new migrations, never edit applied ones.
 */
import type Database from "better-sqlite3";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "conversations, messages and settings",
    sql: `
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX conversations_by_updated ON conversations(updated_at DESC);

      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        model TEXT,
        settings_json TEXT,
        stats_json TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (conversation_id, seq)
      );
      CREATE INDEX messages_by_status ON messages(status);

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "per-conversation speculation mode",
    // NULL follows the default mode in settings; any other value is checked against SpeculationMode on read.
    sql: `ALTER TABLE conversations ADD COLUMN speculation TEXT;`,
  },
  {
    version: 3,
    name: "saved A/B benchmark results",
    // reports_json: BenchReport[] as the engine returned them, checked against the contract on read.
    sql: `
      CREATE TABLE benchmarks (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        model TEXT NOT NULL,
        draft TEXT,
        prompt_set TEXT NOT NULL,
        reports_json TEXT NOT NULL
      );
      CREATE INDEX benchmarks_by_created ON benchmarks(created_at DESC);
    `,
  },
  {
    version: 4,
    name: "where library files came from",
    // path: the file's absolute path; origin_json: a ModelOrigin, checked against the contract on read.
    sql: `
      CREATE TABLE model_origins (
        path TEXT PRIMARY KEY,
        origin_json TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: "replies written by remote engines",
    // remote_json: a RemoteReply (which connection and model wrote the reply, and its figures), checked on read.
    sql: `ALTER TABLE messages ADD COLUMN remote_json TEXT;`,
  },
  {
    version: 6,
    name: "message text search, reply token traces",
    // messages_fts: an FTS5 index over messages.content (external content, kept in sync by the triggers, rebuilt
    // once here for the messages already stored). trace_json: a ReplyTrace (what the tinting and the per-token charts
    // of a reply need), checked on read.
    sql: `
      CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
      END;
      INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
      ALTER TABLE messages ADD COLUMN trace_json TEXT;
    `,
  },
];

/** Applies the migrations the database has not seen yet; returns the resulting schema version. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const current = currentSchemaVersion(db);
  const record = db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)");
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    })();
  }
  return currentSchemaVersion(db);
}

export function currentSchemaVersion(db: Database.Database): number {
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as { version: number | null };
  return row.version ?? 0;
}
