/**
 * Where the Hugging Face token is kept. The host only sees a `SecretStore`: in the app an OS-keychain one
 * (electron/app/safe-storage-secrets.ts), elsewhere a 0600 file in the data directory. `$HF_TOKEN` is the fallback
 * when nothing is stored. The token is read at request time (never cached by callers) and never sent to the window.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HfTokenStatus } from "../../contracts/window/index.js";

export interface SecretStore {
  /** The stored token, or null. */
  get(): Promise<string | null>;
  /** Stores the token (null removes it). */
  set(token: string | null): Promise<void>;
  /** Whether a token is stored and where (never the token). */
  status(): HfTokenStatus;
}

export const HF_TOKEN_FILE = "hf-token";

/** Writes `data` to `file` with mode 0600: a temp file in the same folder, then a rename (never a partial file). */
export async function writePrivateFile(file: string, data: string | Buffer): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(temp, data, { mode: 0o600, flag: "wx" });
    await chmod(temp, 0o600); // the umask may have narrowed it, never widened; make it exact
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** The token in a plain file readable by its owner only (`<dataDir>/hf-token`, mode 0600). */
export class FileSecretStore implements SecretStore {
  readonly file: string;

  constructor(dataDir: string, fileName = HF_TOKEN_FILE) {
    this.file = join(dataDir, fileName);
  }

  async get(): Promise<string | null> {
    try {
      const token = (await readFile(this.file, "utf8")).trim();
      return token || null;
    } catch {
      return null;
    }
  }

  async set(token: string | null): Promise<void> {
    if (token === null) await rm(this.file, { force: true });
    else await writePrivateFile(this.file, token.trim());
  }

  status(): HfTokenStatus {
    return existsSync(this.file) ? { set: true, storage: "file" } : { set: false, storage: "none" };
  }
}

/** `inner`, falling back to $HF_TOKEN (storage "env") while nothing is stored. */
export function withEnvFallback(inner: SecretStore, env: NodeJS.ProcessEnv): SecretStore {
  const fromEnv = () => env.HF_TOKEN?.trim() || null;
  return {
    async get() {
      return (await inner.get()) ?? fromEnv();
    },
    set: (token) => inner.set(token),
    status() {
      const stored = inner.status();
      if (stored.set) return stored;
      return fromEnv() ? { set: true, storage: "env" } : { set: false, storage: "none" };
    },
  };
}
