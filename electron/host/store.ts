/**
 * ChatStore: conversations, messages and settings in one SQLite file (better-sqlite3, synchronous: every write is
 * on disk when the call returns, which is what lets a partial reply survive a crash).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import type { z } from "zod";
import { GenerationStats, SpeculationMode } from "../../engine/protocol.js";
import {
  BenchmarkResult,
  GenerationSettings,
  ModelOrigin,
  Settings,
  type Conversation,
  type Message,
  type MessageStatus,
} from "../window-api.js";
import { silentLogger, type Logger } from "./logger.js";
import { currentSchemaVersion, migrate } from "./store-migrations.js";

export const DEFAULT_CONVERSATION_TITLE = "New chat";

/** Written into messages found still 'streaming' when the database is opened: the previous run died mid-reply. */
export const INTERRUPTED_BY_SHUTDOWN_ERROR = "Tandem closed before the reply finished; the reply was cut off.";

export function defaultSettings(dataDir: string): Settings {
  return {
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
  };
}

export interface NewMessage {
  conversationId: string;
  role: Message["role"];
  content: string;
  status: MessageStatus;
  model?: string | null;
  settings?: GenerationSettings | null;
  error?: string | null;
}

export interface MessageOutcome {
  content: string;
  status: MessageStatus;
  stats?: GenerationStats | null;
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
  created_at: number;
}

export interface ChatStoreOptions {
  /** Where default paths (the models folder) point. */
  dataDir: string;
  logger?: Logger;
  /** A better-sqlite3 addon built for this runtime (Electron in development); default lookup when absent. */
  nativeBinding?: string;
}

export class ChatStore {
  private readonly db: Database.Database;
  private readonly defaults: Settings;
  private readonly logger: Logger;
  /** Timestamps strictly increase, so "most recently updated" is never a tie within one process. */
  private lastTimestamp = 0;

  /** Opens (creating if needed) the database at `file`; ":memory:" works for tests. */
  constructor(file: string, options: ChatStoreOptions) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
    this.defaults = defaultSettings(options.dataDir);
    this.logger = options.logger ?? silentLogger;
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    // Case-insensitive search that also folds non-ASCII letters (SQLite's LIKE and lower() only fold ASCII).
    this.db.function("tandem_fold", { deterministic: true }, (text: unknown) => (typeof text === "string" ? text.toLocaleLowerCase() : null));
    migrate(this.db);
    this.recoverInterruptedMessages();
  }

  get schemaVersion(): number {
    return currentSchemaVersion(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- conversations ---------------------------------------------------------------------------------------

  listConversations(query?: string): Conversation[] {
    const needle = query?.trim();
    const rows = needle
      ? this.db
          .prepare(
            `SELECT * FROM conversations WHERE instr(tandem_fold(title), ?) > 0
             ORDER BY updated_at DESC, created_at DESC, rowid DESC`,
          )
          .all(needle.toLocaleLowerCase())
      : this.db.prepare("SELECT * FROM conversations ORDER BY updated_at DESC, created_at DESC, rowid DESC").all();
    return (rows as ConversationRow[]).map(toConversation);
  }

  getConversation(id: string): Conversation | null {
    const row = this.db.prepare("SELECT * FROM conversations WHERE id = ?").get(id) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  createConversation(title: string = DEFAULT_CONVERSATION_TITLE): Conversation {
    const now = this.now();
    const conversation: Conversation = { id: randomUUID(), title, createdAt: now, updatedAt: now, speculation: null };
    this.db
      .prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)")
      .run(conversation.id, conversation.title, conversation.createdAt, conversation.updatedAt);
    return conversation;
  }

  /** Renames and marks as updated; null when there is no such conversation. */
  renameConversation(id: string, title: string): Conversation | null {
    this.db.prepare("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?").run(title, this.now(), id);
    return this.getConversation(id);
  }

  /**
   * Sets the conversation's speculation mode (null: follow settings); null when there is no such conversation.
   * A setting, not activity: the conversation keeps its place in the list.
   */
  setConversationSpeculation(id: string, mode: SpeculationMode | null): Conversation | null {
    this.db.prepare("UPDATE conversations SET speculation = ? WHERE id = ?").run(mode, id);
    return this.getConversation(id);
  }

  /** Marks a conversation as updated now (it moves to the top of the list). */
  touchConversation(id: string): Conversation | null {
    this.db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").run(this.now(), id);
    return this.getConversation(id);
  }

  /** Deletes a conversation and (by cascade) its messages. */
  deleteConversation(id: string): boolean {
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
    const id = randomUUID();
    this.db.transaction(() => {
      const { next } = this.db
        .prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM messages WHERE conversation_id = ?")
        .get(input.conversationId) as { next: number };
      this.db
        .prepare(
          `INSERT INTO messages (id, conversation_id, seq, role, content, status, error, model, settings_json, stats_json, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
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
          this.now(),
        );
    })();
    const message = this.getMessage(id);
    if (!message) throw new Error("The message just stored could not be read back");
    return message;
  }

  /** Saves text of a message without changing its status (partial replies while streaming; user edits). */
  updateMessageContent(id: string, content: string): boolean {
    return this.db.prepare("UPDATE messages SET content = ? WHERE id = ?").run(content, id).changes > 0;
  }

  /** Records how a reply ended; null when the message no longer exists (its conversation was deleted). */
  finishMessage(id: string, outcome: MessageOutcome): Message | null {
    this.db
      .prepare("UPDATE messages SET content = ?, status = ?, stats_json = ?, error = ? WHERE id = ?")
      .run(outcome.content, outcome.status, outcome.stats ? JSON.stringify(outcome.stats) : null, outcome.error ?? null, id);
    return this.getMessage(id);
  }

  /** Deletes every message of the conversation that comes after `messageId`; returns how many. */
  deleteMessagesAfter(conversationId: string, messageId: string): number {
    return this.db
      .prepare(
        `DELETE FROM messages WHERE conversation_id = ?
           AND seq > (SELECT seq FROM messages WHERE id = ? AND conversation_id = ?)`,
      )
      .run(conversationId, messageId, conversationId).changes;
  }

  deleteMessage(id: string): boolean {
    return this.db.prepare("DELETE FROM messages WHERE id = ?").run(id).changes > 0;
  }

  // ---- settings ---------------------------------------------------------------------------------------------

  /** The saved settings; a missing or invalid value (hand-edited, older version) falls back to its default. */
  getSettings(): Settings {
    const rows = this.db.prepare("SELECT key, value_json FROM settings").all() as Array<{ key: string; value_json: string }>;
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
    this.db
      .prepare("INSERT INTO model_origins (path, origin_json) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET origin_json = excluded.origin_json")
      .run(path, JSON.stringify(origin));
  }

  /** The recorded origins of `paths` (unreadable rows are skipped). */
  getModelOrigins(paths: readonly string[]): Map<string, ModelOrigin> {
    const origins = new Map<string, ModelOrigin>();
    const select = this.db.prepare("SELECT origin_json FROM model_origins WHERE path = ?");
    for (const path of paths) {
      const row = select.get(path) as { origin_json: string } | undefined;
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
    const remove = this.db.prepare("DELETE FROM model_origins WHERE path = ?");
    this.db.transaction(() => {
      for (const path of paths) remove.run(path);
    })();
  }

  // ---- benchmarks -------------------------------------------------------------------------------------------

  addBenchmark(result: BenchmarkResult): void {
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

  /** A message left 'streaming' means the previous run died mid-reply: it will never finish now. */
  private recoverInterruptedMessages(): void {
    const changes = this.db
      .prepare("UPDATE messages SET status = 'interrupted', error = COALESCE(error, ?) WHERE status = 'streaming'")
      .run(INTERRUPTED_BY_SHUTDOWN_ERROR).changes;
    if (changes > 0) this.logger.info(`Marked ${changes} unfinished message(s) as interrupted`);
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
      status: parseStatus(row.status),
      error: row.error,
      model: row.model,
      settings: this.parseJsonColumn(row.settings_json, GenerationSettings, row.id),
      stats: this.parseJsonColumn(row.stats_json, GenerationStats, row.id),
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
