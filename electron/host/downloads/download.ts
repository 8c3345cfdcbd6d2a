/**
 * Resumable, verified file download (plain Node: fetch, node:fs, node:crypto).
 *
 * The bytes go to `<dest>.part`, with a small `<dest>.part.json` sidecar recording where they came from; the file
 * gets its final name only once it is complete and its size and SHA-256 (when known) check out. An existing .part
 * whose sidecar matches is resumed with a Range request, also after a restart. Dropped connections, 5xx answers
 * and stalls are retried with exponential backoff; 401/403/404 fail at once. Aborting the signal cancels (the
 * partial files are removed) unless the abort reason is a pause (see `pauseReason`), which keeps them.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { diskFullMessage, isDiskFull } from "../errors.js";
import { hasControlCharacter } from "../models/file-names.js";
import { escapeControlCharacters } from "../logger.js";
import { abortableDelay } from "../../../engine/abortable-delay.js";
import { cantReachMessage, isUnreachable } from "./network-words.js";

/** Whether a download comes from the Hugging Face Hub (huggingface.co, or where HF_ENDPOINT points). */
function isHubUrl(url: string): boolean {
  try {
    const host = new URL(url).host;
    const endpoint = process.env.HF_ENDPOINT ? new URL(process.env.HF_ENDPOINT).host : null;
    return host === "huggingface.co" || host.endsWith(".huggingface.co") || host === "hf.co" || host === endpoint;
  } catch {
    return false;
  }
}

export interface DownloadProgress {
  receivedBytes: number;
  /** Null while the server has not said how big the file is. */
  totalBytes: number | null;
  /**
   * Transfer rate over the last few seconds (`speedWindowMs`) of this session (resumed bytes are not counted as
   * speed). Recomputed on a timer as well as when bytes arrive, so it decays while nothing arrives, and is 0 once the
   * transfer is stalled.
   */
  bytesPerSecond: number;
  /** Null while the speed or the total is unknown, and while stalled. */
  etaSeconds: number | null;
  /** No bytes for `stalledAfterMs` (the server is not sending, or a retry is waiting): the speed is 0. */
  stalled: boolean;
}

export type DownloadEvent =
  | { type: "resume"; fromBytes: number }
  | { type: "restart"; reason: string }
  | { type: "retry"; attempt: number; delayMs: number; reason: string };

export interface DownloadOptions {
  url: string;
  destDir: string;
  /** Defaults to the last segment of the URL's path. */
  fileName?: string;
  expectedSize?: number;
  /** Hex SHA-256 of the whole file. */
  expectedSha256?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  onEvent?: (event: DownloadEvent) => void;
  /** Retries after a failed attempt (default 5). The count starts again after an attempt that received bytes. */
  retries?: number;
  /** First backoff delay; doubled per consecutive failure, capped by maxBackoffMs (defaults 1000 and 30000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** No bytes (or no response) for this long counts as a dropped connection (default 30000). */
  stallTimeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Abort with any reason and keep the .part anyway (what a Ctrl-C in the CLI wants). */
  keepPartOnAbort?: boolean;
  fetchImpl?: typeof fetch;
  /** Free bytes in a folder (default: fs.statfs). */
  freeBytes?: (dir: string) => Promise<number>;
  /** Minimum interval between progress callbacks (default 200 ms); the last one is always sent. */
  progressIntervalMs?: number;
  /** The speed is the bytes of this last stretch of time over its length (default 5000 ms). */
  speedWindowMs?: number;
  /** No bytes for this long reports the transfer as stalled: speed 0, no ETA (default 3000 ms). */
  stalledAfterMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already in a .part file when this call started and could be kept. */
  resumedFromBytes: number;
  /** The final file was already there (nothing downloaded). */
  alreadyPresent: boolean;
}

export type DownloadErrorCode =
  | "not-found"
  | "access-denied"
  | "http"
  | "network"
  | "size-mismatch"
  | "checksum"
  | "no-space"
  | "cancelled"
  | "paused"
  | "invalid";

export class DownloadError extends Error {
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    /** For "paused": the partial file that a later call resumes. */
    readonly partPath?: string,
  ) {
    super(message);
    this.name = "DownloadError";
  }
}

/** Abort a download with `controller.abort(pauseReason())` to keep its .part for a later resume. */
export class DownloadPaused extends Error {
  constructor() {
    super("download paused");
    this.name = "DownloadPaused";
  }
}
export const pauseReason = (): DownloadPaused => new DownloadPaused();

interface Sidecar {
  url: string;
  etag?: string;
  lastModified?: string;
  expectedSize?: number;
  expectedSha256?: string;
  totalBytes?: number;
}

/** A failure worth another attempt (dropped connection, 5xx, stall). */
class RetryableError extends Error {}
/** The partial file cannot be continued: start again from byte 0. */
class RestartError extends Error {}

const GB = 1024 ** 3;
const MB = 1024 ** 2;

export function formatBytes(n: number): string {
  if (n >= GB) return `${(n / GB).toFixed(2)} GB`;
  if (n >= MB) return `${(n / MB).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

export async function statfsFreeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export function fileNameFromUrl(url: string): string {
  const pathname = new URL(url).pathname;
  const name = decodeURIComponent(pathname.slice(pathname.lastIndexOf("/") + 1));
  if (!name) throw new DownloadError("invalid", `no file name in ${url}`);
  return name;
}

export function partPaths(destDir: string, fileName: string): { dest: string; part: string; sidecar: string } {
  const dest = path.join(destDir, fileName);
  return { dest, part: `${dest}.part`, sidecar: `${dest}.part.json` };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

async function hashFile(file: string, hash: Hash): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

async function readSidecar(file: string): Promise<Sidecar | null> {
  try {
    const data = JSON.parse(await fs.readFile(file, "utf8")) as unknown;
    if (typeof data === "object" && data !== null && typeof (data as Sidecar).url === "string") return data as Sidecar;
  } catch {
    // missing or unreadable: no resume
  }
  return null;
}


/** `bytes a-b/total` → {start, end, total}; null when malformed. */
export function parseContentRange(value: string | null): { start: number; end: number; total: number | null } | null {
  const m = value && /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim());
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? null : Number(m[3]) };
}

function httpFailure(status: number, url: string): Error {
  if (status === 404) return new DownloadError("not-found", `not found: ${url} (HTTP 404)`);
  if (status === 401 || status === 403)
    return new DownloadError("access-denied", `access denied: the repository may be gated; set a Hugging Face token (HTTP ${status})`);
  if (status >= 500 || status === 429 || status === 408) return new RetryableError(`server error (HTTP ${status})`);
  return new DownloadError("http", `HTTP ${status} from ${url}`);
}

/**
 * Speed and ETA for progress callbacks: bytes over a sliding window of the last `windowMs`, so the speed follows the
 * transfer and decays while nothing arrives. `update` is called when bytes arrive and on a timer (`tick`), so a stall
 * is reported (speed 0, no ETA, `stalled`) without waiting for the next byte.
 */
class ProgressMeter {
  private lastEmit = 0;
  private emitted: { speed: number; stalled: boolean } | null = null;
  /** Past (time, received) points, oldest first; the first one is at or before the window's start. */
  private samples: { t: number; bytes: number }[] = [];
  private lastBytes: number;
  private lastDataTime: number;
  private speed = 0;

  constructor(
    private readonly onProgress: ((p: DownloadProgress) => void) | undefined,
    private readonly intervalMs: number,
    startBytes: number,
    private readonly windowMs = 5000,
    private readonly stalledAfterMs = 3000,
  ) {
    const now = performance.now();
    this.samples = [{ t: now, bytes: startBytes }];
    this.lastBytes = startBytes;
    this.lastDataTime = now;
  }

  /** Call when a connection (re)starts at `bytes`, so the gap does not count as transfer. */
  rebase(bytes: number): void {
    const now = performance.now();
    this.samples = [{ t: now, bytes }];
    this.lastBytes = bytes;
    this.lastDataTime = now;
    this.speed = 0;
  }

  /** The timer's update: emits only when the speed or the stalled state changed. */
  tick(received: number, total: number | null): void {
    this.update(received, total, false, true);
  }

  update(received: number, total: number | null, force = false, tick = false): void {
    const now = performance.now();
    if (received !== this.lastBytes) {
      this.lastBytes = received;
      this.lastDataTime = now;
    }
    const stalled = now - this.lastDataTime >= this.stalledAfterMs;
    while (this.samples.length > 1 && this.samples[1].t <= now - this.windowMs) this.samples.shift();
    const ref = this.samples[0];
    const span = now - ref.t;
    if (stalled) this.speed = 0;
    else if (span >= 250 || (force && this.speed === 0 && span > 0 && received > ref.bytes)) {
      this.speed = Math.max(0, ((received - ref.bytes) * 1000) / span);
    }
    if (now - this.samples[this.samples.length - 1].t >= 100) this.samples.push({ t: now, bytes: received });

    if (!this.onProgress || (!force && now - this.lastEmit < this.intervalMs)) return;
    if (tick && this.emitted && this.emitted.stalled === stalled && Math.abs(this.emitted.speed - this.speed) < 1) return;
    this.lastEmit = now;
    this.emitted = { speed: this.speed, stalled };
    const eta = total !== null && this.speed > 0 ? Math.max(0, (total - received) / this.speed) : null;
    this.onProgress({ receivedBytes: received, totalBytes: total, bytesPerSecond: this.speed, etaSeconds: eta, stalled });
  }
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const {
    url,
    destDir,
    expectedSize,
    signal,
    retries = 5,
    backoffMs = 1000,
    maxBackoffMs = 30_000,
    stallTimeoutMs = 30_000,
    fetchImpl = fetch,
    freeBytes = statfsFreeBytes,
  } = options;
  const expectedSha256 = options.expectedSha256?.toLowerCase();
  const fileName = options.fileName ?? fileNameFromUrl(url);
  if (fileName.includes("/") || fileName.includes("\\") || fileName === "." || fileName === ".." || hasControlCharacter(fileName))
    throw new DownloadError("invalid", `invalid file name "${escapeControlCharacters(fileName)}"`);
  await fs.mkdir(destDir, { recursive: true });
  const { dest, part, sidecar } = partPaths(destDir, fileName);

  // Already downloaded: accept it when it matches what is expected.
  if (await exists(dest)) {
    const size = (await fs.stat(dest)).size;
    if (expectedSize !== undefined && size !== expectedSize)
      throw new DownloadError("invalid", `${dest} already exists with a different size (${size} bytes, expected ${expectedSize})`);
    const hash = createHash("sha256");
    await hashFile(dest, hash);
    const sha256 = hash.digest("hex");
    if (expectedSha256 && sha256 !== expectedSha256)
      throw new DownloadError("checksum", `${dest} already exists with a different SHA-256`);
    return { path: dest, bytes: size, sha256, resumedFromBytes: 0, alreadyPresent: true };
  }

  // Resume an existing .part only when its sidecar says it is the same download.
  let received = 0;
  let hash = createHash("sha256");
  let meta: Sidecar = { url, expectedSize, expectedSha256 };
  const previous = await readSidecar(sidecar);
  if (
    previous &&
    previous.url === url &&
    (expectedSize === undefined || previous.expectedSize === undefined || previous.expectedSize === expectedSize) &&
    (!expectedSha256 || !previous.expectedSha256 || previous.expectedSha256 === expectedSha256) &&
    (await exists(part))
  ) {
    meta = { ...previous, expectedSize: expectedSize ?? previous.expectedSize, expectedSha256: expectedSha256 ?? previous.expectedSha256 };
    received = await hashFile(part, hash);
    if (meta.totalBytes !== undefined && received > meta.totalBytes) {
      received = 0;
      hash = createHash("sha256");
      await fs.rm(part, { force: true });
    }
  } else {
    await fs.rm(part, { force: true });
    await fs.rm(sidecar, { force: true });
  }
  const resumedFromBytes = received;
  if (received > 0) options.onEvent?.({ type: "resume", fromBytes: received });

  let total: number | null = expectedSize ?? meta.totalBytes ?? null;
  let spaceChecked = false;
  const checkSpace = async (): Promise<void> => {
    if (spaceChecked || total === null) return;
    spaceChecked = true;
    const needed = total - received;
    const free = await freeBytes(destDir);
    if (needed > free) throw new DownloadError("no-space", `not enough disk space in ${destDir}: needs ${formatBytes(needed)}, ${formatBytes(free)} free`);
  };

  const progressIntervalMs = options.progressIntervalMs ?? 200;
  const meter = new ProgressMeter(options.onProgress, progressIntervalMs, received, options.speedWindowMs, options.stalledAfterMs);
  // Speed and ETA are also recomputed while no bytes arrive (a stall, a retry's backoff), not only per chunk.
  const ticker = options.onProgress ? setInterval(() => meter.tick(received, total), Math.max(100, progressIntervalMs)) : undefined;
  ticker?.unref();
  const keepPart = () => options.keepPartOnAbort === true || signal?.reason instanceof DownloadPaused;

  const restartFromZero = async (reason: string) => {
    options.onEvent?.({ type: "restart", reason });
    received = 0;
    hash = createHash("sha256");
    await fs.rm(part, { force: true });
    meter.rebase(0);
  };

  try {
    await checkSpace();
    let failures = 0;
    let restarts = 0;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const before = received;
      try {
        await attempt();
        break;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof RestartError) {
          if (++restarts > 3) throw new DownloadError("http", `the server keeps answering range requests wrongly: ${error.message}`);
          await restartFromZero(error.message);
          continue;
        }
        // A full disk stays full: say so now rather than after five "network" retries (the .part stays for a resume).
        if (isDiskFull(error)) throw new DownloadError("no-space", diskFullMessage(`"${fileName}.part"`));
        const retryable = error instanceof RetryableError || (!(error instanceof DownloadError) && error instanceof Error);
        if (!retryable) throw error;
        failures = received > before ? 1 : failures + 1;
        if (failures > retries) {
          // No answer at all: the shared wording (what could not be reached, and to check the connection).
          if (isUnreachable(error)) throw new DownloadError("network", cantReachMessage(url, error, isHubUrl(url)));
          throw new DownloadError("network", `download failed after ${retries} ${retries === 1 ? "retry" : "retries"}: ${describe(error)}`);
        }
        const delayMs = Math.min(maxBackoffMs, backoffMs * 2 ** (failures - 1));
        options.onEvent?.({ type: "retry", attempt: failures, delayMs, reason: describe(error) });
        await abortableDelay(delayMs, signal);
      }
    }

    clearInterval(ticker);
    meter.update(received, total, true);
    if (expectedSize !== undefined && received !== expectedSize) {
      await removePartial();
      throw new DownloadError("size-mismatch", `downloaded ${received} bytes, expected ${expectedSize}; the file was removed`);
    }
    const sha256 = hash.digest("hex");
    if (expectedSha256 && sha256 !== expectedSha256) {
      await removePartial();
      throw new DownloadError("checksum", `SHA-256 mismatch for ${fileName} (got ${sha256}, expected ${expectedSha256}); the file was removed`);
    }
    await fs.rename(part, dest);
    await fs.rm(sidecar, { force: true });
    return { path: dest, bytes: received, sha256, resumedFromBytes, alreadyPresent: false };
  } catch (error) {
    if (signal?.aborted && (error === signal.reason || !(error instanceof DownloadError))) {
      if (keepPart()) throw new DownloadError("paused", `download paused; ${formatBytes(received)} kept in ${part}`, part);
      await removePartial();
      throw new DownloadError("cancelled", "download cancelled");
    }
    throw error;
  } finally {
    clearInterval(ticker);
  }

  async function removePartial(): Promise<void> {
    await fs.rm(part, { force: true });
    await fs.rm(sidecar, { force: true });
  }

  /** One request: appends what arrives to the .part. Resolves when the file is complete. */
  async function attempt(): Promise<void> {
    const controller = new AbortController();
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        controller.abort(new RetryableError(`no data for ${Math.round(stallTimeoutMs / 1000)} s`));
      }, stallTimeoutMs);
    };
    const onUserAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener("abort", onUserAbort, { once: true });
    const headers: Record<string, string> = { "Accept-Encoding": "identity" };
    if (received > 0) headers.Range = `bytes=${received}-`;
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    let handle: fs.FileHandle | undefined;
    try {
      arm();
      let response: Response;
      try {
        response = await fetchImpl(url, { headers, signal: controller.signal, redirect: "follow" });
      } catch (error) {
        if (stalled) throw new RetryableError(`no response for ${Math.round(stallTimeoutMs / 1000)} s`);
        throw error;
      }
      if (response.status === 416 && received > 0) {
        await response.body?.cancel();
        if (total !== null && received === total) return; // nothing left to fetch
        throw new RestartError("the server rejected the resume range");
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw httpFailure(response.status, url);
      }
      const etag = response.headers.get("etag") ?? undefined;
      const lastModified = response.headers.get("last-modified") ?? undefined;
      const length = response.headers.get("content-length");
      if (response.status === 206) {
        const range = parseContentRange(response.headers.get("content-range"));
        if (!range || range.start !== received) {
          await response.body?.cancel().catch(() => {});
          throw new RestartError(`the server answered a range request from byte ${received} with "${response.headers.get("content-range")}"`);
        }
        if ((meta.etag && etag && meta.etag !== etag) || (meta.lastModified && lastModified && meta.lastModified !== lastModified)) {
          await response.body?.cancel().catch(() => {});
          throw new RestartError("the file changed on the server since the partial download");
        }
        if (range.total !== null) total = range.total;
      } else {
        // 200: the whole file from byte 0 (also when the server ignored our Range header).
        if (received > 0) {
          options.onEvent?.({ type: "restart", reason: "the server does not support resuming; starting again from zero" });
          received = 0;
          hash = createHash("sha256");
        }
        if (length !== null && /^\d+$/.test(length)) total = Number(length);
      }
      if (expectedSize !== undefined && total !== null && total !== expectedSize) {
        await response.body?.cancel().catch(() => {});
        throw new DownloadError("size-mismatch", `the server reports ${total} bytes for ${fileName}, expected ${expectedSize}`);
      }
      await checkSpace();
      meta = { ...meta, etag, lastModified, totalBytes: total ?? undefined };
      await fs.writeFile(sidecar, JSON.stringify(meta));
      handle = await fs.open(part, received > 0 ? "a" : "w");
      meter.rebase(received);
      meter.update(received, total, true);
      if (!response.body) throw new RetryableError("empty response body");
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          arm();
          let data = chunk;
          if (total !== null && received + data.length > total) data = data.subarray(0, total - received);
          await handle.write(data);
          hash.update(data);
          received += data.length;
          meter.update(received, total);
          if (total !== null && received >= total) break;
        }
      } catch (error) {
        if (stalled) throw new RetryableError(`no data for ${Math.round(stallTimeoutMs / 1000)} s`);
        throw error;
      }
      if (total !== null && received < total) throw new RetryableError(`connection closed after ${received} of ${total} bytes`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onUserAbort);
      await handle?.close();
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : "";
    return `${error.message}${detail}`;
  }
  return String(error);
}
