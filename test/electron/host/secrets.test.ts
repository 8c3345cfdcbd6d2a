import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSecretStore, withEnvFallback } from "../../../electron/host/secrets.js";

const dir = () => join(mkdtempSync(join(tmpdir(), "tandem-secrets-")), "data");

describe("FileSecretStore", () => {
  it("writes the token to a 0600 file (creating the folder), with no temp file left", async () => {
    const dataDir = dir();
    const store = new FileSecretStore(dataDir);
    expect(store.status()).toEqual({ set: false, storage: "none" });
    expect(await store.get()).toBeNull();
    await store.set("hf_abc");
    expect(store.status()).toEqual({ set: true, storage: "file" });
    expect(await store.get()).toBe("hf_abc");
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual(["hf-token"]);
    await store.set("hf_replaced");
    expect(readFileSync(store.file, "utf8")).toBe("hf_replaced");
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    await store.set(null);
    expect(existsSync(store.file)).toBe(false);
    expect(store.status()).toEqual({ set: false, storage: "none" });
    await store.set(null); // removing twice is fine
  });
});

describe("withEnvFallback", () => {
  it("uses $HF_TOKEN only while nothing is stored", async () => {
    const store = withEnvFallback(new FileSecretStore(dir()), { HF_TOKEN: " hf_env " });
    expect(store.status()).toEqual({ set: true, storage: "env" });
    expect(await store.get()).toBe("hf_env");
    await store.set("hf_stored");
    expect(store.status()).toEqual({ set: true, storage: "file" });
    expect(await store.get()).toBe("hf_stored");
    await store.set(null);
    expect(await store.get()).toBe("hf_env");
    const none = withEnvFallback(new FileSecretStore(dir()), { HF_TOKEN: "" });
    expect(none.status()).toEqual({ set: false, storage: "none" });
    expect(await none.get()).toBeNull();
  });
});
