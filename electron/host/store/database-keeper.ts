/**
 * DatabaseKeeper: owns tandem.db for the host: opens it (the integrity check runs then), knows whether it is healthy
 * or damaged, and runs backup-and-recover. Like EngineStatusTracker for the engine, it reports a typed state
 * (DatabaseStatus) and pushes every change, which the host turns into a `databaseStatus` event; the window shows
 * the recovery screen for "damaged".
 *
 * While damaged the store is the damaged file opened read-only, with every write refused: reads still serve what is
 * readable (the settings the engine starts with), but nothing is written into the file until the user has chosen
 * how to recover it — writing on would only bury more of what can be saved.
 */
import { join } from "node:path";
import type { DatabaseRecovery, DatabaseStatus, TandemApi, WindowMethod } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";
import { describeError, type Logger } from "../logger.js";
import { AppDatabase } from "./app-database.js";
import { damageOf, DatabaseDamagedError } from "./integrity.js";
import { recoverDamagedDatabase } from "./recovery.js";

export interface DatabaseKeeperOptions {
  dataDir: string;
  /** The database file (<dataDir>/tandem.db). */
  file?: string;
  logger: Logger;
  /**
   * Where a database that cannot be opened at all is recorded (host.log). Not the console: the shells tell the user
   * themselves (web mode prints one line and exits), so the failure is not printed twice.
   */
  openFailureLog?: Logger;
  nativeBinding?: string;
  /** Called with the new status on every change. */
  onChange: (status: DatabaseStatus) => void;
  now?: () => number;
}

interface Damage {
  problem: NonNullable<DatabaseStatus["problem"]>;
  detail: string;
  foundWhile: NonNullable<DatabaseStatus["foundWhile"]>;
}

export class DatabaseKeeper {
  readonly file: string;
  private store: AppDatabase | null = null;
  private damage: Damage | null = null;
  private lastRecovery: DatabaseRecovery | null = null;

  constructor(private readonly options: DatabaseKeeperOptions) {
    this.file = options.file ?? join(options.dataDir, "tandem.db");
  }

  get status(): DatabaseStatus {
    return {
      state: this.damage ? "damaged" : "ok",
      path: this.file,
      problem: this.damage?.problem ?? null,
      detail: this.damage?.detail ?? null,
      foundWhile: this.damage?.foundWhile ?? null,
      lastRecovery: this.lastRecovery,
    };
  }

  /** The open store, or null when it has not been opened yet (or was closed). */
  get current(): AppDatabase | null {
    return this.store;
  }

  /**
   * The store, opened now when it is not: the healthy database, or the damaged one quarantined (read-only, writes
   * refused). Throws DatabaseOpenError (a TandemApiError, DATABASE_UNAVAILABLE) when it cannot be opened at all;
   * the next call tries again (the user may have fixed the cause meanwhile).
   */
  open(): AppDatabase {
    if (this.store) return this.store;
    try {
      if (!this.damage) {
        try {
          this.store = this.openStore(false);
          return this.store;
        } catch (error) {
          if (!(error instanceof DatabaseDamagedError)) throw error;
          this.damage = { problem: error.problem, detail: error.detail, foundWhile: "opening" };
          this.options.logger.error(`The database ${this.file} is damaged (${error.detail}): nothing is written to it until it is recovered`);
          this.options.onChange(this.status);
        }
      }
      this.store = this.openStore(true);
      return this.store;
    } catch (error) {
      (this.options.openFailureLog ?? this.options.logger).error(describeError(error));
      throw error;
    }
  }

  /**
   * Called with whatever an operation threw: SQLite reporting damage while running (quick_check at open does not
   * see damage that happens later) switches to the damaged state, so the following writes are refused.
   */
  noticeError(error: unknown): void {
    const problem = damageOf(error);
    if (!problem || this.damage) return;
    this.damage = { problem, detail: describeError(error), foundWhile: "running" };
    // Refused first: an operation still holding this store (across an await) fails with DATABASE_DAMAGED, not with
    // "connection closed". Then swapped for the quarantined read-only connection (opened at the next use), so that
    // from now on nothing changes the file: the backup made later is the file exactly as the damage left it.
    // (This close lets SQLite fold its -wal into the file one last time: pages already committed, no new data.)
    this.store?.refuseWrites();
    try {
      this.store?.close();
    } catch (closeError) {
      this.options.logger.warn(`Closing the damaged database failed: ${describeError(closeError)}`);
    }
    this.store = null;
    this.options.logger.error(`SQLite reported damage in ${this.file} (${this.damage.detail}): nothing is written to it until it is recovered`);
    this.options.onChange(this.status);
  }

  /**
   * Moves the damaged database aside (never deleted) and opens a new one: with the readable rows of the damaged
   * file ("recover") or empty. Refused with BAD_REQUEST when the database is not damaged.
   */
  recover(mode: DatabaseRecovery["mode"]): DatabaseRecovery {
    if (!this.damage) throw apiError("BAD_REQUEST", "The database is not damaged: there is nothing to recover.");
    // Closed first: the file is renamed (Windows refuses to rename an open file), and a quarantined connection
    // must not outlive the file it reads.
    this.close();
    let recovery: DatabaseRecovery;
    try {
      recovery = recoverDamagedDatabase(this.file, { mode, nativeBinding: this.options.nativeBinding, logger: this.options.logger, now: this.options.now });
    } catch (error) {
      this.options.logger.error(`Recovering the database failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      throw apiError("RECOVERY_FAILED", `Tandem could not recover its database: ${describeError(error)}`);
    }
    this.damage = null;
    this.lastRecovery = recovery;
    try {
      // The new database goes through the same check; it is fresh, so this opens it as healthy.
      this.open();
    } finally {
      this.options.onChange(this.status);
    }
    return recovery;
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }

  private openStore(quarantined: boolean): AppDatabase {
    return new AppDatabase(this.file, {
      dataDir: this.options.dataDir,
      logger: this.options.logger,
      nativeBinding: this.options.nativeBinding,
      quarantined,
    });
  }
}

/**
 * Wraps the API so that every failure is shown to the keeper first: damage SQLite reports in any operation (opening
 * a chat, saving settings) switches to the damaged state instead of surfacing as one INTERNAL error after another.
 */
export function noticingDamage(api: TandemApi, keeper: DatabaseKeeper): TandemApi {
  const wrapped: Partial<Record<WindowMethod, (params: unknown) => Promise<unknown>>> = {};
  for (const method of Object.keys(api) as WindowMethod[]) {
    const call = api[method] as unknown as (params: unknown) => Promise<unknown>;
    wrapped[method] = async (params: unknown) => {
      try {
        return await call(params);
      } catch (error) {
        keeper.noticeError(error);
        throw error;
      }
    };
  }
  return wrapped as unknown as TandemApi;
}
