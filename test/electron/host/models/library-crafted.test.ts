/**
 * Crafted GGUF headers in the library: the 149-byte file that used to abort the whole host on listModels (every
 * launch, once dropped in the models folder) is listed with its one-line error next to the real model, and import
 * refuses it. A file whose reader throws something odd fails only that file.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { targetModel } from "../../../helpers/models.js";
import { CRAFTED, hugeArray } from "../../../engine/gguf/crafted.js";
import { writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

let entry: string;
const hosts: Host[] = [];

beforeAll(() => {
  entry = writeFakeEngine();
});
afterEach(async () => {
  vi.doUnmock("../../../../engine/gguf/inspect.js");
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function makeHost() {
  const root = mkdtempSync(join(tmpdir(), "tandem-library-crafted-"));
  const dataDir = join(root, "data");
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
    { logger: recordingLogger(), env: { PATH: process.env.PATH }, watchDebounceMs: 50, supervisorTiming: { pingIntervalMs: 0, stopTimeoutMs: 500 } },
  );
  hosts.push(host);
  const models = join(dataDir, "models");
  mkdirSync(models, { recursive: true });
  return { host, root, models };
}

describe("a crafted GGUF in the models folder", () => {
  it("is listed with its one-line error next to the real model, and the listing stays quick", async () => {
    const { host, models } = makeHost();
    copyFileSync(targetModel(), join(models, "kjv.gguf"));
    writeFileSync(join(models, "crafted.gguf"), hugeArray());
    const started = performance.now();
    const listing = await host.api.listModels({});
    expect(performance.now() - started).toBeLessThan(5_000);
    const byName = new Map(listing.models.map((m) => [m.name, m]));
    expect([...byName.keys()].sort()).toEqual(["crafted.gguf", "kjv.gguf"]);
    expect(byName.get("kjv.gguf")).toMatchObject({ architecture: "llama", vocabSize: 2048 });
    expect(byName.get("kjv.gguf")?.error).toBeUndefined();
    expect(byName.get("crafted.gguf")?.error).toBe(
      "crafted.gguf is not a valid GGUF model: its header declares 2305843009213693952 array elements at byte 41, more than the 100 bytes that follow",
    );
    // And again (the cache), still with both.
    expect((await host.api.listModels({})).models.map((m) => m.name).sort()).toEqual(["crafted.gguf", "kjv.gguf"]);
  });

  it("lists every crafted header with an error of its own", async () => {
    const { host, models } = makeHost();
    copyFileSync(targetModel(), join(models, "kjv.gguf"));
    for (const [name, make] of CRAFTED) writeFileSync(join(models, name), make());
    const listing = await host.api.listModels({});
    for (const [name] of CRAFTED) {
      const model = listing.models.find((m) => m.name === name);
      expect([name, model?.error]).toEqual([name, expect.stringMatching(new RegExp(`^${name.replace(/\./g, "\\.")} is not a valid GGUF model: [^\\n]+$`))]);
    }
    expect(listing.models.find((m) => m.name === "kjv.gguf")?.error).toBeUndefined();
  });

  it("is refused by import with NOT_GGUF and nothing is left in the folder", async () => {
    const { host, root, models } = makeHost();
    const source = join(root, "crafted.gguf");
    writeFileSync(source, hugeArray());
    await expect(host.api.importModel({ path: source, mode: "copy" })).rejects.toMatchObject({
      code: "NOT_GGUF",
      message: expect.stringMatching(/crafted\.gguf is not a valid GGUF model: its header declares 2305843009213693952 array elements/),
    });
    expect(readdirSync(models)).toEqual([]);
  });
});

describe("GgufFactsCache with a reader that throws oddly", () => {
  it("keeps the other files when one file's reader throws a non-Error or a value that cannot become a string", async () => {
    vi.resetModules();
    const odd = [Object.create(null) as object, { toString: () => { throw new Error("no"); } }, "plain text\nsecond line", 42];
    let call = 0;
    vi.doMock("../../../../engine/gguf/inspect.js", async (importOriginal) => {
      const original = await importOriginal<typeof import("../../../../engine/gguf/inspect.js")>();
      return {
        ...original,
        inspectGgufWithTokenizer: async (path: string) => {
          if (path.endsWith("kjv.gguf")) return original.inspectGgufWithTokenizer(path);
          throw odd[call++ % odd.length];
        },
      };
    });
    const { GgufFactsCache } = await import("../../../../electron/host/models/gguf-facts-cache.js");
    const folder = mkdtempSync(join(tmpdir(), "tandem-library-odd-"));
    copyFileSync(targetModel(), join(folder, "kjv.gguf"));
    for (let i = 0; i < odd.length; i++) writeFileSync(join(folder, `odd-${i}.gguf`), Buffer.from("GGUF"));
    const listed = await new GgufFactsCache().list(folder);
    expect(listed.find((m) => m.name === "kjv.gguf")).toMatchObject({ architecture: "llama" });
    const errors = listed.filter((m) => m.name.startsWith("odd-")).map((m) => m.error);
    expect(errors).toHaveLength(odd.length);
    for (const error of errors) {
      expect(typeof error).toBe("string");
      expect(error).not.toContain("\n");
    }
    expect(errors).toContain("plain text");
    expect(errors).toContain("42");
    expect(errors.filter((e) => e === "This file cannot be read.")).toHaveLength(2);
  });
});
