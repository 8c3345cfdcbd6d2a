/**
 * The layout of the engine's cache folder (`<data>/cache`), owned here and nowhere else: the host asks for a model
 * file's cache entries (to delete them with the model) instead of knowing where KV states and n-gram tables live.
 *
 * - `kv/<first 16 hex of the model's content hash>/`: saved conversation states (kv-cache/state-store.ts);
 * - `ngram/<24 hex of sha256(model path | size)>.json`: the learned n-gram table (speculation/ngram-table.ts);
 * - `model-hashes.json`, thread calibration: small files beside them (kv-cache/model-identity.ts, threads.ts).
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { cachedModelContentHash } from "./kv-cache/model-identity.js";

/** Where every model's saved conversation states live. */
export function kvRoot(cacheDir: string): string {
  return path.join(cacheDir, "kv");
}

/** The folder of one model's saved conversation states. */
export function storeFolder(cacheDir: string, modelHash: string): string {
  return path.join(kvRoot(cacheDir), modelHash.slice(0, 16));
}

/** The learned n-gram table of one model file (of this size). */
export function ngramTablePath(cacheDir: string, modelPath: string, size: number): string {
  const id = createHash("sha256").update(`${path.resolve(modelPath)}|${size}`).digest("hex").slice(0, 24);
  return path.join(cacheDir, "ngram", `${id}.json`);
}

/**
 * What the engine keeps in the cache for one model file of `size` bytes: its n-gram table and, when the file was
 * ever hashed, its folder of saved states. Paths that may not exist; deleting them deletes what was learned.
 */
export async function modelCacheEntries(cacheDir: string, modelPath: string, size: number): Promise<string[]> {
  const entries = [ngramTablePath(cacheDir, modelPath, size)];
  const hash = await cachedModelContentHash(modelPath, cacheDir).catch(() => null);
  if (hash) entries.push(storeFolder(cacheDir, hash));
  return entries;
}
