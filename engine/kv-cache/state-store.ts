import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LlamaContextSequence } from "node-llama-cpp";
import { z } from "zod";
import { PrefixIndex } from "./prefix-index.js";

/**
 * Saved KV states of one model on disk: `<cacheDir>/kv/<first 16 hex of the model hash>/`.
 *
 * A state is `<id>.state` (llama.cpp's sequence state file) plus `<id>.json` (its meta). The meta is written last,
 * to a temp name then renamed: it is the commit marker, so a state without a valid meta is an interrupted save and
 * garbage. node-llama-cpp warns that loading a state made by another model may crash the process, so nothing is
 * loaded unless its meta names this exact model (content hash) and compatible context parameters, and the state
 * file has exactly the recorded size; anything else is deleted with a warning (the caller re-prefills instead).
 * One state per conversation (the id derives from the session key): a newer save replaces the older one.
 */

export const META_VERSION = 1;
export const DEFAULT_DISK_BUDGET_BYTES = 2 * 1024 ** 3;

/** Context parameters that must be equal for a state to load (they change the KV layout or its meaning). */
export type StateParams = Record<string, string | number | boolean>;

const StateMeta = z.object({
  version: z.literal(META_VERSION),
  modelHash: z.string().regex(/^[0-9a-f]{64}$/),
  contextSize: z.number().int().positive(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  tokens: z.array(z.number().int().nonnegative()),
  sessionKey: z.string().min(1),
  bytes: z.number().int().positive(),
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
  /** The context size of the sequences states will be loaded into. */
  contextSize: number;
  params?: StateParams;
  budgetBytes?: number;
  warn(message: string): void;
  saveState?: StateSaver;
}

export function stateIdFor(sessionKey: string): string {
  return createHash("sha256").update(sessionKey).digest("hex").slice(0, 32);
}

export function storeFolder(cacheDir: string, modelHash: string): string {
  return path.join(cacheDir, "kv", modelHash.slice(0, 16));
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class KvStateStore {
  /** Block index of what is on disk, kept in step with every save and delete. */
  readonly index = new PrefixIndex();
  readonly folder: string;
  private readonly states = new Map<string, SavedState>();
  private readonly saveState: StateSaver;
  private clock = 0;

  private constructor(private readonly options: KvStateStoreOptions) {
    this.folder = storeFolder(options.cacheDir, options.modelHash);
    this.saveState = options.saveState ?? (async (sequence, filePath) => void (await sequence.saveStateToFile(filePath)));
  }

  /** Opens the folder and validates every saved state (survives restarts); invalid ones are deleted. */
  static async open(options: KvStateStoreOptions): Promise<KvStateStore> {
    const store = new KvStateStore(options);
    await mkdir(store.folder, { recursive: true });
    const names = await readdir(store.folder);
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const id = name.slice(0, -".json".length);
      const state = await store.readValid(id);
      if (state) store.remember(state);
    }
    // Leftovers of interrupted saves: temp files, and state files whose meta never got written.
    for (const name of names) {
      const id = name.split(".")[0]!;
      if (name.includes(".tmp-") || (name.endsWith(".state") && !store.states.has(id))) await rm(path.join(store.folder, name), { force: true });
    }
    return store;
  }

  get budgetBytes(): number {
    return this.options.budgetBytes ?? DEFAULT_DISK_BUDGET_BYTES;
  }

  get totalBytes(): number {
    let total = 0;
    for (const state of this.states.values()) total += state.bytes;
    return total;
  }

  list(): SavedState[] {
    return [...this.states.values()];
  }

  get(id: string): SavedState | undefined {
    return this.states.get(id);
  }

  forSession(sessionKey: string): SavedState | undefined {
    return this.states.get(stateIdFor(sessionKey));
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

  private remember(state: SavedState): void {
    this.states.set(state.id, state);
    this.index.add(state.id, state.tokens);
    this.clock = Math.max(this.clock, state.lastUsedAt);
  }

  /** Why a meta may not be loaded here, or undefined when it may. */
  private incompatibility(meta: StateMeta): string | undefined {
    if (meta.modelHash !== this.options.modelHash) return "it was saved by another model";
    if (meta.contextSize > this.options.contextSize) return `its context (${meta.contextSize}) is larger than this one (${this.options.contextSize})`;
    if (JSON.stringify(meta.params) !== JSON.stringify(this.options.params ?? {})) return "it was saved with other context parameters";
    if (meta.tokens.length > meta.contextSize) return "it holds more tokens than its context";
    return undefined;
  }

  /** Reads and checks a state; an invalid one is deleted with a warning. */
  private async readValid(id: string): Promise<SavedState | undefined> {
    let problem: string | undefined;
    let meta: StateMeta | undefined;
    try {
      const parsed = StateMeta.safeParse(JSON.parse(await readFile(this.metaPath(id), "utf8")));
      if (parsed.success) meta = parsed.data;
      else problem = "its meta is invalid";
    } catch (error) {
      problem = `its meta is unreadable (${errorText(error)})`;
    }
    if (meta) {
      problem = this.incompatibility(meta);
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
    return { ...meta!, id };
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
  async save(sequence: LlamaContextSequence, sessionKey: string): Promise<SavedState | undefined> {
    const tokens = [...sequence.contextTokens];
    if (tokens.length === 0) return undefined;
    const id = stateIdFor(sessionKey);
    const temp = `${this.statePath(id)}.tmp-${process.pid}`;
    try {
      // The previous meta goes first: from here until the new meta lands, this id has no committed state.
      await this.remove(id);
      await this.saveState(sequence, temp);
      const bytes = (await stat(temp)).size;
      await rename(temp, this.statePath(id));
      const at = this.now();
      const state: SavedState = {
        id,
        version: META_VERSION,
        modelHash: this.options.modelHash,
        contextSize: sequence.contextSize,
        params: this.options.params ?? {},
        tokens,
        sessionKey,
        bytes,
        createdAt: at,
        lastUsedAt: at,
      };
      await this.writeMeta(state);
      this.remember(state);
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
   * Loads a saved state into a sequence after re-checking it. Returns false (state deleted, warning given, sequence
   * left empty) when it cannot be used; the caller then evaluates the prompt from scratch.
   */
  async load(id: string, sequence: LlamaContextSequence): Promise<boolean> {
    const known = this.states.get(id);
    if (!known) return false;
    this.states.delete(id);
    this.index.remove(id);
    const state = await this.readValid(id); // the files may have changed since the folder was opened
    if (!state) return false;
    if (state.contextSize > sequence.contextSize) {
      this.options.warn(`Deleted the saved conversation state ${id}: its context is larger than the sequence's.`);
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
    this.states.delete(id);
    this.index.remove(id);
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
