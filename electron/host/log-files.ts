/**
 * Rotating log files in `<dataDir>/logs`: host.log (the host layer) and engine.log (the engine's own log events and
 * its stderr, where llama.cpp and a crashing process print). Each file is rotated when it would pass ~5 MB, keeping
 * three old files (host.1.log is the newest of them). Writing never throws into the caller: a full disk or a
 * read-only folder must not take the app down, it only loses log lines.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { oneLine, type Logger } from "./logger.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogName = "host" | "engine";

export const LOGS_FOLDER = "logs";
export const DEFAULT_LOG_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 3;

export function logsDir(dataDir: string): string {
  return join(dataDir, LOGS_FOLDER);
}

/** The current file of a log: `<logs>/host.log`. */
export function logFilePath(dir: string, name: LogName | string): string {
  return join(dir, `${name}.log`);
}

/** The n-th old file of a log: `<logs>/host.1.log` (1 = newest). */
export function rotatedLogPath(dir: string, name: LogName | string, n: number): string {
  return join(dir, `${name}.${n}.log`);
}

export interface RotatingLogOptions {
  /** Rotate before a write would take the file past this size (default 5 MB). */
  maxBytes?: number;
  /** How many old files to keep (default 3). */
  keep?: number;
  /** The clock for timestamps (tests). */
  now?: () => Date;
}

/** One log file with its rotation. Synchronous appends, so lines keep their order and survive a crash right after. */
export class RotatingLog {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly now: () => Date;
  private fd: number | null = null;
  private size = 0;
  /** After a failure to open, retry only after this time (a broken disk is not hammered on every line). */
  private retryAt = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    readonly name: string,
    options: RotatingLogOptions = {},
  ) {
    this.path = logFilePath(dir, name);
    this.maxBytes = Math.max(1, options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.keep = Math.max(0, options.keep ?? DEFAULT_LOG_KEEP);
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Appends one timestamped line. Never throws. A message is always one line (its newlines and other control
   * characters escaped, see oneLine): a file name or an engine message with a newline in it cannot forge an entry.
   */
  write(level: LogLevel, message: string): void {
    this.append(`${this.now().toISOString()} ${level.toUpperCase().padEnd(5)} ${oneLine(message)}\n`);
  }

  /** Appends text as it is (must end with a newline). Never throws. */
  append(text: string): void {
    try {
      const bytes = Buffer.byteLength(text);
      if (!this.ensureOpen()) return;
      if (this.size > 0 && this.size + bytes > this.maxBytes) {
        this.rotate();
        if (!this.ensureOpen()) return;
      }
      writeSync(this.fd!, text);
      this.size += bytes;
    } catch {
      // Disk full, file removed under us…: drop the line and reopen on the next write.
      this.closeQuietly();
    }
  }

  /** Closes the file; later writes are dropped. */
  close(): void {
    this.closed = true;
    this.closeQuietly();
  }

  private ensureOpen(): boolean {
    if (this.fd !== null) return true;
    if (this.closed || Date.now() < this.retryAt) return false;
    try {
      mkdirSync(this.dir, { recursive: true });
      this.fd = openSync(this.path, "a");
      this.size = fstatSync(this.fd).size;
      return true;
    } catch {
      this.fd = null;
      this.retryAt = Date.now() + 5_000;
      return false;
    }
  }

  /** host.log → host.1.log → host.2.log …, dropping the oldest beyond `keep`. */
  private rotate(): void {
    this.closeQuietly();
    try {
      if (this.keep === 0) {
        rmSync(this.path, { force: true });
        return;
      }
      rmSync(rotatedLogPath(this.dir, this.name, this.keep), { force: true });
      for (let n = this.keep - 1; n >= 1; n--) {
        try {
          renameSync(rotatedLogPath(this.dir, this.name, n), rotatedLogPath(this.dir, this.name, n + 1));
        } catch {
          // That old file does not exist (yet).
        }
      }
      renameSync(this.path, rotatedLogPath(this.dir, this.name, 1));
    } catch {
      // Could not rotate: keep appending to the same file rather than losing lines.
    }
  }

  private closeQuietly(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already gone.
    }
    this.fd = null;
  }
}

/** A Logger writing to a rotating file. */
export function fileLogger(log: RotatingLog, prefix = ""): Logger {
  const write = (level: LogLevel) => (message: string) => log.write(level, prefix ? `${prefix} ${message}` : message);
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** A Logger that writes to every one of `loggers` (one failing does not stop the others). */
export function teeLogger(...loggers: Logger[]): Logger {
  const write = (level: LogLevel) => (message: string) => {
    for (const logger of loggers) {
      try {
        logger[level](message);
      } catch {
        // A logger must never break the caller.
      }
    }
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** Splits a stream of text chunks into lines (the last partial line is kept until its newline or `flush`). */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string | Buffer): void; flush(): void } {
  let rest = "";
  return {
    push(chunk) {
      rest += chunk.toString();
      const lines = rest.split(/\r?\n/);
      rest = lines.pop() ?? "";
      for (const line of lines) onLine(line);
      // A runaway line without a newline must not grow without bound.
      if (rest.length > 64 * 1024) {
        onLine(rest);
        rest = "";
      }
    },
    flush() {
      if (rest) onLine(rest);
      rest = "";
    },
  };
}

const TAIL_CHUNK = 64 * 1024;

/** The last `count` lines of one file, read backwards in chunks (never the whole file); [] when it is missing. */
async function tailOfFile(path: string, count: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    let position = size;
    let buffered = Buffer.alloc(0);
    let newlines = 0;
    // One newline more than the lines wanted: the text before it is a whole line too (or the file's start).
    while (position > 0 && newlines <= count) {
      const length = Math.min(TAIL_CHUNK, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      for (const byte of chunk) if (byte === 0x0a) newlines++;
      buffered = Buffer.concat([chunk, buffered]);
    }
    const lines = buffered.toString("utf8").split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    // Reading started mid-file: the first piece may be a partial line.
    if (position > 0) lines.shift();
    return lines.slice(-count);
  } catch {
    return [];
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * The last `count` lines of a log, continuing into its newest rotated file when the current one is shorter (right
 * after a rotation the crash that matters may be in host.1.log).
 */
export async function readLogTail(dir: string, name: LogName | string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  const current = await tailOfFile(logFilePath(dir, name), count);
  if (current.length >= count) return current;
  const older = await tailOfFile(rotatedLogPath(dir, name, 1), count - current.length);
  return [...older, ...current];
}

/** The host's two logs, opened lazily on their first line. */
export interface AppLogs {
  dir: string;
  host: RotatingLog;
  engine: RotatingLog;
  close(): void;
}

export function openAppLogs(dataDir: string, options: RotatingLogOptions = {}): AppLogs {
  const dir = logsDir(dataDir);
  const host = new RotatingLog(dir, "host", options);
  const engine = new RotatingLog(dir, "engine", options);
  return {
    dir,
    host,
    engine,
    close() {
      host.close();
      engine.close();
    },
  };
}
