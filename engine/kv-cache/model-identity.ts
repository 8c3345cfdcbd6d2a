import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The identity of a model file: SHA-256 of the whole GGUF.
 *
 * Why the content and not the path: a saved KV state is only meaningful for the exact weights that produced it, and
 * loading a foreign state can crash llama.cpp. A path can be reused by another file (a re-download, a renamed
 * quant), so states are keyed by content. Hashing a multi-GB file takes seconds, so the hash is computed once and
 * cached by absolute path + size + mtime (the same pattern as the thread calibration cache).
 */

const CACHE_FILE = "model-hashes-v1.json";

type HashCache = Record<string, string>;

async function readCache(file: string): Promise<HashCache> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    const cache: HashCache = {};
    for (const [key, value] of Object.entries(parsed)) if (typeof value === "string" && /^[0-9a-f]{64}$/.test(value)) cache[key] = value;
    return cache;
  } catch {
    return {}; // missing or corrupt: hash again
  }
}

export async function hashFile(filePath: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(filePath, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function modelContentHash(modelPath: string, cacheDir: string): Promise<string> {
  const absolute = path.resolve(modelPath);
  const info = await stat(absolute);
  const key = [absolute, info.size, info.mtimeMs].join("|");
  const cacheFile = path.join(cacheDir, CACHE_FILE);
  const cached = (await readCache(cacheFile))[key];
  if (cached) return cached;

  const digest = await hashFile(absolute);
  try {
    await mkdir(cacheDir, { recursive: true });
    const cache = await readCache(cacheFile); // re-read: another load may have added entries meanwhile
    cache[key] = digest;
    const temp = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(cache, null, 2));
    await rename(temp, cacheFile);
  } catch {
    // A read-only or full disk only costs hashing again next time.
  }
  return digest;
}

/** The cached content hash of a model file (same key as modelContentHash), or null when it was never hashed. */
export async function cachedModelContentHash(modelPath: string, cacheDir: string): Promise<string | null> {
  const absolute = path.resolve(modelPath);
  const info = await stat(absolute);
  const key = [absolute, info.size, info.mtimeMs].join("|");
  return (await readCache(path.join(cacheDir, CACHE_FILE)))[key] ?? null;
}
