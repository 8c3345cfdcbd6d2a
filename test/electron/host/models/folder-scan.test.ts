import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listModelFiles, validateModelFile, validateModelsFolder } from "../../../../electron/host/models/folder-scan.js";
import { apiError } from "../api-error.js";

function folderWithModels(): string {
  const folder = mkdtempSync(join(tmpdir(), "tandem-models-test-"));
  writeFileSync(join(folder, "b-model.gguf"), Buffer.alloc(1234));
  writeFileSync(join(folder, "A-Model.GGUF"), Buffer.alloc(10));
  writeFileSync(join(folder, "notes.txt"), "not a model");
  mkdirSync(join(folder, "folder.gguf"));
  mkdirSync(join(folder, "nested"));
  writeFileSync(join(folder, "nested", "deep.gguf"), "x");
  utimesSync(join(folder, "b-model.gguf"), new Date(1_700_000_000_000), new Date(1_700_000_000_000));
  return folder;
}

describe("listModelFiles", () => {
  it("lists the GGUF files directly in the folder with size and mtime", async () => {
    const folder = folderWithModels();
    const models = await listModelFiles(folder);
    expect(models.map((m) => m.name)).toEqual(["A-Model.GGUF", "b-model.gguf"]);
    expect(models[1]).toEqual({ path: join(folder, "b-model.gguf"), name: "b-model.gguf", sizeBytes: 1234, modifiedAt: 1_700_000_000_000 });
  });

  it("gives an empty list for a missing folder", async () => {
    expect(await listModelFiles(join(tmpdir(), "tandem-no-such-folder", "models"))).toEqual([]);
  });
});

describe("validateModelsFolder", () => {
  it("accepts an existing directory and returns it absolute", async () => {
    const folder = folderWithModels();
    expect(await validateModelsFolder(`  ${folder}  `)).toBe(folder);
  });

  it("rejects a missing path and a file with clear messages", async () => {
    const folder = folderWithModels();
    const missing = await apiError(validateModelsFolder(join(folder, "nope")));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toMatch(/does not exist/);
    const file = await apiError(validateModelsFolder(join(folder, "notes.txt")));
    expect(file.code).toBe("BAD_REQUEST");
    expect(file.message).toMatch(/is a file, not a folder/);
  });
});

describe("validateModelFile", () => {
  it("accepts a file and rejects a folder or a missing path", async () => {
    const folder = folderWithModels();
    expect(await validateModelFile(join(folder, "b-model.gguf"))).toBe(join(folder, "b-model.gguf"));
    expect((await apiError(validateModelFile(join(folder, "folder.gguf")))).code).toBe("MODEL_NOT_FOUND");
    expect((await apiError(validateModelFile(join(folder, "missing.gguf")))).code).toBe("MODEL_NOT_FOUND");
  });
});
