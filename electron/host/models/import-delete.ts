/**
 * Importing GGUF files into the models folder and deleting them with what Tandem learned about them.
 *
 * Import checks the header first (anything that is not a whole GGUF is refused with inspectGguf's one-line reason),
 * then copies (streamed) or hard-links the file under a hidden temp name and renames it, so the final name never
 * holds a partial file. Delete removes the file (all parts of a split set), its learned n-gram table and its saved
 * KV states (found through the content-hash cache; skipped when the model was never hashed).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { link, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GgufInspectError, inspectGguf } from "../../../engine/gguf/inspect.js";
import { modelCacheEntries } from "../../../engine/cache-layout.js";
import { TandemApiError, type ImportMethod } from "../../../contracts/window/index.js";
import { formatBytes, statfsFreeBytes } from "../downloads/download.js";
import { apiError, diskFullMessage, isDiskFull } from "../errors.js";
import { refuseControlCharacters } from "./file-names.js";
import { silentLogger, type Logger } from "../logger.js";


export interface ImportOptions {
  /** Called after every copied chunk with the bytes copied so far; throwing aborts the copy (tests inject faults). */
  onCopyProgress?: (copiedBytes: number) => void;
  /** Free bytes in a folder (default: fs.statfs); tests fake a full disk. */
  freeBytes?: (dir: string) => Promise<number>;
}

/** The hidden name a file is written under before it is checked and renamed (the library and its watcher skip it). */
export function importTempName(name: string): string {
  return `.${name}.${process.pid}.${Date.now().toString(36)}.importing`;
}

/** `.<name>.<pid>.<base-36 ms>.importing`, as importTempName writes it. */
const IMPORT_TEMP = /^\..+\.(\d+)\.([0-9a-z]+)\.importing$/;

/**
 * How long a temp file of a live process may go without being written before it is taken for a leftover anyway (the
 * pid was reused by another program). A copy writes all the time and a link is renamed at once, so a real import
 * never comes close; a stalled upload that long has been given up on by its browser.
 */
export const IMPORT_TEMP_STALE_MS = 24 * 60 * 60 * 1000;

export interface ImportLeftoverOptions {
  logger?: Logger;
  /** Whether a process is running (default: signal 0); tests pretend. */
  isAlive?: (pid: number) => boolean;
  now?: number;
}

/**
 * Removes the temp files imports left in `folders` when their process died mid-import (a crash, a kill, a power
 * cut): hidden from the library, they would waste their space for good. Only leftovers named by importTempName
 * go: a file whose process is gone, or one of ours from before this process started (a reused pid), or one
 * untouched for IMPORT_TEMP_STALE_MS. A temp file of a live process (another Tandem importing into a shared folder right now) is
 * kept. Downloads' `.part` files are not import temp files (they resume) and are never touched. Never throws;
 * returns the paths removed.
 */
export async function removeImportLeftovers(folders: readonly string[], options: ImportLeftoverOptions = {}): Promise<string[]> {
  const logger = options.logger ?? silentLogger;
  const isAlive = options.isAlive ?? processIsAlive;
  const now = options.now ?? Date.now();
  const startedAt = now - process.uptime() * 1000;
  const removed: string[] = [];
  for (const folder of new Set(folders.map((f) => resolve(f)))) {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      continue; // a folder that does not exist (yet) or can't be read has nothing to clean
    }
    for (const name of names) {
      // Only names importTempName writes: a hidden file of the user's that merely ends in .importing is not ours.
      const match = IMPORT_TEMP.exec(name);
      if (!match) continue;
      const pid = Number(match[1]);
      const startedMs = parseInt(match[2], 36);
      if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isFinite(startedMs)) continue;
      const path = join(folder, name);
      try {
        const info = await stat(path);
        if (!info.isFile()) continue;
        // A copy keeps writing (mtime), a link keeps the source's mtime but was named when it started.
        const lastActivity = Math.max(info.mtimeMs, startedMs);
        const leftover =
          pid === process.pid ? startedMs < startedAt : !isAlive(pid) || now - lastActivity > IMPORT_TEMP_STALE_MS;
        if (!leftover) continue;
        await rm(path, { force: true });
        removed.push(path);
        logger.info(`Removed ${name} (${formatBytes(info.size)}) from ${folder}: an import that never finished`);
      } catch (error) {
        logger.warn(`Could not remove the leftover import file ${path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return removed;
}

/** Signal 0 checks a process exists without touching it; EPERM means it exists but belongs to another user. */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, "EPERM");
  }
}

/** Checks `source` is a GGUF and brings it into `folder`; returns the new file's path and how it got there. */
export async function importModelFile(
  sourcePath: string,
  folder: string,
  mode: "copy" | "link",
  options: ImportOptions = {},
): Promise<{ path: string; method: ImportMethod }> {
  const source = resolve(sourcePath.trim());
  // The imported file keeps the source's name: one with a newline or NUL in it is refused before anything is read.
  refuseControlCharacters(basename(source));
  await checkGguf(source, basename(source));
  const target = resolve(folder);
  if (dirname(source) === target) throw apiError("BAD_REQUEST", `"${basename(source)}" is already in the models folder.`);
  return placeInFolder(target, basename(source), async (temp) => {
    if (mode === "link") {
      try {
        await link(source, temp);
        return "linked";
      } catch (error) {
        // Another device (EXDEV) or a file system without hard links: copy instead, and say so.
        if (!isCode(error, "EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK")) throw error;
      }
    }
    await copyStreamed(createReadStream(source, { highWaterMark: 4 << 20 }), temp, options.onCopyProgress);
    return "copied";
  });
}

/**
 * Writes an uploaded GGUF (a stream of its bytes) into `folder` as `name`: refused before anything is written when
 * the name is unusable or the disk is too full for `sizeBytes`, then streamed under a temp name, its header
 * checked, and renamed (" (2)" on a clash). Nothing is left behind on failure.
 */
export async function importUploadedFile(
  body: Readable,
  name: string,
  folder: string,
  sizeBytes: number | null,
  options: ImportOptions = {},
): Promise<{ path: string; method: ImportMethod }> {
  const fileName = checkUploadName(name);
  const target = resolve(folder);
  await mkdir(target, { recursive: true });
  if (sizeBytes !== null) {
    const free = await (options.freeBytes ?? statfsFreeBytes)(target);
    if (sizeBytes > free) {
      throw apiError("IMPORT_FAILED", `Not enough disk space for "${fileName}": it needs ${formatBytes(sizeBytes)}, ${formatBytes(free)} free.`);
    }
  }
  return placeInFolder(target, fileName, async (temp) => {
    await copyStreamed(body, temp, options.onCopyProgress);
    await checkGguf(temp, fileName);
    return "uploaded";
  });
}

/** A bare `.gguf` file name (no folders, no hidden or reserved names); throws BAD_REQUEST otherwise. */
export function checkUploadName(name: string): string {
  // Before trimming: a name that ends in a newline is as forged as one with a newline inside.
  refuseControlCharacters(name);
  const trimmed = name.trim();
  if (!trimmed) throw apiError("BAD_REQUEST", "The uploaded file has no name.");
  if (/[/\\\0]/.test(trimmed) || trimmed === "." || trimmed === ".." || trimmed.startsWith(".")) {
    throw apiError("BAD_REQUEST", `"${trimmed}" is not a usable file name.`);
  }
  if (!trimmed.toLowerCase().endsWith(".gguf")) throw apiError("NOT_GGUF", `"${trimmed}" is not a .gguf file.`);
  if (Buffer.byteLength(trimmed) > 255) throw apiError("BAD_REQUEST", "The file name is too long.");
  return trimmed;
}

/** Throws NOT_GGUF (or MODEL_NOT_FOUND) with inspectGguf's one-line reason, naming the file as `name`. */
async function checkGguf(path: string, name: string): Promise<void> {
  try {
    await inspectGguf(path);
  } catch (error) {
    if (error instanceof GgufInspectError) {
      throw apiError(error.reason === "not-found" ? "MODEL_NOT_FOUND" : "NOT_GGUF", error.message.replaceAll(path, name).replaceAll(basename(path), name));
    }
    throw apiError("NOT_GGUF", `"${name}" cannot be read: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
}

/**
 * The shared end of every import: `write` fills a hidden temp file in `folder` (and says how), which is then renamed
 * to `name` or "name (2)"…; on any failure the temp file is removed and file-system errors become IMPORT_FAILED
 * (DISK_FULL for a full disk).
 */
async function placeInFolder(folder: string, name: string, write: (temp: string) => Promise<ImportMethod>): Promise<{ path: string; method: ImportMethod }> {
  await mkdir(folder, { recursive: true });
  const temp = join(folder, importTempName(name));
  try {
    const method = await write(temp);
    const dest = await freeName(folder, name);
    await rename(temp, dest);
    return { path: dest, method };
  } catch (error) {
    await rm(temp, { force: true });
    if (isDiskFull(error)) throw apiError("DISK_FULL", diskFullMessage(`"${name}"`));
    if (error instanceof Error && "code" in error && !(error instanceof TandemApiError)) {
      throw apiError("IMPORT_FAILED", `Importing "${name}" failed: ${error.message.split("\n")[0]}`);
    }
    throw error;
  }
}

async function copyStreamed(source: Readable, dest: string, onProgress?: (copiedBytes: number) => void): Promise<void> {
  let copied = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      copied += chunk.length;
      try {
        onProgress?.(copied);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  await pipeline(source, counter, createWriteStream(dest, { flags: "wx" }));
}

/** `name` in `folder`, or "name (2).gguf", "name (3).gguf"… when taken. */
async function freeName(folder: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; ; n++) {
    const candidate = join(folder, n === 1 ? name : `${stem} (${n})${ext}`);
    try {
      await stat(candidate);
    } catch (error) {
      if (isCode(error, "ENOENT")) return candidate;
      throw error;
    }
  }
}

const SPLIT_FIRST = /^(.*)-00001-of-(\d{5})\.gguf$/i;

export interface DeleteOptions {
  /** Paths that must not be deleted (the loaded target and draft), with why. */
  busy: ReadonlyArray<{ path: string; why: string }>;
}

/** Deletes a model file of a library folder (`folders`) with its n-gram table and KV states; returns the bytes freed. */
export async function deleteModelFile(
  modelPath: string,
  folders: string | readonly string[],
  cacheDir: string,
  options: DeleteOptions,
): Promise<{ deleted: boolean; freedBytes: number; removed: string[] }> {
  const file = resolve(modelPath.trim());
  const inLibrary = (typeof folders === "string" ? [folders] : folders).some((folder) => dirname(file) === resolve(folder));
  if (!inLibrary || !file.toLowerCase().endsWith(".gguf")) {
    throw apiError("BAD_REQUEST", `Only GGUF files in the library's folders can be deleted; "${basename(file)}" is not one.`);
  }
  const busy = options.busy.find((b) => resolve(b.path) === file);
  if (busy) throw apiError("BUSY", `"${basename(file)}" is ${busy.why}. Load another model first, then delete it.`);

  const parts = [file];
  const split = SPLIT_FIRST.exec(basename(file));
  if (split) {
    const total = Number(split[2]);
    const names = new Set(await readdir(dirname(file)));
    for (let i = 2; i <= total; i++) {
      const name = `${split[1]}-${String(i).padStart(5, "0")}-of-${split[2]}.gguf`;
      if (names.has(name)) parts.push(join(dirname(file), name));
    }
  }

  let freedBytes = 0;
  const removed: string[] = [];
  const cacheFiles: string[] = [];
  for (const part of parts) {
    let size: number;
    try {
      size = (await stat(part)).size;
    } catch (error) {
      if (part === file && isCode(error, "ENOENT")) return { deleted: false, freedBytes: 0, removed: [] };
      continue;
    }
    cacheFiles.push(...(await modelCacheEntries(cacheDir, part, size)));
    await rm(part, { force: true });
    freedBytes += size;
    removed.push(part);
  }
  for (const path of cacheFiles) {
    const bytes = await sizeOf(path);
    if (bytes === null) continue;
    await rm(path, { recursive: true, force: true });
    freedBytes += bytes;
    removed.push(path);
  }
  return { deleted: true, freedBytes, removed };
}

/** Bytes of a file or of everything under a folder; null when it does not exist. */
async function sizeOf(path: string): Promise<number | null> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return null;
  }
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += (await sizeOf(join(path, entry))) ?? 0;
  return total;
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && "code" in error && codes.includes(String(error.code));
}
