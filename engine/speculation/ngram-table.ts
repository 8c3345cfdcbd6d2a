import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Token } from "node-llama-cpp";
import { ngramTablePath } from "../cache-layout.js";

/**
 * A table of what the model wrote after each short context (1 to `order` tokens), learned from its own replies.
 *
 * Why: many replies repeat the model's own habits (phrasings, formatting, code idioms); a table of its past
 * continuations predicts them for free. It is our stand-in for IBM's trained speculator heads, which need hidden
 * states that node-llama-cpp does not expose.
 *
 * Bounded: past `maxContexts` entries the least useful (seen once, oldest first) are dropped. Persisted per model
 * file in a versioned JSON file, written to a temp name and renamed.
 */
export const NGRAM_FILE_VERSION = 1;
/** Longest context a table learns (the default is 3); a file claiming more is damaged. */
const MAX_ORDER = 16;

interface NgramFile {
  version: number;
  model: { path: string; size: number };
  order: number;
  entries: Array<[string, Array<[number, number]>]>;
}

export interface NgramTableOptions {
  order?: number;
  maxContexts?: number;
  /** A continuation is proposed only when seen at least this often… */
  minCount?: number;
  /** …and makes up at least this share of what followed the context. */
  minShare?: number;
}

export class NgramTable {
  readonly order: number;
  private readonly maxContexts: number;
  private readonly minCount: number;
  private readonly minShare: number;
  /** context key -> (next token -> count) */
  private contexts = new Map<string, Map<number, number>>();

  constructor(options: NgramTableOptions = {}) {
    this.order = options.order ?? 3;
    this.maxContexts = options.maxContexts ?? 200_000;
    this.minCount = options.minCount ?? 2;
    this.minShare = options.minShare ?? 0.5;
  }

  get size(): number {
    return this.contexts.size;
  }

  /** Learns every (context -> next) pair in `tokens[from..]`, with contexts reaching back before `from`. */
  learn(tokens: readonly Token[], from = 0): void {
    for (let i = Math.max(1, from); i < tokens.length; i++) {
      const next = tokens[i]!;
      for (let n = 1; n <= this.order && n <= i; n++) {
        const key = tokens.slice(i - n, i).join(",");
        let counts = this.contexts.get(key);
        if (!counts) {
          counts = new Map();
          this.contexts.set(key, counts);
        } else {
          // Re-insert so Map order approximates recency (oldest first) for pruning.
          this.contexts.delete(key);
          this.contexts.set(key, counts);
        }
        counts.set(next, (counts.get(next) ?? 0) + 1);
      }
    }
    if (this.contexts.size > this.maxContexts) this.prune();
  }

  private prune(): void {
    const target = Math.floor(this.maxContexts * 0.9);
    // First the contexts seen once (oldest first), then anything oldest first.
    for (const [key, counts] of this.contexts) {
      if (this.contexts.size <= target) return;
      if (counts.size === 1 && counts.values().next().value === 1) this.contexts.delete(key);
    }
    for (const key of this.contexts.keys()) {
      if (this.contexts.size <= target) return;
      this.contexts.delete(key);
    }
  }

  /** The confident continuation of `history`, longest context first; null when nothing is confident. */
  predict(history: readonly Token[]): Token | null {
    for (let n = Math.min(this.order, history.length); n >= 1; n--) {
      const counts = this.contexts.get(history.slice(history.length - n).join(","));
      if (!counts) continue;
      let best = -1;
      let bestCount = 0;
      let total = 0;
      for (const [token, count] of counts) {
        total += count;
        if (count > bestCount) {
          best = token;
          bestCount = count;
        }
      }
      if (bestCount >= this.minCount && bestCount / total >= this.minShare) return best as Token;
    }
    return null;
  }

  toJSON(model: { path: string; size: number }): NgramFile {
    return {
      version: NGRAM_FILE_VERSION,
      model,
      order: this.order,
      entries: [...this.contexts].map(([key, counts]) => [key, [...counts]]),
    };
  }

  static fromJSON(data: unknown, options: NgramTableOptions, model: { path: string; size: number }): NgramTable {
    const file = data as Partial<NgramFile> | null;
    if (!file || file.version !== NGRAM_FILE_VERSION) throw new Error(`unsupported n-gram table version ${String(file?.version)}`);
    if (file.model?.path !== model.path || file.model.size !== model.size) throw new Error("the n-gram table belongs to another model file");
    if (!Array.isArray(file.entries)) throw new Error("the n-gram table has no entries");
    // The order comes from the file: learn() builds up to `order` keys per token, each up to `order` tokens long,
    // so a damaged value (say 100000) would turn one reply into gigabytes of keys.
    if (file.order !== undefined && (!Number.isInteger(file.order) || file.order < 1 || file.order > MAX_ORDER)) {
      throw new Error(`the n-gram table's order ${String(file.order)} is not from 1 to ${MAX_ORDER}`);
    }
    const table = new NgramTable({ ...options, order: file.order ?? options.order });
    for (const entry of file.entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) throw new Error("malformed n-gram entry");
      const counts = new Map<number, number>();
      for (const pair of entry[1]) {
        if (!Array.isArray(pair) || !Number.isInteger(pair[0]) || !Number.isInteger(pair[1]) || pair[1] < 1) throw new Error("malformed n-gram count");
        counts.set(pair[0], pair[1]);
      }
      table.contexts.set(entry[0], counts);
    }
    return table;
  }
}

/** Where a model file's table lives: one file per model (path + size identify it). */
export async function loadNgramTable(
  cacheDir: string,
  modelPath: string,
  options: NgramTableOptions,
  warn: (message: string) => void,
): Promise<NgramTable> {
  const { size } = await stat(modelPath);
  const file = ngramTablePath(cacheDir, modelPath, size);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return new NgramTable(options); // none yet
  }
  try {
    return NgramTable.fromJSON(JSON.parse(text), options, { path: path.resolve(modelPath), size });
  } catch (error) {
    warn(`The learned n-gram table for ${path.basename(modelPath)} was unreadable (${error instanceof Error ? error.message : String(error)}); starting a new one`);
    return new NgramTable(options);
  }
}

export async function saveNgramTable(cacheDir: string, modelPath: string, table: NgramTable): Promise<void> {
  const { size } = await stat(modelPath);
  const file = ngramTablePath(cacheDir, modelPath, size);
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(table.toJSON({ path: path.resolve(modelPath), size })));
  await rename(temp, file);
}
