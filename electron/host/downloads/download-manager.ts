/**
 * Model downloads into the models folder for the window API: one download per destination file at a time, progress
 * pushed as `downloadProgress` (throttled), pause (keeps the .part), resume (a new downloadFile call, which resumes
 * the .part), cancel (removes it). Partial downloads left in the folder by an earlier run (a .part with its sidecar)
 * are listed as paused, so they can be resumed after an app restart. Speed and ETA are recomputed on downloadFile's
 * timer too: while no bytes arrive the speed decays, and after a few seconds a "downloading" download reports
 * `bytesPerSecond` 0 and no ETA (the window shows it as waiting for the server).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { DownloadInfo, DownloadState } from "../../../contracts/window/index.js";
import { DownloadError, downloadFile, fileNameFromUrl, partPaths, pauseReason, type DownloadOptions } from "./download.js";
import { HF_BASE_URL, HfError, isHfRef, resolveHf, type HfFile } from "./hf.js";
import { apiError, diskFullMessage, isDiskFull } from "../errors.js";
import { refuseControlCharacters } from "../models/file-names.js";
import type { Logger } from "../logger.js";

export interface DownloadManagerOptions {
  /** The models folder downloads go to (read at each start). */
  modelsFolder: () => string;
  emit: (info: DownloadInfo) => void;
  logger: Logger;
  /** Hugging Face base URL (default $HF_ENDPOINT or https://huggingface.co). */
  hfBaseUrl?: string;
  /** Hugging Face token for gated repos (tests); without it the token comes from `tokenSource`, else $HF_TOKEN. */
  hfToken?: string;
  /** Reads the stored Hugging Face token at request time (the host's SecretStore, with its $HF_TOKEN fallback). */
  tokenSource?: () => Promise<string | null>;
  /** Called once a download is complete and verified, before its "done" event (the host records its origin). */
  onComplete?: (info: DownloadInfo) => void;
  /** Minimum interval between progress events of one download (default 250 ms). */
  progressIntervalMs?: number;
  /** Passed to downloadFile (tests: fast retries, fetch, free space). */
  downloadOptions?: Pick<
    DownloadOptions,
    "retries" | "backoffMs" | "maxBackoffMs" | "stallTimeoutMs" | "speedWindowMs" | "stalledAfterMs" | "fetchImpl" | "freeBytes"
  >;
}

interface Entry {
  info: DownloadInfo;
  /** The files to fetch, in order (several for a split set); `info` counts all of them. */
  files: HfFile[];
  /** Bytes of the files before the current one (a split set). */
  doneBytes: number;
  controller: AbortController | null;
  run: Promise<void> | null;
}

const ACTIVE: DownloadState[] = ["queued", "downloading", "verifying", "paused"];

export class DownloadManager {
  private readonly entries = new Map<string, Entry>();
  private readonly starting = new Map<string, Promise<DownloadInfo>>();
  private scanned: Promise<void> | null = null;
  private disposed = false;

  constructor(private readonly options: DownloadManagerOptions) {}

  /** Lists partial downloads of the models folder as paused (once; every method waits for it). */
  scan(): Promise<void> {
    this.scanned ??= this.scanFolder().catch((error: unknown) => {
      this.options.logger.warn(`Looking for partial downloads failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.scanned;
  }

  async list(): Promise<DownloadInfo[]> {
    await this.scan();
    return [...this.entries.values()].map((e) => ({ ...e.info }));
  }

  async start(source: string, sha256?: string): Promise<DownloadInfo> {
    await this.scan();
    if (this.disposed) throw apiError("NOT_STARTED", "Tandem is shutting down.");
    const pending = this.starting.get(source);
    if (pending) return pending;
    const promise = this.startResolved(source, sha256).finally(() => this.starting.delete(source));
    this.starting.set(source, promise);
    return promise;
  }

  async pause(id: string): Promise<DownloadInfo> {
    const entry = await this.require(id);
    if (entry.controller && (entry.info.state === "downloading" || entry.info.state === "queued")) {
      entry.controller.abort(pauseReason());
      await entry.run;
    }
    return { ...entry.info };
  }

  async resume(id: string): Promise<DownloadInfo> {
    const entry = await this.require(id);
    if (entry.info.state === "paused" || entry.info.state === "failed") this.run(entry);
    return { ...entry.info };
  }

  async cancel(id: string): Promise<DownloadInfo> {
    const entry = await this.require(id);
    if (entry.run && entry.controller && entry.info.state !== "done") {
      entry.controller.abort(new Error("cancelled"));
      await entry.run;
    } else if (entry.info.state === "paused" || entry.info.state === "failed") {
      await this.removePartials(entry);
      this.update(entry, { state: "cancelled", bytesPerSecond: 0, etaSeconds: null, error: null });
    }
    return { ...entry.info };
  }

  /** Pauses every running download (their .part files stay for the next run). */
  async dispose(): Promise<void> {
    this.disposed = true;
    const runs: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.run && entry.controller) {
        entry.controller.abort(pauseReason());
        runs.push(entry.run);
      }
    }
    await Promise.allSettled(runs);
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  private async require(id: string): Promise<Entry> {
    await this.scan();
    const entry = this.entries.get(id);
    if (!entry) throw apiError("NOT_FOUND", "That download no longer exists.");
    return entry;
  }

  private async startResolved(source: string, sha256?: string): Promise<DownloadInfo> {
    const files = await this.resolve(source, sha256);
    // The name comes from the URL or the Hub's file listing: "a%0Ab.gguf" must not become a file with a newline.
    for (const file of files) refuseControlCharacters(file.fileName);
    const folder = this.options.modelsFolder();
    const destPath = path.join(folder, files[0].fileName);
    for (const entry of this.entries.values()) {
      if (entry.info.destPath !== destPath) continue;
      if (ACTIVE.includes(entry.info.state)) {
        if (entry.info.state === "paused") this.run(entry);
        return { ...entry.info };
      }
      this.entries.delete(entry.info.id); // a finished, failed or cancelled one is replaced
    }
    const totalBytes = files.every((f) => f.size !== undefined) ? files.reduce((n, f) => n + f.size!, 0) : null;
    const entry: Entry = {
      info: {
        id: randomUUID(),
        source,
        fileName: files[0].fileName,
        destPath,
        state: "queued",
        receivedBytes: 0,
        totalBytes,
        bytesPerSecond: 0,
        etaSeconds: null,
        error: null,
      },
      files,
      doneBytes: 0,
      controller: null,
      run: null,
    };
    this.entries.set(entry.info.id, entry);
    this.run(entry);
    return { ...entry.info };
  }

  private async resolve(source: string, sha256?: string): Promise<HfFile[]> {
    if (isHfRef(source)) {
      try {
        return await resolveHf(source, { baseUrl: this.hfBaseUrl(), token: await this.hfToken() });
      } catch (error) {
        if (error instanceof HfError) throw apiError("DOWNLOAD_FAILED", error.message);
        throw error;
      }
    }
    if (!/^https?:\/\//i.test(source)) {
      throw apiError("BAD_REQUEST", `"${source}" is neither a Hugging Face reference (hf:user/repo:QUANT or hf:user/repo/file.gguf) nor an http(s) URL.`);
    }
    let fileName: string;
    try {
      fileName = fileNameFromUrl(source);
    } catch {
      throw apiError("BAD_REQUEST", `There is no file name in ${source}.`);
    }
    if (!fileName.toLowerCase().endsWith(".gguf")) throw apiError("BAD_REQUEST", `${fileName} is not a .gguf file.`);
    return [{ url: source, path: source, fileName, sha256: sha256?.toLowerCase() }];
  }

  private hfBaseUrl(): string {
    return this.options.hfBaseUrl ?? (process.env.HF_ENDPOINT || HF_BASE_URL);
  }

  private async hfToken(): Promise<string | undefined> {
    if (this.options.hfToken !== undefined) return this.options.hfToken;
    if (this.options.tokenSource) return (await this.options.tokenSource()) ?? undefined;
    return process.env.HF_TOKEN || undefined;
  }

  /** Starts (or resumes) the entry's transfer in the background. */
  private run(entry: Entry): void {
    if (entry.run) return;
    const controller = new AbortController();
    entry.controller = controller;
    this.update(entry, { state: "downloading", error: null, bytesPerSecond: 0, etaSeconds: null });
    entry.run = this.transfer(entry, controller.signal).finally(() => {
      entry.run = null;
      entry.controller = null;
    });
  }

  private async transfer(entry: Entry, signal: AbortSignal): Promise<void> {
    const folder = path.dirname(entry.info.destPath);
    const interval = this.options.progressIntervalMs ?? 250;
    try {
      entry.doneBytes = 0;
      const token = isHfRef(entry.info.source) ? await this.hfToken() : undefined;
      for (const file of entry.files) {
        let last = 0;
        const result = await downloadFile({
          ...this.options.downloadOptions,
          url: file.url,
          destDir: folder,
          fileName: file.fileName,
          expectedSize: file.size,
          expectedSha256: file.sha256,
          token,
          signal,
          progressIntervalMs: interval,
          onProgress: (p) => {
            const received = entry.doneBytes + p.receivedBytes;
            const total = entry.files.length === 1 ? p.totalBytes : entry.info.totalBytes;
            const complete = total !== null && received >= total;
            const now = Date.now();
            // downloadFile already throttles; the forced final update of each connection passes too.
            if (!complete && now - last < interval / 2 && entry.info.state === "downloading") return;
            last = now;
            this.update(entry, {
              state: complete ? "verifying" : "downloading",
              receivedBytes: received,
              totalBytes: total,
              bytesPerSecond: p.bytesPerSecond,
              etaSeconds: p.etaSeconds,
            });
          },
        });
        entry.doneBytes += result.bytes;
      }
      try {
        this.options.onComplete?.({ ...entry.info });
      } catch (error) {
        this.options.logger.warn(`Recording the finished download of ${entry.info.fileName} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.update(entry, {
        state: "done",
        receivedBytes: entry.doneBytes,
        totalBytes: entry.doneBytes,
        bytesPerSecond: 0,
        etaSeconds: 0,
        error: null,
      });
    } catch (error) {
      if (error instanceof DownloadError && error.code === "paused") {
        // Progress is throttled: report what the .part really holds, so a paused card shows where it will resume.
        const kept = error.partPath ? await fs.stat(error.partPath).then((s) => s.size, () => null) : null;
        this.update(entry, { state: "paused", ...(kept !== null ? { receivedBytes: entry.doneBytes + kept } : {}), bytesPerSecond: 0, etaSeconds: null });
      } else if (error instanceof DownloadError && error.code === "cancelled") {
        this.update(entry, { state: "cancelled", bytesPerSecond: 0, etaSeconds: null });
      } else {
        const message = isDiskFull(error) ? diskFullMessage(`"${entry.info.fileName}"`) : error instanceof Error ? error.message.split("\n")[0] : String(error);
        this.options.logger.warn(`Download of ${entry.info.fileName} failed: ${message}`);
        this.update(entry, { state: "failed", bytesPerSecond: 0, etaSeconds: null, error: message });
      }
    }
  }

  private update(entry: Entry, patch: Partial<DownloadInfo>): void {
    entry.info = { ...entry.info, ...patch };
    try {
      this.options.emit({ ...entry.info });
    } catch (error) {
      this.options.logger.error(`A downloadProgress listener failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async removePartials(entry: Entry): Promise<void> {
    const folder = path.dirname(entry.info.destPath);
    for (const file of entry.files) {
      const { part, sidecar } = partPaths(folder, file.fileName);
      await fs.rm(part, { force: true });
      await fs.rm(sidecar, { force: true });
    }
  }

  /** `<name>.gguf.part` files with a `<name>.gguf.part.json` sidecar: paused downloads of an earlier run. */
  private async scanFolder(): Promise<void> {
    const folder = this.options.modelsFolder();
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (!name.toLowerCase().endsWith(".gguf.part")) continue;
      const fileName = name.slice(0, -".part".length);
      const { dest, part, sidecar } = partPaths(folder, fileName);
      let meta: { url?: unknown; totalBytes?: unknown; expectedSize?: unknown; expectedSha256?: unknown };
      let size: number;
      try {
        meta = JSON.parse(await fs.readFile(sidecar, "utf8")) as typeof meta;
        size = (await fs.stat(part)).size;
      } catch {
        continue; // no (readable) sidecar: not resumable
      }
      if (typeof meta.url !== "string") continue;
      const expectedSize = typeof meta.expectedSize === "number" ? meta.expectedSize : undefined;
      const total = expectedSize ?? (typeof meta.totalBytes === "number" ? meta.totalBytes : null);
      const sha256 = typeof meta.expectedSha256 === "string" ? meta.expectedSha256 : undefined;
      const id = randomUUID();
      this.entries.set(id, {
        info: {
          id,
          source: meta.url,
          fileName,
          destPath: dest,
          state: "paused",
          receivedBytes: size,
          totalBytes: total,
          bytesPerSecond: 0,
          etaSeconds: null,
          error: null,
        },
        files: [{ url: meta.url, path: meta.url, fileName, size: expectedSize, sha256 }],
        doneBytes: 0,
        controller: null,
        run: null,
      });
    }
  }
}
