/**
 * AppDatabase: conversations, messages, settings, model origins and benchmark results in one SQLite file
 * (better-sqlite3, synchronous: every write is on disk when the call returns, which is what lets a partial reply
 * survive a crash).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import type { z } from "zod";
import { GenerationStats, SpeculationMode } from "../../../contracts/engine/protocol.js";
import {
  BenchmarkResult,
  RemoteReply,
  ReplyTrace,
  GenerationSettings,
  ModelOrigin,
  Settings,
  type Conversation,
  type Message,
  type MessageStatus,
} from "../../../contracts/window/index.js";
import { MATCH_END, MATCH_START } from "../../../contracts/window/values.js";
import { isDiskFull } from "../errors.js";
import { describeError, silentLogger, type Logger } from "../logger.js";
import { classifyOpenFailure, checkIntegrity, writesRefusedError } from "./integrity.js";
import { currentSchemaVersion, migrate } from "./migrations.js";

export const DEFAULT_CONVERSATION_TITLE = "New chat";

/** Written into messages found still 'streaming' when the database is opened: the previous run died mid-reply. */
export const INTERRUPTED_BY_SHUTDOWN_ERROR = "Tandem closed before the reply finished; the reply was cut off.";

/** The settings before the user changes any: the schema's defaults, and the models folder in the data folder. */
export function defaultSettings(dataDir: string): Settings {
  return Settings.parse({ modelsFolder: join(dataDir, "models") });
}

export interface NewMessage {
  conversationId: string;
  role: Message["role"];
  content: string;
  status: MessageStatus;
  model?: string | null;
  settings?: GenerationSettings | null;
  error?: string | null;
  /** A reply a remote engine is to write: which connection, before its figures exist. */
  remote?: RemoteReply | null;
}

export interface MessageOutcome {
  content: string;
  status: MessageStatus;
  stats?: GenerationStats | null;
  /** A remote reply's connection and figures (replaces what addMessage stored). */
  remote?: RemoteReply | null;
  /** The reply's per-token record (tinting and per-token charts after a reload). */
  trace?: ReplyTrace | null;
  error?: string | null;
}

interface ConversationRow {
  id: string;
  title: string;
  created_at: number;
  updated_at: number;
  speculation: string | null;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: string;
  content: string;
  status: string;
  error: string | null;
  model: string | null;
  settings_json: string | null;
  stats_json: string | null;
  remote_json: string | null;
  trace_json?: string | null;
  created_at: number;
}

export interface AppDatabaseOptions {
  /** Where default paths (the models folder) point. */
  dataDir: string;
  logger?: Logger;
  /** A better-sqlite3 addon built for this runtime (Electron in development); default lookup when absent. */
  nativeBinding?: string;
  /**
   * Opens a database already found damaged, for reading only: no integrity check, no migrations, no repairs, a
   * read-only connection, and every write refused with DATABASE_DAMAGED. Reads serve what is still readable (the
   * settings fall back to their defaults), so the rest of Tandem keeps working until the user recovers it.
   */
  quarantined?: boolean;
}

/** Tandem's database (tandem.db): each kind of record has its own table and its own section of methods below. */
export class AppDatabase {
  private readonly db: Database.Database;
  private readonly defaults: Settings;
  private readonly logger: Logger;
  /** Timestamps strictly increase, so "most recently updated" is never a tie within one process. */
  private lastTimestamp = 0;
  /** Set while the database is known to be damaged: writes would only go into the damaged file. */
  private writesRefused: boolean;
  /** The settings are read often: that a damaged database could not give them is logged once. */
  private settingsFallbackLogged = false;
  /** Replies the previous run left 'streaming' that a full disk kept from being marked interrupted at open. */
  private unrecovered: Set<string> | null = null;

  /**
   * Opens (creating if needed) the database at `file`; ":memory:" works for tests. The integrity check runs first:
   * a damaged file throws DatabaseDamagedError, one that can't be opened at all DatabaseOpenError (integrity.ts).
   */
  constructor(file: string, options: AppDatabaseOptions) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.defaults = defaultSettings(options.dataDir);
    this.logger = options.logger ?? silentLogger;
    this.writesRefused = options.quarantined === true;
    let db: Database.Database | null = null;
    try {
      db = new Database(file, {
        ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
        // Read-only too, so that not even SQLite's own housekeeping (a WAL checkpoint at close) touches the file.
        ...(options.quarantined ? { readonly: true, fileMustExist: true } : {}),
      });
      // Case-insensitive search that also folds non-ASCII letters (SQLite's LIKE and lower() only fold ASCII).
      db.function("tandem_fold", { deterministic: true }, (text: unknown) => (typeof text === "string" ? text.toLocaleLowerCase() : null));
      if (!options.quarantined) {
        // Before anything writes: migrating or marking interrupted replies would write into a damaged file.
        if (file !== ":memory:") checkIntegrity(db);
        db.pragma("journal_mode = WAL");
        db.pragma("foreign_keys = ON");
        migrate(db);
      }
    } catch (error) {
      db?.close();
      throw classifyOpenFailure(file, error);
    }
    this.db = db;
    if (!options.quarantined) this.recoverInterruptedMessages();
  }

  /** Whether writes are refused (the database is damaged: opened quarantined, or refuseWrites was called). */
  get readOnly(): boolean {
    return this.writesRefused;
  }

  /** From now on every write is refused with DATABASE_DAMAGED: SQLite reported damage while Tandem was running. */
  refuseWrites(): void {
    this.writesRefused = true;
  }

  get schemaVersion(): number {
    return currentSchemaVersion(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- conversations ---------------------------------------------------------------------------------------

  /**
   * All conversations, or those matching `query`: by title (a case-insensitive substring) or by message text (the
   * FTS5 index, every word as a prefix), the latter with a snippet of the best matching message as `match`.
   */
  listConversations(query?: string): Conversation[] {
    const needle = query?.trim();
    if (!needle) {
      const rows = this.db.prepare("SELECT * FROM conversations ORDER BY updated_at DESC, created_at DESC, rowid DESC").all();
      return (rows as ConversationRow[]).map(toConversation);
    }
    const titles = this.db
      .prepare(
        `SELECT * FROM conversations WHERE instr(tandem_fold(title), ?) > 0
         ORDER BY updated_at DESC, created_at DESC, rowid DESC`,
      )
      .all(needle.toLocaleLowerCase()) as ConversationRow[];
    const snippets = this.searchMessages(needle);
    const found = new Map<string, Conversation>();
    for (const row of titles) found.set(row.id, { ...toConversation(row), match: snippets.get(row.id) ?? null });
    const others = [...snippets.keys()].filter((id) => !found.has(id));
    for (const id of others) {
      const conversation = this.getConversation(id);
      if (conversation) found.set(id, { ...conversation, match: snippets.get(id) ?? null });
    }
    return [...found.values()].sort((a, b) => b.updatedAt - a.updatedAt || b.createdAt - a.createdAt);
  }

  /** Conversation id -> a snippet of its best matching message, by the FTS5 index of message text. */
  private searchMessages(needle: string): Map<string, string> {
    const words = needle.match(/[\p{L}\p{N}_]+/gu) ?? [];
    const snippets = new Map<string, string>();
    if (words.length === 0) return snippets;
    // Each word quoted (no FTS5 syntax from the search box) and matched as a prefix.
    const match = words.map((word) => `"${word}"*`).join(" ");
    let rows: Array<{ id: string; snippet: string }>;
    try {
      rows = this.db
        .prepare(
          `SELECT m.conversation_id AS id, snippet(messages_fts, 0, ?, ?, '…', 12) AS snippet
           FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
           WHERE messages_fts MATCH ? ORDER BY rank LIMIT 500`,
        )
        .all(MATCH_START, MATCH_END, match) as Array<{ id: string; snippet: string }>;
    } catch (error) {
      // A damaged database (opened as it was, perhaps before the index existed): titles only.
      if (!this.writesRefused) throw error;
      return snippets;
    }
    for (const row of rows) if (!snippets.has(row.id)) snippets.set(row.id, row.snippet);
    return snippets;
  }

  getConversation(id: string): Conversation | null {
    const row = this.db.prepare("SELECT * FROM conversations WHERE id = ?").get(id) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  createConversation(title: string = DEFAULT_CONVERSATION_TITLE): Conversation {
    this.assertWritable();
    const now = this.now();
    const conversation: Conversation = { id: randomUUID(), title, createdAt: now, updatedAt: now, speculation: null };
    this.db
      .prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)")
      .run(conversation.id, conversation.title, conversation.createdAt, conversation.updatedAt);
    return conversation;
  }

  /** Renames and marks as updated; null when there is no such conversation. */
  renameConversation(id: string, title: string): Conversation | null {
    this.assertWritable();
    this.db.prepare("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?").run(title, this.now(), id);
    return this.getConversation(id);
  }

  /**
   * Sets the conversation's speculation mode (null: follow settings); null when there is no such conversation.
   * A setting, not activity: the conversation keeps its place in the list.
   */
  setConversationSpeculation(id: string, mode: SpeculationMode | null): Conversation | null {
    this.assertWritable();
    this.db.prepare("UPDATE conversations SET speculation = ? WHERE id = ?").run(mode, id);
    return this.getConversation(id);
  }

  /** Marks a conversation as updated now (it moves to the top of the list). */
  touchConversation(id: string): Conversation | null {
    this.assertWritable();
    this.db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").run(this.now(), id);
    return this.getConversation(id);
  }

  /** Deletes a conversation and (by cascade) its messages. */
  deleteConversation(id: string): boolean {
    this.assertWritable();
    return this.db.prepare("DELETE FROM conversations WHERE id = ?").run(id).changes > 0;
  }

  // ---- messages ---------------------------------------------------------------------------------------------

  getMessages(conversationId: string): Message[] {
    const rows = this.db.prepare("SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq").all(conversationId) as MessageRow[];
    return rows.map((row) => this.toMessage(row));
  }

  getMessage(id: string): Message | null {
    const row = this.db.prepare("SELECT * FROM messages WHERE id = ?").get(id) as MessageRow | undefined;
    return row ? this.toMessage(row) : null;
  }

  /** Appends a message at the end of its conversation. */
  addMessage(input: NewMessage): Message {
    this.assertWritable();
    // Before the new row: a reply being written now is never mistaken for one the previous run left behind.
    this.retryInterruptedRecovery();
    const id = randomUUID();
    this.db.transaction(() => {
      const { next } = this.db
        .prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM messages WHERE conversation_id = ?")
        .get(input.conversationId) as { next: number };
      this.db
        .prepare(
          `INSERT INTO messages (id, conversation_id, seq, role, content, status, error, model, settings_json, stats_json, remote_json, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
        )
        .run(
          id,
          input.conversationId,
          next,
          input.role,
          input.content,
          input.status,
          input.error ?? null,
          input.model ?? null,
          input.settings ? JSON.stringify(input.settings) : null,
          input.remote ? JSON.stringify(input.remote) : null,
          this.now(),
        );
    })();
    const message = this.getMessage(id);
    if (!message) throw new Error("The message just stored could not be read back");
    return message;
  }

  /** Saves text of a message without changing its status (partial replies while streaming; user edits). */
  updateMessageContent(id: string, content: string): boolean {
    this.assertWritable();
    return this.db.prepare("UPDATE messages SET content = ? WHERE id = ?").run(content, id).changes > 0;
  }

  /** Records how a reply ended; null when the message no longer exists (its conversation was deleted). */
  finishMessage(id: string, outcome: MessageOutcome): Message | null {
    this.assertWritable();
    this.db
      .prepare("UPDATE messages SET content = ?, status = ?, stats_json = ?, error = ?, trace_json = ? WHERE id = ?")
      .run(
        outcome.content,
        outcome.status,
        outcome.stats ? JSON.stringify(outcome.stats) : null,
        outcome.error ?? null,
        outcome.trace && outcome.trace.events.length > 0 ? JSON.stringify(outcome.trace) : null,
        id,
      );
    if (outcome.remote) this.db.prepare("UPDATE messages SET remote_json = ? WHERE id = ?").run(JSON.stringify(outcome.remote), id);
    return this.getMessage(id);
  }

  /** Deletes every message of the conversation that comes after `messageId`; returns how many. */
  deleteMessagesAfter(conversationId: string, messageId: string): number {
    this.assertWritable();
    return this.db
      .prepare(
        `DELETE FROM messages WHERE conversation_id = ?
           AND seq > (SELECT seq FROM messages WHERE id = ? AND conversation_id = ?)`,
      )
      .run(conversationId, messageId, conversationId).changes;
  }

  deleteMessage(id: string): boolean {
    this.assertWritable();
    return this.db.prepare("DELETE FROM messages WHERE id = ?").run(id).changes > 0;
  }

  // ---- settings ---------------------------------------------------------------------------------------------

  /** The saved settings; a missing or invalid value (hand-edited, older version) falls back to its default. */
  getSettings(): Settings {
    let rows: Array<{ key: string; value_json: string }>;
    try {
      rows = this.db.prepare("SELECT key, value_json FROM settings").all() as Array<{ key: string; value_json: string }>;
    } catch (error) {
      // A damaged database must not stop the engine and the library (they start from the settings): defaults.
      if (!this.writesRefused) throw error;
      if (!this.settingsFallbackLogged) {
        this.settingsFallbackLogged = true;
        this.logger.warn(`The settings could not be read from the damaged database; using the defaults (${error instanceof Error ? error.message : String(error)})`);
      }
      return { ...this.defaults };
    }
    const settings: Settings = { ...this.defaults };
    const record = settings as Record<keyof Settings, unknown>;
    for (const { key, value_json } of rows) {
      if (!Object.hasOwn(Settings.shape, key)) continue;
      const name = key as keyof Settings;
      let value: unknown;
      try {
        value = JSON.parse(value_json);
      } catch {
        this.logger.warn(`Setting "${key}" is not valid JSON; using the default`);
        continue;
      }
      const parsed = Settings.shape[name].safeParse(value);
      if (parsed.success) record[name] = parsed.data;
      else this.logger.warn(`Setting "${key}" has an invalid value; using the default`);
    }
    return settings;
  }

  /** Validates and saves the given settings; returns the complete settings afterwards. */
  updateSettings(patch: Partial<Settings>): Settings {
    this.assertWritable();
    const merged = Settings.parse({ ...this.getSettings(), ...patch });
    const upsert = this.db.prepare(
      "INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json",
    );
    this.db.transaction(() => {
      for (const key of Object.keys(patch) as Array<keyof Settings>) {
        if (Object.hasOwn(Settings.shape, key)) upsert.run(key, JSON.stringify(merged[key]));
      }
    })();
    return merged;
  }

  // ---- model origins ----------------------------------------------------------------------------------------

  /** Records where the library file at `path` (absolute) came from, replacing an earlier record. */
  setModelOrigin(path: string, origin: ModelOrigin): void {
    this.assertWritable();
    this.db
      .prepare("INSERT INTO model_origins (path, origin_json) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET origin_json = excluded.origin_json")
      .run(path, JSON.stringify(origin));
  }

  /** The recorded origins of `paths` (unreadable rows are skipped). */
  getModelOrigins(paths: readonly string[]): Map<string, ModelOrigin> {
    const origins = new Map<string, ModelOrigin>();
    for (const path of paths) {
      let row: { origin_json: string } | undefined;
      try {
        row = this.db.prepare("SELECT origin_json FROM model_origins WHERE path = ?").get(path) as { origin_json: string } | undefined;
      } catch (error) {
        // In a damaged database: the library still lists its files, only without where they came from.
        if (!this.writesRefused) throw error;
        continue;
      }
      if (!row) continue;
      try {
        const parsed = ModelOrigin.safeParse(JSON.parse(row.origin_json));
        if (parsed.success) origins.set(path, parsed.data);
      } catch {
        // Not JSON: as if unrecorded.
      }
    }
    return origins;
  }

  deleteModelOrigins(paths: readonly string[]): void {
    this.assertWritable();
    const remove = this.db.prepare("DELETE FROM model_origins WHERE path = ?");
    this.db.transaction(() => {
      for (const path of paths) remove.run(path);
    })();
  }

  // ---- benchmarks -------------------------------------------------------------------------------------------

  addBenchmark(result: BenchmarkResult): void {
    this.assertWritable();
    this.db
      .prepare("INSERT INTO benchmarks (id, created_at, model, draft, prompt_set, reports_json) VALUES (?, ?, ?, ?, ?, ?)")
      .run(result.id, result.createdAt, result.model, result.draft, result.promptSet, JSON.stringify(result.reports));
  }

  /** Saved benchmark results, newest first (at most `limit`); unreadable rows are skipped. */
  listBenchmarks(limit = 100): BenchmarkResult[] {
    const rows = this.db.prepare("SELECT * FROM benchmarks ORDER BY created_at DESC, rowid DESC LIMIT ?").all(limit) as Array<{
      id: string;
      created_at: number;
      model: string;
      draft: string | null;
      prompt_set: string;
      reports_json: string;
    }>;
    const results: BenchmarkResult[] = [];
    for (const row of rows) {
      const parsed = BenchmarkResult.safeParse({
        id: row.id,
        createdAt: row.created_at,
        model: row.model,
        draft: row.draft,
        promptSet: row.prompt_set,
        reports: this.parseJsonColumn(row.reports_json, BenchmarkResult.shape.reports, row.id),
      });
      if (parsed.success) results.push(parsed.data);
    }
    return results;
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private assertWritable(): void {
    if (this.writesRefused) throw writesRefusedError();
  }

  /** A message left 'streaming' means the previous run died mid-reply: it will never finish now. */
  private recoverInterruptedMessages(): void {
    try {
      const changes = this.db
        .prepare("UPDATE messages SET status = 'interrupted', error = COALESCE(error, ?) WHERE status = 'streaming'")
        .run(INTERRUPTED_BY_SHUTDOWN_ERROR).changes;
      if (changes > 0) this.logger.info(`Marked ${changes} unfinished message(s) as interrupted`);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      // A full disk must not keep Tandem from starting (reading works): those messages are shown as interrupted
      // from here on and marked so at the next message added, or at the next start.
      const rows = this.db.prepare("SELECT id FROM messages WHERE status = 'streaming'").all() as Array<{ id: string }>;
      this.unrecovered = new Set(rows.map((row) => row.id));
      this.logger.warn(`Could not mark ${rows.length} unfinished message(s) as interrupted: ${describeError(error)}`);
    }
  }

  /** Marks what recoverInterruptedMessages could not (only those messages); quietly waits for the next try on failure. */
  private retryInterruptedRecovery(): void {
    const ids = this.unrecovered;
    if (!ids) return;
    try {
      const mark = this.db.prepare("UPDATE messages SET status = 'interrupted', error = COALESCE(error, ?) WHERE id = ? AND status = 'streaming'");
      this.db.transaction(() => {
        for (const id of ids) mark.run(INTERRUPTED_BY_SHUTDOWN_ERROR, id);
      })();
      this.unrecovered = null;
      this.logger.info(`Marked ${ids.size} unfinished message(s) as interrupted`);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
    }
  }

  private now(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return this.lastTimestamp;
  }

  private toMessage(row: MessageRow): Message {
    return {
      id: row.id,
      conversationId: row.conversation_id,
      role: row.role === "user" ? "user" : "assistant",
      content: row.content,
      ...(this.unrecovered?.has(row.id) && row.status === "streaming"
        ? { status: "interrupted" as const, error: row.error ?? INTERRUPTED_BY_SHUTDOWN_ERROR }
        : { status: parseStatus(row.status), error: row.error }),
      model: row.model,
      settings: this.parseJsonColumn(row.settings_json, GenerationSettings, row.id),
      stats: this.parseJsonColumn(row.stats_json, GenerationStats, row.id),
      ...(row.remote_json ? { remote: this.parseJsonColumn(row.remote_json, RemoteReply, row.id) } : {}),
      ...(row.trace_json ? { trace: this.parseJsonColumn(row.trace_json, ReplyTrace, row.id) } : {}),
      createdAt: row.created_at,
    };
  }

  private parseJsonColumn<T>(json: string | null, schema: z.ZodType<T>, id: string): T | null {
    if (json === null) return null;
    try {
      const parsed = schema.safeParse(JSON.parse(json));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through: treated like an invalid value
    }
    this.logger.warn(`Message ${id} has an unreadable JSON column; ignoring it`);
    return null;
  }
}

function toConversation(row: ConversationRow): Conversation {
  // An unknown mode (hand-edited, or written by a newer version) follows the settings instead.
  const speculation = SpeculationMode.safeParse(row.speculation);
  return {
    id: row.id,
    title: row.title,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    speculation: speculation.success ? speculation.data : null,
  };
}

const STATUSES: ReadonlySet<string> = new Set<MessageStatus>(["complete", "streaming", "stopped", "interrupted", "error"]);

function parseStatus(status: string): MessageStatus {
  return STATUSES.has(status) ? (status as MessageStatus) : "error";
}
