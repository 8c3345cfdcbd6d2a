import { copyFileSync, mkdtempSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GgufFactsCache } from "../../../../electron/host/models/gguf-facts-cache.js";
import { sharedModel } from "../../../helpers/models.js";

describe("GgufFactsCache", () => {
  it("reads a file's header once until its size or modification time changes", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tandem-library-"));
    const model = join(folder, "a.gguf");
    copyFileSync(sharedModel("kjv-chat-draft-1m.gguf"), model);
    writeFileSync(join(folder, "b.gguf"), "text");
    const library = new GgufFactsCache();
    await library.list(folder);
    expect(library.reads).toBe(2);
    await library.list(folder);
    expect(library.reads).toBe(2);
    utimesSync(model, new Date(), new Date(Date.now() + 5000));
    expect((await library.list(folder))[0].parameters).toBe(920_192);
    expect(library.reads).toBe(3);
    unlinkSync(model);
    expect((await library.list(folder)).map((m) => m.name)).toEqual(["b.gguf"]);
  });

  it("folds a split set into its first part, with the total size and the missing parts", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tandem-library-split-"));
    const bytes = readFileSync(sharedModel("kjv-chat-6m.gguf"));
    const half = Math.floor(bytes.length / 2);
    writeFileSync(join(folder, "kjv-00001-of-00002.gguf"), bytes.subarray(0, half));
    writeFileSync(join(folder, "kjv-00002-of-00002.gguf"), bytes.subarray(half));
    writeFileSync(join(folder, "lone-00001-of-00002.gguf"), bytes.subarray(0, half));
    const models = await new GgufFactsCache().list(folder);
    expect(models.map((m) => m.name)).toEqual(["kjv-00001-of-00002.gguf", "lone-00001-of-00002.gguf"]);
    expect(models[0]).toMatchObject({ sizeBytes: bytes.length, splitParts: 2, missingParts: [], architecture: "llama" });
    expect(models[1]).toMatchObject({ sizeBytes: half, missingParts: ["lone-00002-of-00002.gguf"] });
  });
});
