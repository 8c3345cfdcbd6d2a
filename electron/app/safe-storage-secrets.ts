/**
 * The Hugging Face token encrypted with the OS keychain (Electron's safeStorage: Keychain on macOS, DPAPI on Windows,
 * the secret service / kwallet on Linux), stored as `<dataDir>/hf-token.enc` (0600). Where no keychain is available
 * (or Linux would only use its hard-coded "basic_text" password) the plain 0600 file store is used instead, and the
 * status says so. Takes safeStorage as a parameter so tests pass a fake; call it after app 'ready'.
 */
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { FileSecretStore, writePrivateFile, type SecretStore } from "../host/secrets.js";
import type { HfTokenStatus } from "../../contracts/window/index.js";

/** The part of Electron's safeStorage used here. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: which backend encrypts ("basic_text" means a fixed password, i.e. no real protection). */
  getSelectedStorageBackend?(): string;
}

export const HF_TOKEN_ENCRYPTED_FILE = "hf-token.enc";

export class SafeStorageSecretStore implements SecretStore {
  readonly file: string;
  private readonly plain: FileSecretStore;

  constructor(
    dataDir: string,
    private readonly safeStorage: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
    /** Which secret: the Hugging Face token by default; e.g. `remote-key-<id>` for a remote connection's key. */
    name?: string,
  ) {
    this.file = join(dataDir, name ? `${name}.enc` : HF_TOKEN_ENCRYPTED_FILE);
    this.plain = name ? new FileSecretStore(dataDir, name) : new FileSecretStore(dataDir);
  }

  /** Whether the OS keychain can encrypt now. */
  get keychain(): boolean {
    if (!this.safeStorage.isEncryptionAvailable()) return false;
    if (this.platform === "linux" && this.safeStorage.getSelectedStorageBackend?.() === "basic_text") return false;
    return true;
  }

  async get(): Promise<string | null> {
    if (existsSync(this.file) && this.safeStorage.isEncryptionAvailable()) {
      try {
        const token = this.safeStorage.decryptString(await readFile(this.file)).trim();
        if (token) return token;
      } catch {
        // Encrypted by another user or keychain: unreadable, as if unset (setting a new token replaces it).
      }
    }
    return this.plain.get();
  }

  async set(token: string | null): Promise<void> {
    if (token === null) {
      await rm(this.file, { force: true });
      await this.plain.set(null);
      return;
    }
    if (this.keychain) {
      await writePrivateFile(this.file, this.safeStorage.encryptString(token.trim()));
      await this.plain.set(null); // no plain copy next to the encrypted one
    } else {
      await this.plain.set(token);
      await rm(this.file, { force: true });
    }
  }

  status(): HfTokenStatus {
    if (existsSync(this.file)) return { set: true, storage: "keychain" };
    return this.plain.status();
  }
}
