/**
 * Backup-and-recover for a damaged tandem.db.
 *
 * better-sqlite3 has no `.recover` (that is the sqlite3 shell's), so salvage is done by hand: a new database is
 * created with the current schema (the migrations), and every table's rows that SQLite can still read are copied
 * into it. A damaged page fails the scan that reaches it; the scan then resumes past it, found by probing rowids
 * (a rowid seek walks the b-tree's interior pages, so it lands beyond a damaged leaf as long as those are intact).
 * Only the rows stored on damaged pages are lost; they stay in the backup, which is never deleted.
 *
 * Order of work, so that a crash at any point loses nothing: the damaged files are copied to a scratch folder and
 * salvaged from there (the backup must stay byte-identical, and even a read-only SQLite connection may create or
 * rewrite a -shm file); then the damaged files are renamed aside; then the new database is renamed into place.
 * Until the last step tandem.db is either the damaged file (found again at the next start) or absent (a fresh one).
 */
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import Database from "better-sqlite3";
import type { DatabaseRecovery } from "../../../contracts/window/index.js";
import { silentLogger, type Logger } from "../logger.js";
import { damageOf } from "./integrity.js";
import { migrate } from "./migrations.js";

/** SQLite's companions of a database file in WAL mode; they belong to the database and move with it. */
export const DATABASE_COMPANIONS = ["-wal", "-shm"] as const;

/** Title of a conversation rebuilt for messages whose own conversation row was lost. */
export const RECOVERED_CONVERSATION_TITLE = "Recovered conversation";

export interface RecoverOptions {
  mode: DatabaseRecovery["mode"];
  nativeBinding?: string;
  logger?: Logger;
  now?: () => number;
}

/**
 * Moves the damaged database at `file` aside and puts a new one in its place: with the salvaged rows ("recover") or
 * empty ("empty": no file is left at `file`, the store creates it when it opens). The database must be closed.
 */
export function recoverDamagedDatabase(file: string, options: RecoverOptions): DatabaseRecovery {
  const logger = options.logger ?? silentLogger;
  const at = (options.now ?? Date.now)();
  const dir = dirname(file);
  // In the same folder: the final rename must not cross file systems (it would not be atomic, or would fail).
  const scratch = mkdtempSync(join(dir, ".tandem-recovery-"));
  try {
    let salvaged: Salvage = { incompleteTables: [] };
    const rebuilt = join(scratch, "recovered.db");
    if (options.mode === "recover") {
      const source = join(scratch, "damaged.db");
      // The -wal holds the latest committed writes; the -shm is only an index SQLite rebuilds from it.
      for (const suffix of ["", "-wal"]) if (existsSync(file + suffix)) copyFileSync(file + suffix, source + suffix);
      salvaged = salvageInto(source, rebuilt, options.nativeBinding, logger);
    }
    const backupFiles = moveAside(file, backupName(file, at));
    if (options.mode === "recover") renameSync(rebuilt, file);
    const counts = options.mode === "recover" ? countRows(file, options.nativeBinding) : { conversations: 0, messages: 0, settings: 0 };
    const backupPath = backupFiles[0] ?? backupName(file, at);
    logger.info(
      `Recovered the damaged database (${options.mode}): ${counts.conversations} conversation(s), ${counts.messages} message(s), ${counts.settings} setting(s); ` +
        `${salvaged.incompleteTables.length > 0 ? `rows lost in ${salvaged.incompleteTables.join(", ")}; ` : ""}the damaged file is kept as ${backupPath}`,
    );
    return { mode: options.mode, backupPath, backupFiles, ...counts, incompleteTables: salvaged.incompleteTables, at };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * tandem.db → tandem-damaged-20250115-120000.db next to it, in local time (what the user remembers); a second one
 * within the same second gets "-2".
 */
export function backupName(file: string, at: number): string {
  const ext = extname(file);
  const stem = basename(file, ext);
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`;
  const base = join(dirname(file), `${stem}-damaged-${stamp}`);
  let candidate = `${base}${ext}`;
  for (let n = 2; DATABASE_COMPANIONS.some((suffix) => existsSync(candidate + suffix)) || existsSync(candidate); n++) candidate = `${base}-${n}${ext}`;
  return candidate;
}

/**
 * Renames the database and its companions to `backup` (keeping SQLite's naming, so the backup opens with its
 * -wal in the sqlite3 shell); returns the new paths, the database first.
 */
function moveAside(file: string, backup: string): string[] {
  const moved: string[] = [];
  for (const suffix of ["", ...DATABASE_COMPANIONS]) {
    if (!existsSync(file + suffix)) continue;
    renameSync(file + suffix, backup + suffix);
    moved.push(backup + suffix);
  }
  return moved;
}

interface Salvage {
  incompleteTables: string[];
}

/** Creates `target` with the current schema and copies into it every row of `source` that SQLite can read. */
function salvageInto(source: string, target: string, nativeBinding: string | undefined, logger: Logger): Salvage {
  const binding = nativeBinding ? { nativeBinding } : {};
  const out = new Database(target, binding);
  const incomplete = new Set<string>();
  try {
    migrate(out);
    let from: Database.Database | null = null;
    try {
      // A scratch copy: it may be written to (a WAL replayed), which the original never is.
      from = new Database(source, binding);
      const sourceTables = new Set((from.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
      // Referenced tables first: a message needs its conversation.
      const tables = targetTables(out).sort((a, b) => tableOrder(a) - tableOrder(b));
      out.pragma("foreign_keys = ON");
      out.transaction(() => {
        for (const table of tables) {
          if (!sourceTables.has(table)) continue;
          try {
            if (!copyTable(from!, out, table, logger)) incomplete.add(table);
          } catch (error) {
            // This table is past reading (its schema entry, say); the other tables still count.
            if (!damageOf(error)) throw error;
            logger.warn(`The table ${table} could not be read from the damaged database: ${(error as Error).message}`);
            incomplete.add(table);
          }
        }
      })();
    } catch (error) {
      // Nothing readable at all (not a database, a damaged schema page): the new database stays empty.
      if (!damageOf(error)) throw error;
      logger.warn(`Nothing could be read from the damaged database: ${(error as Error).message}`);
      for (const table of targetTables(out)) incomplete.add(table);
    } finally {
      from?.close();
    }
  } finally {
    out.close();
  }
  return { incompleteTables: [...incomplete].sort((a, b) => tableOrder(a) - tableOrder(b) || a.localeCompare(b)) };
}

/** The schema's own tables, without the migrations' bookkeeping (the new database records its own). */
function targetTables(db: Database.Database): string[] {
  const tables = db
    .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version'")
    .all() as Array<{ name: string; sql: string | null }>;
  // A full-text index (and its shadow tables) is not copied: the triggers fill it as the messages are copied.
  const virtual = tables.filter((t) => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql ?? "")).map((t) => t.name);
  return tables.filter((t) => !virtual.some((v) => t.name === v || t.name.startsWith(`${v}_`))).map((t) => t.name);
}

function tableOrder(table: string): number {
  const order = ["conversations", "messages", "settings"];
  const i = order.indexOf(table);
  return i < 0 ? order.length : i;
}

interface Column {
  name: string;
  type: string;
  notnull: number;
  dflt_value: unknown;
  pk: number;
}

/** Copies the readable rows of one table; false when some of its rows could not be read. */
function copyTable(from: Database.Database, out: Database.Database, table: string, logger: Logger): boolean {
  const targetColumns = out.pragma(`table_info("${table}")`) as Column[];
  const sourceNames = new Set((from.pragma(`table_info("${table}")`) as Column[]).map((c) => c.name));
  // Columns both have: an older database lacks newer columns (their defaults apply), a newer one has extra ones.
  const columns = targetColumns.filter((c) => sourceNames.has(c.name));
  const names = columns.map((c) => `"${c.name}"`).join(", ");
  const insert = out.prepare(`INSERT OR IGNORE INTO "${table}" (${names}) VALUES (${columns.map(() => "?").join(", ")})`);
  const conversationIds = table === "messages" ? new Set((out.prepare("SELECT id FROM conversations").all() as Array<{ id: string }>).map((r) => r.id)) : null;
  /** Conversations rebuilt for orphaned messages, with the span of their messages' times. */
  const rebuilt = new Map<string, { first: number; last: number }>();

  let skipped = 0;
  const { complete } = readRows(from, table, columns, (row) => {
    if (!columns.every((column) => fitsColumn(column, row[column.name]))) {
      // Garbage read from a damaged page that SQLite did not notice (wrong types): not worth keeping.
      skipped++;
      return;
    }
    if (conversationIds && typeof row.conversation_id === "string" && !conversationIds.has(row.conversation_id)) {
      // The conversation's row was lost but its messages were not: give them a conversation to live in (the
      // foreign key needs it anyway).
      const at = typeof row.created_at === "number" ? row.created_at : 0;
      out.prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)").run(row.conversation_id, RECOVERED_CONVERSATION_TITLE, at, at);
      conversationIds.add(row.conversation_id);
      rebuilt.set(row.conversation_id, { first: at, last: at });
    }
    try {
      // OR IGNORE: a duplicate key or a NOT NULL / CHECK violation (garbage again) skips the row.
      if (insert.run(columns.map((column) => row[column.name])).changes === 0) skipped++;
    } catch (error) {
      // A constraint OR IGNORE does not cover (a foreign key): skip the row, keep the rest.
      skipped++;
      logger.debug(`Skipped a row of ${table} during recovery: ${(error as Error).message}`);
      return;
    }
    const span = typeof row.conversation_id === "string" ? rebuilt.get(row.conversation_id) : undefined;
    if (span && typeof row.created_at === "number") {
      span.first = Math.min(span.first, row.created_at);
      span.last = Math.max(span.last, row.created_at);
    }
  });
  // A rebuilt conversation spans its messages: created at the first, updated at the last.
  const setTimes = out.prepare("UPDATE conversations SET created_at = ?, updated_at = ? WHERE id = ?");
  for (const [id, { first, last }] of rebuilt) setTimes.run(first, last, id);
  return complete && skipped === 0;
}

/** Whether a value read from the damaged file has the type the new schema declares (SQLite itself would not mind). */
function fitsColumn(column: Column, value: unknown): boolean {
  // An explicit NULL is not replaced by a column's default; a TEXT primary key would even accept it (SQLite quirk).
  if (value === null || value === undefined) return column.notnull === 0 && column.pk === 0;
  const type = column.type.toUpperCase();
  if (type.includes("INT")) return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
  if (type.includes("TEXT") || type.includes("CHAR")) return typeof value === "string";
  if (type.includes("REAL") || type.includes("FLOA") || type.includes("DOUB")) return typeof value === "number";
  return true;
}

/**
 * Calls `each` with every row of `table` SQLite can read, in rowid order, stepping over damaged pages. `complete` is
 * false when some rows could not be read (a scan failed on the way).
 */
export function readRows(
  db: Database.Database,
  table: string,
  columns: ReadonlyArray<{ name: string }> | null,
  each: (row: Record<string, unknown>) => void,
): { complete: boolean } {
  const list = columns ? columns.map((c) => `"${c.name}"`).join(", ") : "*";
  // ORDER BY rowid with a rowid bound walks the table's own b-tree: a damaged index does not get in the way.
  const scan = db.prepare(`SELECT rowid AS "__tandem_rowid", ${list} FROM "${table}" WHERE rowid > ? ORDER BY rowid`);
  const probe = db.prepare(`SELECT rowid FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT 1`);
  /** true: reading past `after` works; false: it hits damage; null: there is nothing past `after`. */
  const readableAfter = (after: number): boolean | null => {
    try {
      return probe.get(after) !== undefined ? true : null;
    } catch (error) {
      if (damageOf(error)) return false;
      throw error;
    }
  };
  let after = Number.MIN_SAFE_INTEGER;
  let complete = true;
  for (;;) {
    try {
      for (const row of scan.iterate(after) as Iterable<Record<string, unknown>>) {
        after = row.__tandem_rowid as number;
        each(row);
      }
      return { complete };
    } catch (error) {
      if (!damageOf(error)) throw error;
      complete = false;
    }
    // Past the damaged page: the first rowid bound above `after` from which reading works again, found with
    // doubling steps and then narrowed by bisection (so readable rows right after the damage are not skipped).
    let step = 1;
    let found: number | null = null;
    for (; after + step < Number.MAX_SAFE_INTEGER; step *= 2) {
      const readable = readableAfter(after + step);
      if (readable === null) return { complete };
      if (readable) {
        found = after + step;
        break;
      }
    }
    if (found === null) return { complete };
    let bad = step === 1 ? after : after + step / 2;
    while (found - bad > 1) {
      const mid = Math.floor((bad + found) / 2);
      if (readableAfter(mid)) found = mid;
      else bad = mid;
    }
    // found > after: every round moves on, so this ends.
    after = found;
  }
}

function countRows(file: string, nativeBinding: string | undefined): { conversations: number; messages: number; settings: number } {
  const db = new Database(file, { readonly: true, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
    return { conversations: count("conversations"), messages: count("messages"), settings: count("settings") };
  } finally {
    db.close();
  }
}
