import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SafeStorageSecretStore } from "../../../electron/app/safe-storage-secrets.js";
import { FakeSafeStorage } from "../../fakes/electron.js";

const dir = () => mkdtempSync(join(tmpdir(), "tandem-safe-storage-"));

describe("SafeStorageSecretStore", () => {
  it("stores the token encrypted with the keychain (bytes on disk are not the token), 0600", async () => {
    const dataDir = dir();
    const safeStorage = new FakeSafeStorage();
    const store = new SafeStorageSecretStore(dataDir, safeStorage, "linux");
    await store.set("hf_keychain_token");
    expect(store.status()).toEqual({ set: true, storage: "keychain" });
    const bytes = readFileSync(join(dataDir, "hf-token.enc"));
    expect(bytes.includes(Buffer.from("hf_keychain_token"))).toBe(false);
    expect(safeStorage.decryptString(bytes)).toBe("hf_keychain_token");
    expect(statSync(join(dataDir, "hf-token.enc")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, "hf-token"))).toBe(false);
    expect(await store.get()).toBe("hf_keychain_token");
    await store.set(null);
    expect(existsSync(join(dataDir, "hf-token.enc"))).toBe(false);
    expect(store.status()).toEqual({ set: false, storage: "none" });
    expect(await store.get()).toBeNull();
  });

  it("falls back to the 0600 file when encryption is unavailable or only basic_text on Linux", async () => {
    for (const setup of [(s: FakeSafeStorage) => (s.available = false), (s: FakeSafeStorage) => (s.backend = "basic_text")]) {
      const dataDir = dir();
      const safeStorage = new FakeSafeStorage();
      setup(safeStorage);
      const store = new SafeStorageSecretStore(dataDir, safeStorage, "linux");
      await store.set("hf_plain");
      expect(store.status()).toEqual({ set: true, storage: "file" });
      expect(readFileSync(join(dataDir, "hf-token"), "utf8")).toBe("hf_plain");
      expect(existsSync(join(dataDir, "hf-token.enc"))).toBe(false);
      expect(await store.get()).toBe("hf_plain");
    }
  });

  it("moving to the keychain removes the plain copy; an undecryptable file reads as unset", async () => {
    const dataDir = dir();
    const safeStorage = new FakeSafeStorage();
    safeStorage.available = false;
    const store = new SafeStorageSecretStore(dataDir, safeStorage, "darwin");
    await store.set("hf_first");
    safeStorage.available = true;
    await store.set("hf_second");
    expect(existsSync(join(dataDir, "hf-token"))).toBe(false);
    expect(await store.get()).toBe("hf_second");
    writeFileSync(join(dataDir, "hf-token.enc"), "garbage from another keychain");
    expect(await store.get()).toBeNull();
  });
});
