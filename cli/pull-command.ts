/**
 * `tandem pull <hf:… | https://…/x.gguf> [--dir D] [--token T]`: downloads a model into the library folder with a
 * progress line on stderr, resuming an earlier partial download of the same file. Ctrl-C keeps the partial file.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { defaultDataDir } from "../electron/host/data-dir.js";
import { DownloadError, downloadFile, formatBytes, pauseReason, type DownloadEvent, type DownloadProgress } from "../electron/host/downloads/download.js";
import { HF_BASE_URL, isHfRef, resolveHf, type HfFile } from "../electron/host/downloads/hf.js";

export const PULL_HELP = `  pull <hf:user/repo/file.gguf | hf:user/repo:QUANT | https://…/x.gguf> [options]
                              Download a model (resumable; size and SHA-256 verified when known).
      --dir <folder>          Destination (default: <data dir>/models)
      --token <token>         Hugging Face token for gated repos (default: $HF_TOKEN)
      --sha256 <hex>          Expected SHA-256 of a plain URL download
`;

const USAGE = "usage: tandem pull <hf:user/repo/file.gguf | hf:user/repo:QUANT | https://…/x.gguf> [--dir D] [--token T]";

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function formatProgress(p: DownloadProgress): string {
  const mb = (n: number) => (n / 1024 ** 2).toFixed(1);
  const percent = p.totalBytes ? `${((100 * p.receivedBytes) / p.totalBytes).toFixed(1).padStart(5)}%` : "    ?%";
  const size = p.totalBytes ? `${mb(p.receivedBytes)}/${mb(p.totalBytes)} MB` : `${mb(p.receivedBytes)} MB`;
  const speed = p.stalled ? "stalled" : p.bytesPerSecond > 0 ? `${formatBytes(p.bytesPerSecond)}/s` : "-- MB/s";
  const eta = p.etaSeconds !== null ? `ETA ${formatDuration(p.etaSeconds)}` : "ETA --";
  return `${percent}  ${size}  ${speed}  ${eta}`;
}

export async function pullCommand(argv: string[]): Promise<number> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  let values: { dir?: string; token?: string; sha256?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { dir: { type: "string" }, token: { type: "string" }, sha256: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    err(`tandem pull: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(PULL_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    err(`tandem pull: ${positionals.length === 0 ? "name a model to download" : "one model at a time"}\n${USAGE}`);
    return 2;
  }
  const source = positionals[0];
  if (values.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(values.sha256)) {
    err("tandem pull: --sha256 must be 64 hex digits");
    return 2;
  }
  const destDir = path.resolve(values.dir ?? path.join(defaultDataDir(), "models"));
  const token = values.token ?? (process.env.HF_TOKEN || undefined);

  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    controller.abort(pauseReason());
  };
  process.on("SIGINT", onSigint);
  try {
    let files: HfFile[];
    if (isHfRef(source)) {
      files = await resolveHf(source, { baseUrl: process.env.HF_ENDPOINT || HF_BASE_URL, token, signal: controller.signal });
    } else if (/^https?:\/\//i.test(source)) {
      files = [{ url: source, path: source, fileName: decodeURIComponent(new URL(source).pathname.split("/").pop() ?? ""), sha256: values.sha256 }];
    } else {
      err(`tandem pull: "${source}" is neither an hf: reference nor an http(s) URL\n${USAGE}`);
      return 2;
    }
    for (const [i, file] of files.entries()) {
      const label = files.length > 1 ? `[${i + 1}/${files.length}] ${file.fileName}` : file.fileName;
      const sizeNote = file.size !== undefined ? ` (${formatBytes(file.size)})` : "";
      err(`downloading ${label}${sizeNote} to ${destDir}`);
      const line = new ProgressLine(label);
      const result = await downloadFile({
        url: file.url,
        destDir,
        fileName: file.fileName,
        expectedSize: file.size,
        expectedSha256: file.sha256,
        token,
        signal: controller.signal,
        keepPartOnAbort: true,
        onProgress: (p) => line.update(p),
        onEvent: (e) => line.message(describeEvent(e)),
      });
      line.done();
      if (result.alreadyPresent) err(`${file.fileName} is already there`);
      else err(`saved ${formatBytes(result.bytes)}, SHA-256 ${result.sha256}${file.sha256 ? " (verified)" : ""}`);
      process.stdout.write(`${result.path}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(process.stderr.isTTY ? "\r\x1b[K" : "");
    if (interrupted || (error instanceof DownloadError && error.code === "paused")) {
      const where = error instanceof DownloadError && error.partPath ? ` (${error.partPath})` : "";
      err(`tandem pull: interrupted; the partial download is kept${where} — run the same command again to resume`);
      return 130;
    }
    const message = error instanceof Error ? error.message : String(error);
    err(`tandem pull: ${message.split("\n")[0]}`);
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

function describeEvent(e: DownloadEvent): string {
  switch (e.type) {
    case "resume":
      return `resuming a partial download at ${formatBytes(e.fromBytes)}`;
    case "restart":
      return `starting again from zero: ${e.reason}`;
    case "retry":
      return `${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(e.delayMs < 1000 ? 1 : 0)} s (attempt ${e.attempt})`;
  }
}

/** In place on a terminal; otherwise a line every few seconds. */
class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastLine = 0;
  private last: DownloadProgress | null = null;

  constructor(private readonly label: string) {}

  update(p: DownloadProgress): void {
    this.last = p;
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${formatProgress(p)}`);
    } else if (Date.now() - this.lastLine >= 3000) {
      this.lastLine = Date.now();
      process.stderr.write(`${this.label}: ${formatProgress(p)}\n`);
    }
  }

  message(text: string): void {
    process.stderr.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
    if (this.tty && this.last) process.stderr.write(formatProgress(this.last));
  }

  done(): void {
    if (this.tty) process.stderr.write("\r\x1b[K");
    else if (this.last) process.stderr.write(`${this.label}: ${formatProgress(this.last)}\n`);
  }
}
