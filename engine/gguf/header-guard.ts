/**
 * A bounded structural check of a GGUF header, run before node-llama-cpp's reader (`readGgufFileInfo`) sees a file.
 *
 * Why: that reader trusts every count and length in the header. An array that declares 2^61 elements makes it push
 * values until V8 aborts the process ("invalid size"), tensor and key counts of 2^63 make it loop for minutes while
 * memory grows, and a string length of a few GB makes it allocate that much. A 149-byte file in the models folder
 * was enough to take down the whole host on every launch. llama.cpp's own reader (ggml/src/gguf.cpp) checks each
 * length against the bytes that remain; this does the same, in TypeScript, before anything is allocated from a
 * count, and adds caps tight enough that what passes is cheap for node-llama-cpp to read.
 *
 * The walk reads through an abstract `ByteSource` in buffered chunks (64 KB growing to 1 MB), so it runs on a file
 * descriptor and over HTTP Range requests alike, and never holds more than one chunk: values (strings, arrays) are
 * skipped by their declared size, never read. Only keys and tensor names, both short by rule, are decoded.
 *
 * Layout (gguf.h): magic "GGUF", u32 version, u64 tensor count, u64 kv count, then each kv (string key, u32 value
 * type, value), then each tensor info (string name, u32 n_dims, n_dims × u64 dims, u32 ggml type, u64 offset),
 * all little-endian; a string is a u64 byte length and the bytes; an array is a u32 element type, a u64 count and
 * the elements.
 */
import { open, readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { abortableDelay } from "../abortable-delay.js";

/** Bytes of a file, read at any offset. */
export interface ByteSource {
  /** The file's size in bytes, when known; a remote source may learn it from its first answer (Content-Range). */
  readonly size: number | null;
  /** Up to `length` bytes from `offset`: fewer only where the file ends. */
  read(offset: number, length: number): Promise<Buffer>;
}

/**
 * Why a header was refused: "signature" (no "GGUF"), "version" (not 2 or 3), "truncated" (the file ends inside its
 * header, or a plausible length runs past its end), "invalid" (anything else: an impossible count or length, an
 * unknown type, a broken rule of the format).
 */
export type GgufHeaderProblem = "signature" | "version" | "truncated" | "invalid";

/** A refused header; `message` is one line naming the file, fit to show a user. */
export class GgufHeaderError extends Error {
  constructor(
    readonly problem: GgufHeaderProblem,
    message: string,
    /** Where in the file the offending field is. */
    readonly offset: number,
  ) {
    super(message);
    this.name = "GgufHeaderError";
  }
}

export interface GgufHeaderSummary {
  version: number;
  tensorCount: number;
  kvCount: number;
  alignment: number;
  /** Where the tensor infos end. */
  headerEnd: number;
  /** Where the tensor data starts: `headerEnd` rounded up to the alignment. */
  dataOffset: number;
}

/**
 * What the guard accepts. llama.cpp's own limits where it has them (tensor names, dimensions); elsewhere caps well
 * above any real model (a 262k-vocabulary model has ~40 keys of at most 5 parts, ~1k tensors, under 1M array
 * elements and a header of ~20 MB) that still keep node-llama-cpp's reading to a few seconds at worst. It holds the
 * whole header in one buffer that it copies on every 4 MB it grows, turns every array element into a JS value
 * (~350 ns each, synchronously: 4M elements block the event loop for ~1.5 s), and nests keys by their dots at a
 * cost that grows with the square of their parts (65k keys of 512 parts would take minutes).
 */
export const GGUF_HEADER_LIMITS = {
  /** Everything before the tensor data. */
  headerBytes: 128 * 1024 * 1024,
  kvCount: 65_536,
  /** llama.cpp checks tensor names for duplicates pairwise: 65k tensors already cost it ~2·10^9 comparisons. */
  tensorCount: 65_536,
  keyBytes: 256,
  /** Dot-separated parts of one key ("tokenizer.ggml.tokens" has 3). */
  keyParts: 16,
  /** GGML_MAX_NAME (64) including the terminating NUL. */
  tensorNameBytes: 63,
  /** GGML_MAX_DIMS. */
  dims: 4,
  /** Elements of one array, and of all arrays together (nested ones included). */
  arrayElements: 1 << 22,
  totalArrayElements: 1 << 22,
  /** Array nesting: 1 is a plain array. llama.cpp refuses any nesting; node-llama-cpp reads it recursively. */
  arrayDepth: 3,
  /** Arrays that are elements of arrays, in all. */
  nestedArrays: 65_536,
} as const;

const GGUF_MAGIC = "GGUF";
const DEFAULT_ALIGNMENT = 32;
const FIRST_CHUNK = 64 * 1024;
const MAX_CHUNK = 1024 * 1024;
/** 2^53: above this a u64 is not exact in a JS number, and no count, size or offset in a real file comes near. */
const MAX_EXACT = 2 ** 53;

/** gguf.h `enum gguf_type` with each value's smallest encoding: a string is at least its length, an array its type and count. */
const VALUE_TYPES: Record<number, { name: string; minBytes: number; fixed: boolean }> = {
  0: { name: "u8", minBytes: 1, fixed: true },
  1: { name: "i8", minBytes: 1, fixed: true },
  2: { name: "u16", minBytes: 2, fixed: true },
  3: { name: "i16", minBytes: 2, fixed: true },
  4: { name: "u32", minBytes: 4, fixed: true },
  5: { name: "i32", minBytes: 4, fixed: true },
  6: { name: "f32", minBytes: 4, fixed: true },
  7: { name: "bool", minBytes: 1, fixed: true },
  8: { name: "string", minBytes: 8, fixed: false },
  9: { name: "array", minBytes: 4 + 8, fixed: false },
  10: { name: "u64", minBytes: 8, fixed: true },
  11: { name: "i64", minBytes: 8, fixed: true },
  12: { name: "f64", minBytes: 8, fixed: true },
};
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;
const TYPE_U32 = 4;

/** The smallest kv: a 1-byte key (empty keys are refused, as llama.cpp does), its type, a 1-byte value. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
/**
 * The smallest tensor info: a 1-byte name (empty names are refused), n_dims, type, offset. A dimension (8 bytes
 * each) is not counted: ggml allows 0-dimensional (scalar) tensors, and their infos must pass.
 */
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8;

/**
 * Elements per block of every ggml type llama.cpp can load (ggml.c type_traits; 4, 5, 31-33 and 36-38 were removed
 * and have a block size of 0 there, so llama.cpp refuses them too). A row (dims[0]) must be a whole number of blocks.
 */
const GGML_BLOCK_ELEMENTS: Record<number, { name: string; block: number }> = {
  0: { name: "F32", block: 1 },
  1: { name: "F16", block: 1 },
  2: { name: "Q4_0", block: 32 },
  3: { name: "Q4_1", block: 32 },
  6: { name: "Q5_0", block: 32 },
  7: { name: "Q5_1", block: 32 },
  8: { name: "Q8_0", block: 32 },
  9: { name: "Q8_1", block: 32 },
  10: { name: "Q2_K", block: 256 },
  11: { name: "Q3_K", block: 256 },
  12: { name: "Q4_K", block: 256 },
  13: { name: "Q5_K", block: 256 },
  14: { name: "Q6_K", block: 256 },
  15: { name: "Q8_K", block: 256 },
  16: { name: "IQ2_XXS", block: 256 },
  17: { name: "IQ2_XS", block: 256 },
  18: { name: "IQ3_XXS", block: 256 },
  19: { name: "IQ1_S", block: 256 },
  20: { name: "IQ4_NL", block: 32 },
  21: { name: "IQ3_S", block: 256 },
  22: { name: "IQ2_S", block: 256 },
  23: { name: "IQ4_XS", block: 256 },
  24: { name: "I8", block: 1 },
  25: { name: "I16", block: 1 },
  26: { name: "I32", block: 1 },
  27: { name: "I64", block: 1 },
  28: { name: "F64", block: 1 },
  29: { name: "IQ1_M", block: 256 },
  30: { name: "BF16", block: 1 },
  34: { name: "TQ1_0", block: 256 },
  35: { name: "TQ2_0", block: 256 },
  39: { name: "MXFP4", block: 32 },
  40: { name: "NVFP4", block: 64 },
  41: { name: "Q1_0", block: 128 },
  42: { name: "Q2_0", block: 64 },
};

/**
 * Walks the header of the GGUF that `source` reads and returns its outline; throws GgufHeaderError (one line,
 * naming the file as `name`) for anything node-llama-cpp's reader or llama.cpp should not be handed. Reads only
 * the header, and at most one chunk (≤ 1 MB) past it.
 */
export async function checkGgufHeader(source: ByteSource, name: string): Promise<GgufHeaderSummary> {
  return new HeaderWalk(new Cursor(source, name), name).run();
}

/** Runs the guard on a local file (see checkGgufHeader). */
export async function checkGgufFile(path: string, name = path): Promise<GgufHeaderSummary> {
  const source = await openFileSource(path);
  try {
    return await checkGgufHeader(source, name);
  } finally {
    await source.close();
  }
}

/** A local file as a ByteSource: one descriptor, positional reads, its size from fstat. */
export async function openFileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await open(path, "r");
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  return {
    size,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, offset + filled);
        if (bytesRead === 0) break; // the file shrank under us: the walk reports it as cut short
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    },
    close: () => handle.close(),
  };
}

// ---- split sets ------------------------------------------------------------------------------------------------

/** node-llama-cpp's split-part naming (resolveSplitGgufParts): exactly the files its reader opens for one path. */
const NLC_SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/;

/**
 * Every part of the split set `pathOrUrl` names, in order, as node-llama-cpp resolves them (its reader splices all
 * of them when asked to, and does when loading a model); just `[pathOrUrl]` for a file that is not a part.
 */
export function splitPartPaths(pathOrUrl: string): string[] {
  const isUrl = /^https?:\/\//i.test(pathOrUrl);
  const target = isUrl ? new URL(pathOrUrl).pathname : pathOrUrl;
  const match = NLC_SPLIT_PART.exec(target);
  if (!match) return [pathOrUrl];
  const part = Number(match[1]);
  const parts = Number(match[2]);
  if (part === 0 || parts === 0 || part > parts) return [pathOrUrl];
  const stem = target.slice(0, target.length - match[0].length);
  const names = Array.from({ length: parts }, (_, i) => `${stem}-${String(i + 1).padStart(5, "0")}-of-${match[2]}.gguf`);
  if (!isUrl) return names;
  return names.map((p) => {
    const url = new URL(pathOrUrl);
    url.pathname = p;
    return url.href;
  });
}

/**
 * Guards the other parts of the local split set `path` belongs to, the ones present that start with "GGUF": those
 * node-llama-cpp would parse as headers (a part without the signature makes it throw at once, harmlessly, and a
 * missing one is an ENOENT). Throws GgufHeaderError naming the bad part.
 */
export async function checkLocalSplitParts(path: string): Promise<void> {
  const parts = splitPartPaths(path);
  if (parts.length === 1) return;
  // One directory listing rather than one open per declared part: a name may declare 99999 parts.
  let present: Set<string>;
  try {
    present = new Set(await readdir(dirname(path)));
  } catch {
    return;
  }
  for (const part of parts) {
    if (part === path || !present.has(basename(part))) continue;
    let source: Awaited<ReturnType<typeof openFileSource>>;
    try {
      source = await openFileSource(part);
    } catch {
      continue; // unreadable: node-llama-cpp's own open fails the same way, with an ordinary error
    }
    try {
      const head = await source.read(0, 4);
      if (head.toString("latin1") !== GGUF_MAGIC) continue;
      await checkGgufHeader(source, join(dirname(path), basename(part)));
    } finally {
      await source.close();
    }
  }
}

// ---- remote files ----------------------------------------------------------------------------------------------

export interface RetryOptions {
  retries: number;
  factor: number;
  minTimeout: number;
  maxTimeout: number;
}

export interface RemoteSourceOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** The size, when a probe already learned it. */
  size?: number | null;
}

/** A ranged read that failed (an HTTP status, the network); `message` is one line, e.g. "HTTP 404 Not Found from hf.co". */
export class GgufFetchError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "GgufFetchError";
  }
}

/**
 * A remote file as a ByteSource, one Range request per read. A server that ignores Range is only accepted while
 * the whole file fits in what was asked for: otherwise every read would download it from the start (and
 * node-llama-cpp, which buffers each answer whole, would hold all of it in memory).
 */
export function httpByteSource(url: string, options: RemoteSourceOptions = {}): ByteSource {
  let size = options.size ?? null;
  const retry = options.retry ?? { retries: 0, factor: 2, minTimeout: 0, maxTimeout: 0 };
  const host = new URL(url).host;

  const once = async (offset: number, length: number): Promise<Buffer> => {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { ...options.headers, Range: `bytes=${offset}-${offset + length - 1}`, "Accept-Encoding": "identity" },
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new GgufFetchError(`cannot reach ${host}: ${cause?.code ?? cause?.message ?? oneLine(error)}`, null, true);
    }
    if (response.status === 416) {
      await response.body?.cancel().catch(() => undefined);
      return Buffer.alloc(0); // the range starts at or past the end: the walk reports the file as cut short
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} from ${host}`;
      throw new GgufFetchError(status, response.status, response.status >= 500 || response.status === 429);
    }
    if (response.status === 206) {
      const range = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(response.headers.get("content-range") ?? "");
      if (range && Number(range[1]) !== offset) {
        await response.body?.cancel().catch(() => undefined);
        throw new GgufFetchError(`${host} answered with bytes from ${range[1]} instead of ${offset}`, 206, false);
      }
      if (range && range[3] !== "*" && Number.isSafeInteger(Number(range[3]))) size = Number(range[3]);
      return (await readBody(response, 0, length)).data;
    }
    // 200: the whole file. Take it only when it is no longer than what was asked for.
    const body = await readBody(response, offset, length);
    if (!body.complete) throw new GgufFetchError(`${host} ignores Range requests, so reading the header would download the whole file`, 200, false);
    size = offset + body.data.length;
    return body.data;
  };

  return {
    get size() {
      return size;
    },
    async read(offset, length) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(offset, length);
        } catch (error) {
          if (options.signal?.aborted || !(error instanceof GgufFetchError) || !error.retryable || attempt >= retry.retries) throw error;
          await abortableDelay(Math.min(retry.maxTimeout, retry.minTimeout * retry.factor ** attempt), options.signal);
        }
      }
    },
  };
}

/**
 * `length` bytes of a response body from byte `skip` of it, reading no further (a network chunk at most); `complete`
 * when the body ended there, i.e. it held no more than skip + length bytes.
 */
async function readBody(response: Response, skip: number, length: number): Promise<{ data: Buffer; complete: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { data: Buffer.alloc(0), complete: true };
  const chunks: Buffer[] = [];
  let got = 0;
  const want = skip + length;
  let complete = false;
  try {
    while (got <= want) {
      const next = await reader.read();
      if (next.done) {
        complete = true;
        break;
      }
      chunks.push(Buffer.from(next.value));
      got += next.value.length;
      if (got > want) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { data: Buffer.concat(chunks).subarray(skip, want), complete };
}


/**
 * Guards a remote GGUF and, when it is a split part, every other part that starts with "GGUF" (node-llama-cpp's
 * reader splices them all). Parts are read one after another so a name declaring 99999 parts costs requests in
 * sequence, each bounded by the caller's signal, rather than 99999 at once.
 */
export async function checkRemoteGguf(url: string, name: string, options: RemoteSourceOptions & { parts?: boolean } = {}): Promise<GgufHeaderSummary> {
  const summary = await checkGgufHeader(httpByteSource(url, options), name);
  if (options.parts === false) return summary;
  const self = new URL(url).href;
  for (const part of splitPartPaths(url)) {
    if (part === url || part === self) continue;
    const source = httpByteSource(part, { ...options, size: null });
    const head = await source.read(0, 4);
    if (head.toString("latin1") !== GGUF_MAGIC) continue;
    await checkGgufHeader(source, decodeName(part));
  }
  return summary;
}

function decodeName(url: string): string {
  const last = new URL(url).pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last) || url;
  } catch {
    return last || url;
  }
}

// ---- the walk --------------------------------------------------------------------------------------------------

/** A buffered reader over a ByteSource: reads whole chunks, and skips without reading. */
class Cursor {
  pos = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private bufferStart = 0;
  private chunk = FIRST_CHUNK;
  /** The exact values of u64s that did not fit a JS number (read back as Infinity), by offset, for messages. */
  private readonly huge = new Map<number, bigint>();

  constructor(
    private readonly source: ByteSource,
    private readonly name: string,
  ) {}

  get size(): number | null {
    return this.source.size;
  }

  /** Bytes from `pos` to the end of the file (Infinity while the size is unknown: reads then find the end). */
  remaining(): number {
    const size = this.source.size;
    return size === null ? Infinity : Math.max(0, size - this.pos);
  }

  has(n: number): boolean {
    return this.pos >= this.bufferStart && this.pos + n <= this.bufferStart + this.buffer.length;
  }

  /** Makes `n` bytes from `pos` available (n is small: at most a key or tensor name). */
  async fill(n: number): Promise<void> {
    const size = this.source.size;
    if (size !== null && this.pos + n > size) throw this.endOfFile(size);
    let length = Math.max(n, this.chunk);
    if (size !== null) length = Math.min(length, size - this.pos);
    const data = await this.source.read(this.pos, length);
    this.buffer = data;
    this.bufferStart = this.pos;
    this.chunk = Math.min(MAX_CHUNK, this.chunk * 2);
    if (data.length < n) throw this.endOfFile(this.pos + data.length);
  }

  endOfFile(at: number): GgufHeaderError {
    return new GgufHeaderError("truncated", `${this.name} is truncated: the file ends at byte ${at}, inside its header`, at);
  }

  /** Call only after has(4) / fill(4). */
  takeU32(): number {
    const value = this.buffer.readUInt32LE(this.pos - this.bufferStart);
    this.pos += 4;
    return value;
  }

  /** A u64 as an exact number, or Infinity (with hugeValue set) when it is 2^53 or more. Call after has(8) / fill(8). */
  takeU64(): number {
    const at = this.pos - this.bufferStart;
    const low = this.buffer.readUInt32LE(at);
    const high = this.buffer.readUInt32LE(at + 4);
    if (high >= 0x200000) this.huge.set(this.pos, (BigInt(high) << 32n) | BigInt(low));
    this.pos += 8;
    return high < 0x200000 ? high * 0x1_0000_0000 + low : Infinity;
  }

  async u32(): Promise<number> {
    if (!this.has(4)) await this.fill(4);
    return this.takeU32();
  }

  async u64(): Promise<number> {
    if (!this.has(8)) await this.fill(8);
    return this.takeU64();
  }

  async bytes(n: number): Promise<Buffer> {
    if (!this.has(n)) await this.fill(n);
    const start = this.pos - this.bufferStart;
    this.pos += n;
    return this.buffer.subarray(start, start + n);
  }

  /** Moves past `n` bytes the caller has checked fit in the file; nothing is read. */
  skip(n: number): void {
    this.pos += n;
  }

  /** The u64 `n` read at byte `at` as text: exact even past 2^53. */
  format(n: number, at: number): string {
    return Number.isFinite(n) ? String(n) : (this.huge.get(at) ?? n).toString();
  }

  /** Whether the file has a byte at `offset` (for a source of unknown size, whose skipped values were not read). */
  async reaches(offset: number): Promise<boolean> {
    return (await this.source.read(offset, 1)).length === 1;
  }
}

class HeaderWalk {
  private alignment = DEFAULT_ALIGNMENT;
  private arrayElements = 0;
  private nestedArrays = 0;

  constructor(
    private readonly at: Cursor,
    private readonly name: string,
  ) {}

  async run(): Promise<GgufHeaderSummary> {
    const at = this.at;
    if (!at.has(8)) {
      try {
        await at.fill(8);
      } catch (error) {
        if (!(error instanceof GgufHeaderError)) throw error;
        const size = at.size ?? 0;
        throw new GgufHeaderError(size === 0 ? "signature" : "truncated", `${this.name} is not a GGUF model: the file is only ${size} bytes long`, 0);
      }
    }
    const magic = (await at.bytes(4)).toString("latin1");
    if (magic !== GGUF_MAGIC) {
      throw new GgufHeaderError("signature", `${this.name} is not a GGUF model (it does not start with the "GGUF" signature)`, 0);
    }
    const version = await at.u32();
    if (version !== 2 && version !== 3) {
      throw new GgufHeaderError("version", `${this.name} is GGUF version ${version}; only versions 2 and 3 are supported`, 4);
    }
    const tensorCount = await at.u64();
    const kvCount = await at.u64();
    // Both counts against what follows them before a single kv is read: every kv and every tensor info takes a
    // minimum number of bytes, so a count the file cannot hold is refused here, not after a loop of 2^63.
    this.fits(kvCount, MIN_KV_BYTES, 16, "key/value pairs");
    this.cap(kvCount, GGUF_HEADER_LIMITS.kvCount, 16, "key/value pairs");
    this.fits(tensorCount, MIN_TENSOR_INFO_BYTES, 8, "tensors", kvCount * MIN_KV_BYTES);
    this.cap(tensorCount, GGUF_HEADER_LIMITS.tensorCount, 8, "tensors");

    const keys = new Set<string>();
    for (let i = 0; i < kvCount; i++) await this.keyValue(keys);

    this.fits(tensorCount, MIN_TENSOR_INFO_BYTES, 8, "tensors");
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) await this.tensorInfo(names);

    const headerEnd = at.pos;
    const dataOffset = Math.ceil(headerEnd / this.alignment) * this.alignment;
    const size = at.size;
    if (size === null) {
      // Skipped values were never read: make sure the file really reaches the header's end.
      if (headerEnd > 0 && !(await at.reaches(headerEnd - 1))) throw at.endOfFile(headerEnd);
    } else if (tensorCount > 0 && dataOffset > size) {
      // llama.cpp seeks to the aligned start of the data before reading any.
      throw at.endOfFile(size);
    }
    return { version, tensorCount, kvCount, alignment: this.alignment, headerEnd, dataOffset };
  }

  private async keyValue(keys: Set<string>): Promise<void> {
    const at = this.at;
    const keyAt = at.pos;
    const key = await this.shortString(keyAt, "key", GGUF_HEADER_LIMITS.keyBytes);
    if (keys.has(key)) this.invalid(keyAt, `the key ${quote(key)} twice (at byte ${keyAt} again)`);
    // node-llama-cpp nests keys by their dots into plain objects: a "__proto__" part would rewire an object's
    // prototype rather than add a key.
    const parts = key.split(".");
    if (parts.includes("__proto__")) this.invalid(keyAt, `the key ${quote(key)} at byte ${keyAt}, which no model uses`);
    if (parts.length > GGUF_HEADER_LIMITS.keyParts) {
      this.invalid(keyAt, `the key ${quote(key)} of ${parts.length} dot-separated parts at byte ${keyAt}; at most ${GGUF_HEADER_LIMITS.keyParts} are supported`);
    }
    keys.add(key);
    const typeAt = at.pos;
    const type = await at.u32();
    if (VALUE_TYPES[type] === undefined) this.invalid(typeAt, `value type ${type} for the key ${quote(key)} at byte ${typeAt}; GGUF value types are 0 to 12`);
    if (key === "general.alignment") {
      // llama.cpp refuses any other type or value; node-llama-cpp would align the data offset to it (0 gives NaN).
      if (type !== TYPE_U32) this.invalid(typeAt, `general.alignment as a ${VALUE_TYPES[type].name} at byte ${typeAt}; it must be a u32`);
      this.need(4, at.pos, () => "general.alignment");
      const alignment = await at.u32();
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) this.invalid(typeAt + 4, `general.alignment ${alignment} at byte ${typeAt + 4}, which is not a power of two`);
      this.alignment = alignment;
      return;
    }
    await this.value(type, typeAt, 0);
  }

  /** Skips one value of `type` (declared at byte `typeAt`); `depth` is how many arrays it is inside. */
  private async value(type: number, typeAt: number, depth: number): Promise<void> {
    const at = this.at;
    const spec = VALUE_TYPES[type];
    if (spec.fixed) {
      this.need(spec.minBytes, at.pos, () => `a ${spec.name} value`);
      at.skip(spec.minBytes);
      return;
    }
    if (type === TYPE_STRING) {
      const lengthAt = at.pos;
      this.need(8, lengthAt, () => "a string length");
      const length = await at.u64();
      this.need(length, lengthAt, () => `a string of ${at.format(length, lengthAt)} bytes`);
      at.skip(length);
      return;
    }
    // An array: element type, count, elements.
    if (depth + 1 > GGUF_HEADER_LIMITS.arrayDepth) {
      this.invalid(typeAt, `arrays nested ${depth + 1} deep at byte ${typeAt}; at most ${GGUF_HEADER_LIMITS.arrayDepth} levels are supported`);
    }
    this.need(12, at.pos, () => "an array's type and count");
    const elementTypeAt = at.pos;
    const elementType = await at.u32();
    const element = VALUE_TYPES[elementType];
    if (element === undefined) this.invalid(elementTypeAt, `array element type ${elementType} at byte ${elementTypeAt}; GGUF value types are 0 to 12`);
    const countAt = at.pos;
    const count = await at.u64();
    this.fits(count, element.minBytes, countAt, "array elements");
    this.cap(count, GGUF_HEADER_LIMITS.arrayElements, countAt, "array elements");
    this.arrayElements += count;
    if (this.arrayElements > GGUF_HEADER_LIMITS.totalArrayElements) {
      this.invalid(countAt, `more than ${GGUF_HEADER_LIMITS.totalArrayElements} array elements in all (${this.arrayElements} by byte ${countAt})`);
    }
    if (element.fixed) {
      at.skip(count * element.minBytes); // fits() checked these bytes are there
      return;
    }
    if (elementType === TYPE_ARRAY) {
      // Each inner array is a walk of its own (awaits, recursion): a tight budget, as no model has any.
      this.nestedArrays += count;
      if (this.nestedArrays > GGUF_HEADER_LIMITS.nestedArrays) {
        this.invalid(countAt, `more than ${GGUF_HEADER_LIMITS.nestedArrays} arrays inside arrays in all (${this.nestedArrays} by byte ${countAt})`);
      }
    }
    if (elementType === TYPE_STRING) {
      // The hot loop of a vocabulary (hundreds of thousands of tokens): synchronous while the chunk lasts.
      for (let i = 0; i < count; i++) {
        const lengthAt = at.pos;
        if (at.remaining() < 8) throw at.endOfFile(at.size ?? lengthAt);
        if (!at.has(8)) await at.fill(8);
        const length = at.takeU64();
        if (length > at.remaining() || at.pos + length > GGUF_HEADER_LIMITS.headerBytes) {
          this.need(length, lengthAt, () => `a string of ${at.format(length, lengthAt)} bytes`);
        }
        at.skip(length);
      }
      return;
    }
    for (let i = 0; i < count; i++) await this.value(TYPE_ARRAY, at.pos, depth + 1);
  }

  private async tensorInfo(names: Set<string>): Promise<void> {
    const at = this.at;
    const infoAt = at.pos;
    const name = await this.shortString(infoAt, "tensor name", GGUF_HEADER_LIMITS.tensorNameBytes);
    if (names.has(name)) this.invalid(infoAt, `the tensor ${quote(name)} twice (at byte ${infoAt} again)`);
    names.add(name);
    const dimsAt = at.pos;
    this.need(4, dimsAt, () => `the tensor ${quote(name)}`);
    const dimCount = await at.u32();
    if (dimCount > GGUF_HEADER_LIMITS.dims) {
      this.invalid(dimsAt, `${dimCount} dimensions for the tensor ${quote(name)} at byte ${dimsAt}; ggml allows at most ${GGUF_HEADER_LIMITS.dims}`);
    }
    this.need(dimCount * 8 + 4 + 8, at.pos, () => `the tensor ${quote(name)}`);
    const dims: number[] = [];
    let elements = 1;
    for (let d = 0; d < dimCount; d++) {
      const dimAt = at.pos;
      const dim = await at.u64();
      // llama.cpp reads dimensions as int64 and refuses negative ones and products past INT64_MAX; 2^53 elements
      // (petabytes) is already far past any file.
      elements *= dim;
      if (!Number.isFinite(dim) || elements >= MAX_EXACT) {
        this.invalid(dimAt, `a tensor ${quote(name)} of more than 2^53 elements (dimension ${d} is ${at.format(dim, dimAt)}, at byte ${dimAt})`);
      }
      dims.push(dim);
    }
    const typeAt = at.pos;
    const ggmlType = await at.u32();
    const type = GGML_BLOCK_ELEMENTS[ggmlType];
    if (type === undefined) this.invalid(typeAt, `ggml type ${ggmlType} for the tensor ${quote(name)} at byte ${typeAt}, which llama.cpp does not know`);
    const row = dims[0] ?? 1;
    if (row % type.block !== 0) {
      this.invalid(typeAt, `the ${type.name} tensor ${quote(name)} at byte ${infoAt} with rows of ${row} elements, not a whole number of its ${type.block}-element blocks`);
    }
    const offsetAt = at.pos;
    const offset = await at.u64();
    if (!Number.isFinite(offset) || offset % this.alignment !== 0) {
      this.invalid(offsetAt, `the data of the tensor ${quote(name)} at offset ${at.format(offset, offsetAt)} (byte ${offsetAt}), not a multiple of the alignment ${this.alignment}`);
    }
  }

  /** A key or tensor name: non-empty, at most `maxBytes` (so reading it is cheap), decoded. */
  private async shortString(lengthAt: number, what: string, maxBytes: number): Promise<string> {
    const at = this.at;
    this.need(8, lengthAt, () => `a ${what}`);
    const length = await at.u64();
    if (length === 0) this.invalid(lengthAt, `an empty ${what} at byte ${lengthAt}`);
    this.need(length, lengthAt, () => `a ${what} of ${at.format(length, lengthAt)} bytes`);
    if (length > maxBytes) this.invalid(lengthAt, `a ${what} of ${at.format(length, lengthAt)} bytes at byte ${lengthAt}; at most ${maxBytes} are allowed`);
    return (await at.bytes(length)).toString("utf8");
  }

  /**
   * `count` items of at least `minBytes` each, declared at byte `at`, must fit in the bytes after the cursor (less
   * `reserved`, bytes later items need at least).
   */
  private fits(count: number, minBytes: number, at: number, unit: string, reserved = 0): void {
    const remaining = Math.max(0, this.at.remaining() - reserved);
    const bytes = count * minBytes;
    if (bytes <= remaining && this.at.pos + bytes <= GGUF_HEADER_LIMITS.headerBytes) return;
    const detail = `${this.at.format(count, at)} ${unit} at byte ${at}`;
    if (bytes > remaining) {
      // A plausible count in a file that stops short is a cut file; a count no header could hold is a crafted one.
      const plausible = this.at.pos + bytes <= GGUF_HEADER_LIMITS.headerBytes && count <= capOf(unit);
      this.fail(plausible ? "truncated" : "invalid", at, `${detail}, more than the ${remaining} bytes that follow`);
    }
    this.fail("invalid", at, `${detail}, which would make its header larger than ${mib(GGUF_HEADER_LIMITS.headerBytes)}`);
  }

  /** `bytes` (a length declared at byte `at`) must fit in the file and under the header cap. */
  private need(bytes: number, at: number, what: () => string): void {
    const remaining = this.at.remaining();
    if (bytes <= remaining && this.at.pos + bytes <= GGUF_HEADER_LIMITS.headerBytes) return;
    if (bytes > remaining) {
      const plausible = this.at.pos + bytes <= GGUF_HEADER_LIMITS.headerBytes;
      this.fail(plausible ? "truncated" : "invalid", at, `${what()} at byte ${at}, more than the ${remaining} bytes that follow`);
    }
    this.fail("invalid", at, `${what()} at byte ${at}, which would make its header larger than ${mib(GGUF_HEADER_LIMITS.headerBytes)}`);
  }

  private cap(count: number, max: number, at: number, unit: string): void {
    if (count > max) this.invalid(at, `${this.at.format(count, at)} ${unit} at byte ${at}; at most ${max} are supported`);
  }

  private invalid(at: number, detail: string): never {
    this.fail("invalid", at, detail);
  }

  private fail(problem: "invalid" | "truncated", at: number, detail: string): never {
    const lead = problem === "truncated" ? `${this.name} is truncated` : `${this.name} is not a valid GGUF model`;
    throw new GgufHeaderError(problem, `${lead}: its header declares ${detail}`, at);
  }
}

function capOf(unit: string): number {
  if (unit === "tensors") return GGUF_HEADER_LIMITS.tensorCount;
  if (unit === "key/value pairs") return GGUF_HEADER_LIMITS.kvCount;
  return GGUF_HEADER_LIMITS.arrayElements;
}

function mib(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB`;
}

/** A key or name for a message: quoted, escaped (never a line break), and short. */
function quote(text: string): string {
  const json = JSON.stringify(text.length > 80 ? `${text.slice(0, 79)}…` : text);
  return json.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
