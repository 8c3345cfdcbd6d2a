import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { GgmlType, type LlamaContext, type LlamaContextSequence } from "node-llama-cpp";
import { z } from "zod";
import { storeFolder } from "../cache-layout.js";
import { PrefixIndex } from "./prefix-index.js";
import { DEFAULT_CACHE_DISK_BUDGET_BYTES } from "../../contracts/engine/values.js";

/**
 * Saved KV states of one model on disk: `<cacheDir>/kv/<first 16 hex of the model hash>/`.
 *
 * A state is `<id>.state` (llama.cpp's sequence state file) plus `<id>.json` (its meta). The meta is written last,
 * to a temp name then renamed: it is the commit marker, so a state without a valid meta is an interrupted save and
 * garbage. node-llama-cpp warns that loading a state made by another model may crash the process, so nothing is
 * loaded unless its meta names this exact model (content hash), the state file has exactly the recorded size and
 * CRC-32, and the context it goes into has the same KV layout (see stateParamsOf) and room for its tokens.
 *
 * Two kinds of refusal: a state that is garbage or not this model's is deleted with a warning; a sound state of
 * this model that only does not suit this context (its tokens do not fit, another slot count or KV layout) is kept
 * on disk, unindexed, for a later load that suits it — its conversation re-prefills meanwhile, and its next save
 * replaces it. Kept states count towards the disk budget like the others.
 * One state per conversation (the state's id derives from the conversation id): a newer save replaces the older one.
 */

/** 2: the meta records the state file's CRC-32 (version 1 metas are deleted: their files cannot be verified). */
export const META_VERSION = 2;

/** Context parameters that must be equal for a state to load (they change the KV layout; see stateParamsOf). */
export type StateParams = Record<string, string | number | boolean>;

/**
 * The parameters of `context` that llama.cpp's sequence state loader (llama_kv_cache::state_read in node-llama-cpp
 * 3.21.1's llama.cpp) requires to be the same as when the state was saved:
 * - `sequences`: node-llama-cpp never sets kv_unified, so a context of N sequences has N KV streams, and a
 *   sequence state records that count: loading it into a context of another slot count fails ("n_stream mismatch").
 * - `flashAttention`: without flash attention the V cache is stored transposed; a state of the other layout is
 *   refused ("incompatible V transposition").
 * - `kvCacheKeyType`, `kvCacheValueType`: the cells are stored in these types; another type is refused.
 * llama.cpp refuses these itself without crashing, but checking them first keeps such a state on disk for a
 * context that can load it, rather than deleting it after a failed load. What else the loader checks (layer count,
 * row widths) belongs to the model, which the content hash covers. The context size is deliberately not here: a
 * sequence state holds only its used cells, with their positions, and llama.cpp places them in any context with
 * enough free cells — so a state loads into any context that holds its tokens (see KvStateStore.fits).
 */
export function stateParamsOf(context: LlamaContext): StateParams {
  return {
    sequences: context.totalSequences,
    flashAttention: String(context.flashAttention),
    kvCacheKeyType: GgmlType[context.kvCacheKeyType] ?? String(context.kvCacheKeyType),
    kvCacheValueType: GgmlType[context.kvCacheValueType] ?? String(context.kvCacheValueType),
  };
}

const MAX_META_BYTES = 32 * 1024 * 1024;

const StateMeta = z.object({
  version: z.literal(META_VERSION),
  modelHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The context size of the sequence it was saved from: a record only, it does not limit where the state loads. */
  contextSize: z.number().int().positive(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  tokens: z.array(z.number().int().nonnegative()).min(1),
  /**
   * The conversation id the state was saved for. Stored under this name (the engine protocol's old name for the
   * conversation id) so that the states already on disk keep loading; only this file format keeps it.
   */
  sessionKey: z.string().min(1),
  bytes: z.number().int().positive(),
  /**
   * CRC-32 of the whole state file. The size check catches a truncated file, but a changed byte in the K/V data
   * loads without any error and gives different replies, and changed cell positions break the next decode.
   */
  crc32: z.number().int().nonnegative(),
  createdAt: z.number(),
  lastUsedAt: z.number(),
});
export type StateMeta = z.infer<typeof StateMeta>;
export interface SavedState extends StateMeta {
  id: string;
}

/** Writes a sequence's state to a file; injectable so tests can simulate a full disk. */
export type StateSaver = (sequence: LlamaContextSequence, filePath: string) => Promise<void>;

export interface KvStateStoreOptions {
  cacheDir: string;
  modelHash: string;
  /**
   * The context size of the sequences states will be loaded into: their `sequence.contextSize`, which is not
   * always the size asked for (node-llama-cpp pads it to a multiple of 256 below the trained context).
   */
  contextSize: number;
  /** The loading context's KV layout: stateParamsOf(context). */
  params?: StateParams;
  budgetBytes?: number;
  warn(message: string): void;
  saveState?: StateSaver;
}

export function stateIdFor(conversationId: string): string {
  return createHash("sha256").update(conversationId).digest("hex").slice(0, 32);
}


const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const hex = (value: number) => value.toString(16).padStart(8, "0");

/** CRC-32 of a file, read in chunks (state files reach hundreds of MB). */
export async function fileCrc32(filePath: string): Promise<number> {
  const file = await open(filePath, "r");
  const buffer = Buffer.allocUnsafe(4 << 20);
  let crc = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return crc;
      crc = crc32(buffer.subarray(0, bytesRead), crc);
    }
  } finally {
    await file.close();
  }
}

/** What changes whenever a file is written, truncated or replaced (ctime cannot be set back, unlike mtime). */
async function fileSignature(filePath: string): Promise<string | undefined> {
  const info = await stat(filePath, { bigint: true }).catch(() => undefined);
  return info && [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(":");
}

/** The result of checking a state's meta and file: undefined when it was deleted. */
interface Checked {
  state: SavedState;
  /** Why it cannot be loaded into this context (it is kept on disk), or undefined when it can. */
  unloadable?: string;
}

export class KvStateStore {
  /** Block index of the loadable states on disk, kept in step with every save and delete. */
  readonly index = new PrefixIndex();
  readonly folder: string;
  /** Every sound state of this model on disk, loadable here or not. */
  private readonly states = new Map<string, SavedState>();
  /** States kept on disk that this context cannot load, with the reason. */
  private readonly unloadable = new Map<string, string>();
  /**
   * Signatures of the state files this process wrote or verified. One that still matches needs no new CRC check:
   * paging conversations in and out within a run is the hot path, and a CRC costs several times the load itself.
   */
  private readonly trusted = new Map<string, string>();
  private readonly saveState: StateSaver;
  private clock = 0;

  private constructor(private readonly options: KvStateStoreOptions) {
    this.folder = storeFolder(options.cacheDir, options.modelHash);
    this.saveState = options.saveState ?? (async (sequence, filePath) => void (await sequence.saveStateToFile(filePath)));
  }

  /** Opens the folder and checks every saved state (survives restarts); broken ones are deleted. */
  static async open(options: KvStateStoreOptions): Promise<KvStateStore> {
    const store = new KvStateStore(options);
    await mkdir(store.folder, { recursive: true });
    const names = await readdir(store.folder);
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const id = name.slice(0, -".json".length);
      const checked = await store.check(id, options.contextSize);
      if (!checked) continue;
      store.remember(checked.state, checked.unloadable);
      if (checked.unloadable) options.warn(`Kept the saved conversation state ${id} on disk but will not load it here: ${checked.unloadable}.`);
    }
    // Leftovers of interrupted saves: temp files, and state files whose meta never got written.
    for (const name of names) {
      const id = name.split(".")[0]!;
      if (name.includes(".tmp-") || (name.endsWith(".state") && !store.states.has(id))) await rm(path.join(store.folder, name), { force: true });
    }
    return store;
  }

  /** The context size states are checked against (the sequences' `contextSize`). */
  get contextSize(): number {
    return this.options.contextSize;
  }

  get budgetBytes(): number {
    return this.options.budgetBytes ?? DEFAULT_CACHE_DISK_BUDGET_BYTES;
  }

  get totalBytes(): number {
    let total = 0;
    for (const state of this.states.values()) total += state.bytes;
    return total;
  }

  /** Every state of this model on disk, including those kept but not loadable into this context. */
  list(): SavedState[] {
    return [...this.states.values()];
  }

  get(id: string): SavedState | undefined {
    return this.states.get(id);
  }

  /** Why a state on disk cannot be loaded into this context, or undefined (loadable, or not on disk). */
  unloadableReason(id: string): string | undefined {
    return this.unloadable.get(id);
  }

  /** The conversation's state, if this context can load it. */
  forConversation(conversationId: string): SavedState | undefined {
    const id = stateIdFor(conversationId);
    return this.unloadable.has(id) ? undefined : this.states.get(id);
  }

  private statePath(id: string): string {
    return path.join(this.folder, `${id}.state`);
  }

  private metaPath(id: string): string {
    return path.join(this.folder, `${id}.json`);
  }

  /** Timestamps only order states for LRU eviction; a counter breaks ties within one millisecond. */
  private now(): number {
    this.clock = Math.max(this.clock + 1e-3, Date.now());
    return this.clock;
  }

  private remember(state: SavedState, unloadable?: string): void {
    this.states.set(state.id, state);
    this.index.remove(state.id);
    if (unloadable) this.unloadable.set(state.id, unloadable);
    else {
      this.unloadable.delete(state.id);
      this.index.add(state.id, state.tokens);
    }
    this.clock = Math.max(this.clock, state.lastUsedAt);
  }

  /** Drops a state from memory only (its files stay). */
  private forget(id: string): void {
    this.states.delete(id);
    this.unloadable.delete(id);
    this.index.remove(id);
  }

  /**
   * Whether a state's tokens fit a sequence of `contextSize`: node-llama-cpp keeps one cell free (usableContext),
   * so up to contextSize - 1 tokens. A state saved here can hold no more, and the decode loop always re-evaluates
   * the last prompt token (erasing at least one cell) before it continues, so that is room enough to go on.
   */
  static fits(tokenCount: number, contextSize: number): boolean {
    return tokenCount <= contextSize - 1;
  }

  /** Why a meta is garbage or not this model's (the state is deleted), or undefined. */
  private defect(meta: StateMeta): string | undefined {
    if (meta.modelHash !== this.options.modelHash) return "it was saved by another model";
    if (meta.tokens.length > meta.contextSize) return "its meta records more tokens than its context holds";
    return undefined;
  }

  /** Why a sound state of this model cannot be loaded into a sequence of `contextSize` (it is kept), or undefined. */
  private misfit(meta: StateMeta, contextSize: number): string | undefined {
    const params = this.options.params ?? {};
    const keys = [...new Set([...Object.keys(meta.params), ...Object.keys(params)])].sort();
    const differing = keys.filter((key) => meta.params[key] !== params[key]);
    if (differing.length > 0) {
      const show = (value: unknown) => (value === undefined ? "unset" : String(value));
      return `it was saved with other context parameters (${differing.map((k) => `${k} ${show(meta.params[k])}, here ${show(params[k])}`).join("; ")})`;
    }
    if (!KvStateStore.fits(meta.tokens.length, contextSize)) {
      return `its ${meta.tokens.length} tokens do not fit this context (${contextSize} tokens, of which ${contextSize - 1} usable)`;
    }
    return undefined;
  }

  /** Reads and checks a state's meta and file size; a broken or foreign one is deleted with a warning. */
  private async check(id: string, contextSize: number): Promise<Checked | undefined> {
    let problem: string | undefined;
    let meta: StateMeta | undefined;
    try {
      // A meta holds the state's tokens (about 7 bytes each in JSON): even a million-token context is ~8 MB. A
      // larger file is damaged or crafted, and is never read into memory.
      const metaBytes = (await stat(this.metaPath(id))).size;
      if (metaBytes > MAX_META_BYTES) throw new Error(`${metaBytes} bytes, more than a meta can hold`);
      const raw: unknown = JSON.parse(await readFile(this.metaPath(id), "utf8"));
      const version = (raw as { version?: unknown } | null)?.version;
      const parsed = StateMeta.safeParse(raw);
      if (parsed.success) meta = parsed.data;
      else if (typeof version === "number" && version !== META_VERSION) problem = `it was saved in another format (version ${version}, this is ${META_VERSION})`;
      else problem = "its meta is invalid";
    } catch (error) {
      problem = `its meta is unreadable (${errorText(error)})`;
    }
    if (meta) {
      problem = this.defect(meta);
      if (!problem) {
        const size = await stat(this.statePath(id)).then((s) => s.size, () => -1);
        if (size !== meta.bytes) problem = size < 0 ? "its state file is missing" : `its state file has ${size} bytes, not ${meta.bytes}`;
      }
    }
    if (problem) {
      this.options.warn(`Deleted the saved conversation state ${id}: ${problem}.`);
      await this.remove(id);
      return undefined;
    }
    const state = { ...meta!, id };
    return { state, unloadable: this.misfit(state, contextSize) };
  }

  /** Why the state file's content is not what was saved, or undefined. Trusted files are not read again. */
  private async contentProblem(state: SavedState): Promise<string | undefined> {
    const file = this.statePath(state.id);
    const signature = await fileSignature(file);
    if (signature !== undefined && this.trusted.get(state.id) === signature) return undefined;
    this.trusted.delete(state.id);
    const crc = await fileCrc32(file).catch(() => undefined);
    if (crc === undefined) return "its state file is unreadable";
    if (crc !== state.crc32) return `its state file is corrupt (CRC-32 ${hex(crc)}, saved as ${hex(state.crc32)})`;
    if (signature !== undefined) this.trusted.set(state.id, signature);
    return undefined;
  }

  private async writeMeta(state: SavedState): Promise<void> {
    const { id, ...meta } = state;
    const temp = `${this.metaPath(id)}.tmp-${process.pid}`;
    try {
      await writeFile(temp, JSON.stringify(meta));
      await rename(temp, this.metaPath(id));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Saves the sequence's state for a conversation, replacing its previous one, then evicts least recently used
   * states beyond the disk budget. Never throws: a failed save (a full disk) is a warning, not a failed reply.
   */
  async save(sequence: LlamaContextSequence, conversationId: string): Promise<SavedState | undefined> {
    const tokens = [...sequence.contextTokens];
    if (tokens.length === 0) return undefined;
    const id = stateIdFor(conversationId);
    const temp = `${this.statePath(id)}.tmp-${process.pid}`;
    try {
      // The previous meta goes first: from here until the new meta lands, this id has no committed state.
      await this.remove(id);
      await this.saveState(sequence, temp);
      const bytes = (await stat(temp)).size;
      // Read back while it is still in the page cache: what llama.cpp wrote is what a later load must find.
      const checksum = await fileCrc32(temp);
      await rename(temp, this.statePath(id));
      const signature = await fileSignature(this.statePath(id)); // after the rename, which may change ctime
      const at = this.now();
      const state: SavedState = {
        id,
        version: META_VERSION,
        modelHash: this.options.modelHash,
        contextSize: sequence.contextSize,
        params: this.options.params ?? {},
        tokens,
        sessionKey: conversationId,
        bytes,
        crc32: checksum,
        createdAt: at,
        lastUsedAt: at,
      };
      await this.writeMeta(state);
      if (signature !== undefined) this.trusted.set(id, signature);
      this.remember(state, this.misfit(state, this.options.contextSize));
      await this.enforceBudget();
      return this.states.get(id);
    } catch (error) {
      await rm(temp, { force: true });
      await this.remove(id);
      this.options.warn(`Could not save the conversation state (${errorText(error)}); it will be re-read from its text next time.`);
      return undefined;
    }
  }

  /**
   * Loads a saved state into a sequence after re-checking it against that sequence's actual context size and the
   * file's CRC-32. Returns false when it cannot be used (sequence left empty; a broken state deleted with a
   * warning, one that only does not suit this sequence kept); the caller then evaluates the prompt from scratch.
   */
  async load(id: string, sequence: LlamaContextSequence): Promise<boolean> {
    if (!this.states.has(id)) return false;
    this.forget(id);
    const checked = await this.check(id, sequence.contextSize); // the files may have changed since the folder was opened
    if (!checked) return false;
    const { state, unloadable } = checked;
    if (unloadable) {
      this.remember(state, unloadable);
      this.options.warn(`Did not load the saved conversation state ${id}: ${unloadable}.`);
      return false;
    }
    const problem = await this.contentProblem(state);
    if (problem) {
      this.options.warn(`Deleted the saved conversation state ${id}: ${problem}.`);
      await this.remove(id);
      return false;
    }
    try {
      await sequence.loadStateFromFile(this.statePath(id), { acceptRisk: true });
      const loaded = sequence.contextTokens;
      if (loaded.length !== state.tokens.length || loaded.some((token, i) => token !== state.tokens[i])) {
        throw new Error("the loaded tokens differ from the recorded ones");
      }
    } catch (error) {
      this.options.warn(`Deleted the saved conversation state ${id}: it could not be loaded (${errorText(error)}).`);
      await this.remove(id);
      await sequence.clearHistory();
      return false;
    }
    state.lastUsedAt = this.now();
    this.remember(state);
    await this.writeMeta(state).catch(() => {}); // only the LRU order is lost if this fails
    return true;
  }

  async remove(id: string): Promise<void> {
    this.forget(id);
    this.trusted.delete(id);
    // Meta first: without it the state file is garbage whatever happens next.
    await rm(this.metaPath(id), { force: true });
    await rm(this.statePath(id), { force: true });
  }

  private async enforceBudget(): Promise<void> {
    const byAge = this.list().sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    let total = this.totalBytes;
    for (const state of byAge) {
      if (total <= this.budgetBytes) break;
      await this.remove(state.id);
      total -= state.bytes;
    }
  }

  /** Deletes every saved state of this model (a "clear cache" button). */
  async clear(): Promise<void> {
    for (const id of [...this.states.keys()]) await this.remove(id);
    await rm(this.folder, { recursive: true, force: true });
    await mkdir(this.folder, { recursive: true });
  }
}
