/**
 * GGUF inspection: the facts a user needs to choose a model (architecture, size, quantization, context, tokenizer,
 * chat template), read from the file's header only — no weights are loaded, so it is fast enough to run on a whole
 * models folder. Also pairs drafts with a target from the headers' tokenizers.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { GgmlType, GgufFileType, readGgufFileInfo, resolveChatWrapper, type GgufFileInfo } from "node-llama-cpp";
import { EngineFailure } from "../errors.js";
import { assertGgufFile } from "../gguf-check.js";
import { compareTokenizers, type TokenizerFacts } from "../speculation/tokenizer-compat.js";
import { checkRemoteGguf, GgufFetchError, GgufHeaderError } from "./header-guard.js";

export type GgufInspectReason = "not-found" | "not-gguf" | "truncated" | "unsupported-version" | "unreadable";

/** Why a file could not be inspected; `message` is one line fit to show a user. */
export class GgufInspectError extends Error {
  constructor(
    readonly reason: GgufInspectReason,
    message: string,
  ) {
    super(message);
    this.name = "GgufInspectError";
  }
}

export interface GgufFacts {
  path: string;
  name: string;
  /** Bytes on disk; for a split set, the sum of the parts present. */
  sizeBytes: number;
  ggufVersion: number;
  architecture: string;
  /** general.name, when set. */
  modelName: string | null;
  /** Weights, summed over the tensor shapes. */
  parameters: number;
  /** File type name, e.g. "Q4_K_M", "F32" (or the dominant tensor type when the header has no file type). */
  quantization: string;
  contextLength: number | null;
  tokenizer: string;
  vocabSize: number;
  specialTokens: { bos: number | null; eos: number | null; eot: number | null; unknown: number | null };
  hasChatTemplate: boolean;
  /** The node-llama-cpp chat wrapper the model resolves to (e.g. "ChatML"), or null when none. */
  chatWrapper: string | null;
  /** The chat template's first line (trimmed to 120 characters), null without a template. */
  chatTemplateFirstLine: string | null;
  /** Split sets (`-00001-of-0000N.gguf`): null for a single file. */
  split: { parts: number; partFiles: string[]; missingParts: string[] } | null;
}

const SPLIT_PATTERN = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

export interface InspectOptions {
  /** Request headers for an http(s) URL (e.g. `Authorization: Bearer <token>`). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export const isRemoteSource = (source: string): boolean => /^https?:\/\//i.test(source);

/**
 * Reads a GGUF file's header and returns its facts; throws GgufInspectError for anything that is not a whole GGUF.
 * `path` may be an http(s) URL: only the header is fetched, with ranged requests (see readRemoteHeader).
 */
export async function inspectGguf(path: string, options: InspectOptions = {}): Promise<GgufFacts> {
  return (await inspectGgufWithTokenizer(path, options)).facts;
}

/** The facts and the tokenizer facts of one file, from one read of its header. */
export async function inspectGgufWithTokenizer(path: string, options: InspectOptions = {}): Promise<{ facts: GgufFacts; tokenizer: TokenizerFacts }> {
  const { info, sizeBytes, version, split, name } = isRemoteSource(path) ? await readRemoteHeader(path, options) : await readHeader(path);
  return { facts: factsFromHeader(path, name, info, sizeBytes, version, split), tokenizer: tokenizerFactsFromInfo(info) };
}

function factsFromHeader(path: string, name: string, info: GgufFileInfo, sizeBytes: number, version: number, split: GgufFacts["split"]): GgufFacts {
  const metadata = info.metadata as unknown as Record<string, unknown>;
  const general = (metadata.general ?? {}) as Record<string, unknown>;
  const architecture = typeof general.architecture === "string" ? general.architecture : "unknown";
  const archMeta = (metadata[architecture] ?? {}) as Record<string, unknown>;
  const tokenizer = tokenizerFactsFromInfo(info);
  const template = chatTemplateOf(info);
  return {
    path,
    name,
    sizeBytes,
    ggufVersion: version,
    architecture,
    modelName: typeof general.name === "string" ? general.name : null,
    parameters: countParameters(info),
    quantization: quantizationName(general.file_type, info),
    contextLength: typeof archMeta.context_length === "number" ? archMeta.context_length : null,
    tokenizer: tokenizer.model,
    vocabSize: tokenizer.tokens.length,
    specialTokens: { bos: tokenizer.bos, eos: tokenizer.eos, eot: tokenizer.eot, unknown: tokenizer.unknown },
    hasChatTemplate: template !== null,
    chatWrapper: chatWrapperName(info, name),
    chatTemplateFirstLine: template === null ? null : firstLine(template),
    split,
  };
}

/** The tokenizer facts `compareTokenizers` needs, from the header (no weights loaded). */
export async function tokenizerFactsFromFile(path: string, options: InspectOptions = {}): Promise<TokenizerFacts> {
  return tokenizerFactsFromInfo((isRemoteSource(path) ? await readRemoteHeader(path, options) : await readHeader(path)).info);
}

export interface DraftPairingInput {
  path: string;
  sizeBytes: number;
  parameters: number | null;
  tokenizer: TokenizerFacts;
}

export interface DraftPairing {
  path: string;
  compatible: boolean;
  /** The first tokenizer difference for an incompatible draft; null for a compatible one. */
  reason: string | null;
  /** The smallest compatible candidate (by parameters, then file size). */
  recommended: boolean;
}

/** Why a copy of the target (the same file in another folder) is no draft for it. */
export const SAME_MODEL_REASON = "The same model as the loaded one (a copy of its file): a model cannot draft for itself.";

/** A copy of the target: the same size, weights and tokenizer (drafting with it would only double the work). */
function sameModel(target: DraftPairingInput, candidate: DraftPairingInput): boolean {
  return (
    candidate.sizeBytes === target.sizeBytes &&
    candidate.parameters === target.parameters &&
    compareTokenizers(target.tokenizer, candidate.tokenizer) === null
  );
}

/**
 * Each candidate (other than the target itself) as a draft for `target`: compatible when the tokenizers match,
 * else the first difference. Returned smallest first; the smallest compatible one is recommended.
 */
export function compatibleDrafts(target: DraftPairingInput, candidates: readonly DraftPairingInput[]): DraftPairing[] {
  const size = (c: DraftPairingInput) => c.parameters ?? c.sizeBytes;
  const sorted = candidates.filter((c) => c.path !== target.path).sort((a, b) => size(a) - size(b) || a.sizeBytes - b.sizeBytes);
  const pairings = sorted.map((c) => {
    const reason = sameModel(target, c) ? SAME_MODEL_REASON : compareTokenizers(target.tokenizer, c.tokenizer);
    return { path: c.path, compatible: reason === null, reason, recommended: false };
  });
  const best = pairings.find((p) => p.compatible);
  if (best) best.recommended = true;
  return pairings;
}

// ---------------------------------------------------------------------------------------------------------------

interface Header {
  /** The file name (of the first part, for a split set). */
  name: string;
  info: GgufFileInfo;
  sizeBytes: number;
  version: number;
  split: GgufFacts["split"];
}

async function readHeader(path: string): Promise<Header> {
  let checked: { sizeBytes: number; version: number };
  try {
    checked = await assertGgufFile(path);
  } catch (error) {
    throw asInspectError(path, error);
  }
  const split = await splitSet(path);
  let info: GgufFileInfo;
  try {
    info = await readInfo(path, split !== null && split.missingParts.length === 0);
  } catch (error) {
    if (isEof(error)) {
      throw new GgufInspectError("truncated", `${path} is not a whole GGUF model: its header is cut short`);
    }
    throw new GgufInspectError("unreadable", `${path} cannot be read as GGUF: ${oneLine(error)}`);
  }
  let sizeBytes = checked.sizeBytes;
  if (split) {
    sizeBytes = 0;
    for (const part of split.partFiles) {
      if (split.missingParts.includes(part)) continue;
      sizeBytes += (await stat(join(dirname(path), part))).size;
    }
  } else {
    const expected = expectedFileSize(info);
    if (expected !== null && checked.sizeBytes < expected) {
      throw new GgufInspectError(
        "truncated",
        `${path} is truncated: ${checked.sizeBytes} bytes, but its header describes at least ${expected}`,
      );
    }
  }
  return { name: basename(path), info, sizeBytes, version: checked.version, split };
}

async function readInfo(path: string, splice: boolean): Promise<GgufFileInfo> {
  if (splice) {
    // A real llama.cpp split set: each part is a GGUF holding its own tensors. When the parts are not (only the
    // first part carries a header), the first part's header describes the whole model.
    try {
      return await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: true, sourceType: "filesystem" });
    } catch {
      // fall through
    }
  }
  return await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false, sourceType: "filesystem" });
}

/** For `x-00001-of-00003.gguf`: the part file names and those missing. Null for a file that is not a split part. */
async function splitSet(path: string): Promise<GgufFacts["split"]> {
  const match = SPLIT_PATTERN.exec(basename(path));
  if (!match) return null;
  const count = Number(match[3]);
  if (count < 2) return null;
  const stem = match[1];
  const partFiles = Array.from({ length: count }, (_, i) => `${stem}-${String(i + 1).padStart(5, "0")}-of-${match[3]}.gguf`);
  let present: Set<string>;
  try {
    present = new Set(await readdir(dirname(path)));
  } catch {
    present = new Set();
  }
  return { parts: count, partFiles, missingParts: partFiles.filter((f) => !present.has(f)) };
}

// ---- remote files (http/https) ---------------------------------------------------------------------------------

/** What the first bytes of a remote file say: its total size (when the server tells) and its GGUF signature. */
interface RemoteProbe {
  sizeBytes: number | null;
  head: Buffer;
}

/** Few quick retries: node-llama-cpp's default (10, up to 16 s apart) would keep a CLI user waiting minutes. */
const REMOTE_RETRY = { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 };

/**
 * A remote GGUF's header through ranged requests: an 8-byte probe (signature, version, and the size from
 * Content-Range), the header guard (header-guard.ts: the header walked in 64 KB-1 MB ranges, so a crafted count
 * never reaches node-llama-cpp, which trusts it), then node-llama-cpp's network reader, which fetches only the
 * header (in chunks of about 4 MB). Split sets (`-00001-of-0000N`) probe the other parts' first bytes for their
 * size; their weights are not fetched, and their headers are guarded too when node-llama-cpp is to splice them.
 */
async function readRemoteHeader(url: string, options: InspectOptions): Promise<Header> {
  const name = remoteName(url);
  const probe = await probeRemote(url, name, options);
  if (probe.head.length < 8) {
    throw new GgufInspectError(probe.head.length === 0 ? "not-gguf" : "truncated", `${name} is not a GGUF model: the file is only ${probe.head.length} bytes long`);
  }
  if (probe.head.subarray(0, 4).toString("latin1") !== "GGUF") {
    throw new GgufInspectError("not-gguf", `${name} is not a GGUF model (it does not start with the "GGUF" signature)`);
  }
  const version = probe.head.readUInt32LE(4);
  if (version !== 2 && version !== 3) {
    throw new GgufInspectError("unsupported-version", `${name} is GGUF version ${version}; only versions 2 and 3 are supported`);
  }
  const guardOptions = { headers: options.headers ?? {}, signal: options.signal, retry: REMOTE_RETRY, parts: false };
  try {
    await checkRemoteGguf(url, name, { ...guardOptions, size: probe.sizeBytes });
  } catch (error) {
    throw remoteGuardFailure(name, error, options.signal);
  }
  const split = remoteSplitSet(url);
  const partSizes = new Map<string, number | null>();
  // Splice the parts' tensor lists only when every part is a GGUF of its own (llama.cpp's gguf-split).
  let allPartsGguf = true;
  if (split) {
    const base = new URL(url);
    for (const part of split.partFiles) {
      if (part === name) {
        partSizes.set(part, probe.sizeBytes);
        continue;
      }
      const partUrl = new URL(base.pathname.replace(/[^/]*$/, encodeURIComponent(part)) + base.search, base).toString();
      try {
        const partProbe = await probeRemote(partUrl, part, options);
        partSizes.set(part, partProbe.sizeBytes);
        if (partProbe.head.subarray(0, 4).toString("latin1") !== "GGUF") allPartsGguf = false;
      } catch (error) {
        if (!(error instanceof GgufInspectError) || error.reason !== "not-found") throw error;
        split.missingParts.push(part);
      }
    }
  }
  const splice = split !== null && split.missingParts.length === 0 && allPartsGguf;
  if (splice) {
    const base = new URL(url);
    for (const part of split.partFiles) {
      if (part === name) continue;
      const partUrl = new URL(base.pathname.replace(/[^/]*$/, encodeURIComponent(part)) + base.search, base).toString();
      try {
        await checkRemoteGguf(partUrl, part, { ...guardOptions, size: partSizes.get(part) ?? null });
      } catch (error) {
        throw remoteGuardFailure(part, error, options.signal);
      }
    }
  }
  let info: GgufFileInfo;
  const read = (splice: boolean) =>
    readGgufFileInfo(url, {
      logWarnings: false,
      sourceType: "network",
      spliceSplitFiles: splice,
      fetchHeaders: options.headers ?? {},
      fetchRetryOptions: REMOTE_RETRY,
      signal: options.signal,
    });
  try {
    if (splice) {
      try {
        info = await read(true);
      } catch {
        info = await read(false);
      }
    } else {
      info = await read(false);
    }
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (isEof(error) || /exceeds the file size|416|long enough/i.test(oneLine(error))) {
      throw new GgufInspectError("truncated", `${name} is not a whole GGUF model: its header is cut short`);
    }
    throw new GgufInspectError("unreadable", `${name} cannot be read as GGUF: ${oneLine(error)}`);
  }
  let sizeBytes = probe.sizeBytes ?? 0;
  if (split) {
    sizeBytes = [...partSizes.values()].reduce<number>((a, n) => a + (n ?? 0), 0);
  } else if (probe.sizeBytes !== null) {
    const expected = expectedFileSize(info);
    if (expected !== null && probe.sizeBytes < expected) {
      throw new GgufInspectError("truncated", `${name} is truncated: ${probe.sizeBytes} bytes, but its header describes at least ${expected}`);
    }
  }
  return { name, info, sizeBytes, version, split };
}

function remoteName(url: string): string {
  const last = new URL(url).pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last) || url;
  } catch {
    return last || url;
  }
}

function remoteSplitSet(url: string): GgufFacts["split"] {
  const match = SPLIT_PATTERN.exec(remoteName(url));
  if (!match || Number(match[3]) < 2) return null;
  const partFiles = Array.from({ length: Number(match[3]) }, (_, i) => `${match[1]}-${String(i + 1).padStart(5, "0")}-of-${match[3]}.gguf`);
  return { parts: partFiles.length, partFiles, missingParts: [] };
}

/** GET the first 8 bytes (Range); the size comes from Content-Range (or Content-Length when the range is ignored). */
async function probeRemote(url: string, name: string, options: InspectOptions): Promise<RemoteProbe> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...options.headers, Range: "bytes=0-7", "Accept-Encoding": "identity" }, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new GgufInspectError("unreadable", `cannot reach ${new URL(url).host}: ${cause?.code ?? cause?.message ?? oneLine(error)}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const status = `HTTP ${response.status}`;
    if (response.status === 404 || response.status === 410) throw new GgufInspectError("not-found", `${name}: not found (${status} from ${new URL(url).host})`);
    if (response.status === 416) throw new GgufInspectError("not-gguf", `${name} is not a GGUF model: the file is empty`);
    if (response.status === 401 || response.status === 403)
      throw new GgufInspectError("unreadable", `${name}: access denied (${status}); the repository may be gated or private: set a Hugging Face token ($HF_TOKEN)`);
    throw new GgufInspectError("unreadable", `${name} cannot be read: ${status} from ${new URL(url).host}`);
  }
  const total = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "")?.[1];
  const length = response.status === 200 ? response.headers.get("content-length") : null;
  const sizeBytes = total !== undefined ? Number(total) : length !== null ? Number(length) : null;
  // Read 8 bytes at most, even from a server that ignores the Range header.
  const chunks: Buffer[] = [];
  let got = 0;
  const reader = response.body?.getReader();
  if (reader) {
    try {
      while (got < 8) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(Buffer.from(value));
        got += value.length;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  return { sizeBytes: sizeBytes !== null && Number.isSafeInteger(sizeBytes) ? sizeBytes : null, head: Buffer.concat(chunks).subarray(0, 8) };
}

/** A header-guard refusal or a failed ranged read of a remote file, as GgufInspectError (an abort stays as it is). */
function remoteGuardFailure(name: string, error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return error;
  if (error instanceof GgufHeaderError) return new GgufInspectError(inspectReason(error), error.message);
  if (error instanceof GgufFetchError) {
    if (error.status === 404 || error.status === 410) return new GgufInspectError("not-found", `${name}: not found (${error.message})`);
    if (error.status === 401 || error.status === 403) {
      return new GgufInspectError("unreadable", `${name}: access denied (${error.message}); the repository may be gated or private: set a Hugging Face token ($HF_TOKEN)`);
    }
    return new GgufInspectError("unreadable", `${name} cannot be read: ${error.message}`);
  }
  return new GgufInspectError("unreadable", `${name} cannot be read: ${oneLine(error)}`);
}

function inspectReason(error: GgufHeaderError): GgufInspectReason {
  if (error.problem === "truncated") return "truncated";
  if (error.problem === "version") return "unsupported-version";
  return "not-gguf";
}

function asInspectError(path: string, error: unknown): GgufInspectError {
  if (error instanceof EngineFailure && error.cause instanceof GgufHeaderError) return new GgufInspectError(inspectReason(error.cause), error.message);
  if (error instanceof EngineFailure) {
    if (error.code === "MODEL_NOT_FOUND") return new GgufInspectError("not-found", error.message);
    if (/only \d+ bytes long/.test(error.message)) {
      return new GgufInspectError(/only 0 bytes/.test(error.message) ? "not-gguf" : "truncated", error.message);
    }
    if (/ is GGUF version \d+;/.test(error.message)) return new GgufInspectError("unsupported-version", error.message);
    return new GgufInspectError("not-gguf", error.message);
  }
  return new GgufInspectError("unreadable", `${path} cannot be read: ${oneLine(error)}`);
}

function tokenizerFactsFromInfo(info: GgufFileInfo): TokenizerFacts {
  const ggml = ((info.metadata as unknown as { tokenizer?: { ggml?: Record<string, unknown> } }).tokenizer?.ggml ?? {}) as Record<
    string,
    unknown
  >;
  const id = (key: string) => (typeof ggml[key] === "number" ? (ggml[key] as number) : null);
  return {
    model: typeof ggml.model === "string" ? ggml.model : "unknown",
    tokens: Array.isArray(ggml.tokens) ? (ggml.tokens as string[]) : [],
    bos: id("bos_token_id"),
    eos: id("eos_token_id"),
    eot: id("eot_token_id"),
    unknown: id("unknown_token_id"),
  };
}

function chatTemplateOf(info: GgufFileInfo): string | null {
  const template = (info.metadata as unknown as { tokenizer?: { chat_template?: unknown } }).tokenizer?.chat_template;
  return typeof template === "string" && template.trim() !== "" ? template : null;
}

function chatWrapperName(info: GgufFileInfo, fileName: string): string | null {
  try {
    const wrapper = resolveChatWrapper({ fileInfo: info, filename: fileName, warningLogs: false });
    return wrapper?.wrapperName ?? null;
  } catch {
    return null;
  }
}

function countParameters(info: GgufFileInfo): number {
  let total = 0;
  for (const tensor of info.fullTensorInfo ?? info.tensorInfo ?? []) {
    total += tensor.dimensions.reduce<number>((n, d) => n * Number(d), 1);
  }
  return total;
}

function quantizationName(fileType: unknown, info: GgufFileInfo): string {
  if (typeof fileType === "number" && GgufFileType[fileType] !== undefined) {
    return GgufFileType[fileType].replace(/^(ALL|MOSTLY)_/, "");
  }
  // No file type: the type holding the most weights.
  const byType = new Map<number, number>();
  for (const tensor of info.fullTensorInfo ?? info.tensorInfo ?? []) {
    const n = tensor.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    byType.set(tensor.ggmlType, (byType.get(tensor.ggmlType) ?? 0) + n);
  }
  const dominant = [...byType].sort((a, b) => b[1] - a[1])[0];
  return dominant ? (GgmlType[dominant[0]] ?? "unknown") : "unknown";
}

/** Bytes per block and elements per block of the common ggml types (others count as 0: a lower bound). */
const TYPE_SIZES: Partial<Record<number, [bytes: number, elements: number]>> = {
  [GgmlType.F32]: [4, 1],
  [GgmlType.F16]: [2, 1],
  [GgmlType.BF16]: [2, 1],
  [GgmlType.Q8_0]: [34, 32],
  [GgmlType.Q4_0]: [18, 32],
  [GgmlType.Q4_1]: [20, 32],
  [GgmlType.Q5_0]: [22, 32],
  [GgmlType.Q5_1]: [24, 32],
  [GgmlType.Q2_K]: [84, 256],
  [GgmlType.Q3_K]: [110, 256],
  [GgmlType.Q4_K]: [144, 256],
  [GgmlType.Q5_K]: [176, 256],
  [GgmlType.Q6_K]: [210, 256],
};

/** The smallest file size the header allows: the data section's start plus the end of its last tensor. */
function expectedFileSize(info: GgufFileInfo): number | null {
  if (info.infoEndOffset === undefined || !info.tensorInfo) return null;
  let end = 0;
  for (const tensor of info.tensorInfo) {
    const elements = tensor.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    const size = TYPE_SIZES[tensor.ggmlType];
    const bytes = size ? Math.ceil(elements / size[1]) * size[0] : 0;
    end = Math.max(end, Number(tensor.offset) + bytes);
  }
  return info.infoEndOffset + end;
}

function isEof(error: unknown): boolean {
  return /out of range|end of|eof|beyond|outside/i.test(oneLine(error));
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
