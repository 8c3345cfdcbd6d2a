/**
 * Is tandem.db usable? The integrity check run when the database is opened, and the words for what went wrong.
 *
 * Three outcomes, because each needs a different answer from Tandem:
 * - healthy: open it as usual;
 * - damaged (`DatabaseDamagedError`): SQLite can open the file but reports damage ("database disk image is
 *   malformed", a failed quick_check) or the file is not an SQLite database at all. Tandem keeps running, refuses
 *   writes and offers backup-and-recover (database-keeper.ts), because writing on would bury what can be saved;
 * - unopenable (`DatabaseOpenError`): permission denied, a folder where the file should be, a disk I/O error. There
 *   is nothing to recover from; the user must fix the cause, so startup stops with one clear message.
 *
 * The check is `PRAGMA quick_check`: it reads every page and verifies the b-tree structure (what random pages written
 * over the file break), skipping only the index-against-table cross-check of integrity_check. Measured on Tandem's
 * own schema (medians, file in the OS cache): 5,000 messages (2.4 MB) 3.4 ms, against 9.7 ms for integrity_check;
 * 50,000 messages (24 MB) 28 ms against 75 ms. Linear in the file size and cheap enough for every start; a cold cache
 * adds reading the file once, which SQLite would do for the first queries anyway.
 */
import { accessSync, constants, statSync } from "node:fs";
import type Database from "better-sqlite3";
import { TandemApiError, type DatabaseProblem } from "../../../contracts/window/index.js";

/** SQLite result codes (better-sqlite3 puts them in `error.code`) that mean the file's content is damaged. */
function sqliteCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

/** The kind of damage an SQLite error reports, or null when the error is not about damaged content. */
export function damageOf(error: unknown): DatabaseProblem | null {
  const code = sqliteCode(error);
  if (code === "SQLITE_NOTADB") return "not-a-database";
  // SQLITE_CORRUPT plus its extended codes (SQLITE_CORRUPT_VTAB, SQLITE_CORRUPT_SEQUENCE, SQLITE_CORRUPT_INDEX).
  if (code?.startsWith("SQLITE_CORRUPT")) return "corrupt";
  return null;
}

/** The database file can be opened but is damaged: Tandem offers backup-and-recover instead of using it. */
export class DatabaseDamagedError extends Error {
  constructor(
    readonly problem: DatabaseProblem,
    /** SQLite's own words: the error message, or the first lines quick_check reported. */
    readonly detail: string,
  ) {
    super(`The database is damaged: ${detail}`);
    this.name = "DatabaseDamagedError";
  }
}

/**
 * The database cannot be opened at all. A TandemApiError so that calls made anyway (the app's window is up before
 * the store opens) answer with this message rather than INTERNAL.
 */
export class DatabaseOpenError extends TandemApiError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super("DATABASE_UNAVAILABLE", `Tandem can't open its database ${path}: ${reason}.`);
    this.name = "DatabaseOpenError";
  }
}

/**
 * Runs the integrity check on an open connection; throws DatabaseDamagedError when it finds damage. Errors that
 * are not about damage (I/O, permissions) are thrown as they are, for `classifyOpenFailure` to word.
 */
export function checkIntegrity(db: Database.Database): void {
  let rows: Array<Record<string, unknown>>;
  try {
    rows = db.pragma("quick_check") as Array<Record<string, unknown>>;
  } catch (error) {
    // Damage that stops the check itself (an unreadable page 1, a damaged schema or b-tree interior page) is
    // thrown, not reported as rows.
    const problem = damageOf(error);
    if (problem) throw new DatabaseDamagedError(problem, (error as Error).message);
    throw error;
  }
  const lines = rows.map((row) => String(Object.values(row)[0]));
  if (lines.length === 1 && lines[0] === "ok") return;
  // quick_check lists up to 100 problems; the first few say enough.
  throw new DatabaseDamagedError("corrupt", lines.slice(0, 3).join("; ") || "the integrity check failed");
}

/**
 * Whatever opening the database threw, as the error the host acts on: damage stays a DatabaseDamagedError, anything
 * else becomes a DatabaseOpenError worded from what the file system says (SQLite's "unable to open database file"
 * alone does not tell the user what to fix).
 */
export function classifyOpenFailure(file: string, error: unknown): DatabaseDamagedError | DatabaseOpenError {
  if (error instanceof DatabaseDamagedError || error instanceof DatabaseOpenError) return error;
  const problem = damageOf(error);
  if (problem) return new DatabaseDamagedError(problem, (error as Error).message);
  return new DatabaseOpenError(file, openFailureReason(file, error));
}

function openFailureReason(file: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  try {
    if (statSync(file).isDirectory()) return "that path is a folder, not a database file";
  } catch {
    // Missing (SQLite would have created it) or not stat-able: SQLite's words below.
  }
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (accessError) {
    const code = (accessError as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return "permission denied (Tandem needs to read and write it)";
  }
  const code = sqliteCode(error);
  if (code === "SQLITE_READONLY") return "the file is read-only (Tandem needs to write it)";
  // Opening writes (migrations, the WAL): a full disk fails it, and the user can fix that.
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "SQLITE_FULL" || errno === "ENOSPC" || errno === "EDQUOT") return "the disk is full: free some space, then start Tandem again";
  if (code?.startsWith("SQLITE_IOERR")) return `the disk reported an error (${message})`;
  return message;
}

/** The error code the window sees for anything refused or failed because the database is damaged. */
export const DATABASE_DAMAGED = "DATABASE_DAMAGED";

/** What a write gets while the database is damaged and not yet recovered. */
export function writesRefusedError(): TandemApiError {
  return new TandemApiError(
    DATABASE_DAMAGED,
    "Tandem's database is damaged, so nothing new is saved until it is recovered. Choose how to recover it on the database screen.",
  );
}

/** SQLite's damage errors as the window sees them (instead of INTERNAL "Something went wrong"); null for others. */
export function damageApiError(error: unknown): TandemApiError | null {
  if (!damageOf(error)) return null;
  return new TandemApiError(DATABASE_DAMAGED, `Tandem's database is damaged (${(error as Error).message}). Choose how to recover it on the database screen.`);
}
