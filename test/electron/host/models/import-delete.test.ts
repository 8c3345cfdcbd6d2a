import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deleteModelFile, IMPORT_TEMP_STALE_MS, importModelFile, importTempName, removeImportLeftovers } from "../../../../electron/host/models/import-delete.js";
import { GgufFactsCache } from "../../../../electron/host/models/gguf-facts-cache.js";
import { modelContentHash } from "../../../../engine/kv-cache/model-identity.js";
import { ngramTablePath, storeFolder } from "../../../../engine/cache-layout.js";
import { sharedModel } from "../../../helpers/models.js";
import { apiError } from "../api-error.js";

const draft = () => sharedModel("kjv-chat-draft-1m.gguf");

function dirs(): { src: string; models: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), "tandem-model-files-"));
  const src = join(root, "src");
  mkdirSync(src);
  return { src, models: join(root, "models"), cache: join(root, "cache") };
}

describe("importModelFile", () => {
  it("copies a GGUF into the folder (creating it), and a name clash gets ' (2)'", async () => {
    const { models } = dirs();
    const first = await importModelFile(draft(), models, "copy");
    expect(first).toEqual({ path: join(models, "kjv-chat-draft-1m.gguf"), method: "copied" });
    expect(readFileSync(first.path).equals(readFileSync(draft()))).toBe(true);
    const second = await importModelFile(draft(), models, "copy");
    expect(second.path).toBe(join(models, "kjv-chat-draft-1m (2).gguf"));
    const listed = await new GgufFactsCache().list(models);
    expect(listed.map((m) => [m.name, m.architecture])).toEqual([
      ["kjv-chat-draft-1m (2).gguf", "llama"],
      ["kjv-chat-draft-1m.gguf", "llama"],
    ]);
    expect(readdirSync(models)).toHaveLength(2); // no temp files left
  });

  it("hard-links on the same device, and says so", async () => {
    const { src, models } = dirs();
    const source = join(src, "a.gguf");
    writeFileSync(source, readFileSync(draft()));
    const result = await importModelFile(source, models, "link");
    expect(result.method).toBe("linked");
    expect(statSync(result.path).ino).toBe(statSync(source).ino);
  });

  it("refuses a text file, a truncated GGUF and a missing file with a one-line reason", async () => {
    const { src, models } = dirs();
    writeFileSync(join(src, "notes.gguf"), "just some text, not a model\n");
    const text = await apiError(importModelFile(join(src, "notes.gguf"), models, "copy"));
    expect(text.code).toBe("NOT_GGUF");
    expect(text.message).not.toContain("\n");
    writeFileSync(join(src, "cut.gguf"), readFileSync(draft()).subarray(0, 200_000));
    const cut = await apiError(importModelFile(join(src, "cut.gguf"), models, "copy"));
    expect(cut.code).toBe("NOT_GGUF");
    expect(cut.message).toMatch(/truncat/i);
    expect((await apiError(importModelFile(join(src, "none.gguf"), models, "copy"))).code).toBe("MODEL_NOT_FOUND");
    expect(existsSync(models)).toBe(false);
  });

  it("a failure mid-copy leaves nothing in the folder; a full disk is DISK_FULL in plain words", async () => {
    const { models } = dirs();
    mkdirSync(models);
    const failingWith = (code: string, message: string) => ({
      onCopyProgress: (bytes: number) => {
        if (bytes > 0) throw Object.assign(new Error(message), { code });
      },
    });
    const full = await apiError(importModelFile(draft(), models, "copy", failingWith("ENOSPC", "ENOSPC: no space left on device, write")));
    expect(full.code).toBe("DISK_FULL");
    expect(full.message).toBe('The disk is full: free some space and try again. (Tandem was writing "kjv-chat-draft-1m.gguf".)');
    expect(readdirSync(models)).toEqual([]);
    const io = await apiError(importModelFile(draft(), models, "copy", failingWith("EIO", "EIO: i/o error, write")));
    expect(io.code).toBe("IMPORT_FAILED");
    expect(io.message).toContain("i/o error");
    expect(readdirSync(models)).toEqual([]);
  });

  it("refuses a source whose name has a control character, before reading it", async () => {
    const { src, models } = dirs();
    const source = join(src, "a\nb.gguf");
    writeFileSync(source, readFileSync(draft()));
    const error = await apiError(importModelFile(source, models, "copy"));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toContain('"a\\nb.gguf" contains a control character');
    expect(existsSync(models)).toBe(false);
  });
});

describe("deleteModelFile", () => {
  it("deletes the file, its n-gram table and its KV states, and counts the bytes", async () => {
    const { models, cache } = dirs();
    const { path } = await importModelFile(draft(), models, "copy");
    const size = statSync(path).size;
    const ngram = ngramTablePath(cache, path, size);
    mkdirSync(join(ngram, ".."), { recursive: true });
    writeFileSync(ngram, "x".repeat(100));
    const kv = storeFolder(cache, await modelContentHash(path, cache));
    mkdirSync(kv, { recursive: true });
    writeFileSync(join(kv, "state.bin"), "y".repeat(50));
    const other = join(cache, "kv", "0123456789abcdef");
    mkdirSync(other, { recursive: true });

    const result = await deleteModelFile(path, models, cache, { busy: [] });
    expect(result.deleted).toBe(true);
    expect(result.freedBytes).toBe(size + 150);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(ngram)).toBe(false);
    expect(existsSync(kv)).toBe(false);
    expect(existsSync(other)).toBe(true);
    expect(await deleteModelFile(path, models, cache, { busy: [] })).toMatchObject({ deleted: false, freedBytes: 0 });
  });

  it("skips the KV folder when the model was never hashed", async () => {
    const { models, cache } = dirs();
    const { path } = await importModelFile(draft(), models, "copy");
    expect(await deleteModelFile(path, models, cache, { busy: [] })).toMatchObject({ deleted: true, freedBytes: statSync(draft()).size });
  });

  it("refuses files outside the folder and the loaded models", async () => {
    const { models, cache } = dirs();
    const { path } = await importModelFile(draft(), models, "copy");
    expect((await apiError(deleteModelFile(draft(), models, cache, { busy: [] }))).code).toBe("BAD_REQUEST");
    const busy = await apiError(deleteModelFile(path, models, cache, { busy: [{ path, why: "the loaded chat model" }] }));
    expect(busy.code).toBe("BUSY");
    expect(busy.message).toContain("the loaded chat model");
    expect(existsSync(path)).toBe(true);
  });

  it("deletes every part of a split set", async () => {
    const { models, cache } = dirs();
    mkdirSync(models);
    writeFileSync(join(models, "s-00001-of-00002.gguf"), "a");
    writeFileSync(join(models, "s-00002-of-00002.gguf"), "bb");
    writeFileSync(join(models, "t.gguf"), "c");
    expect(await deleteModelFile(join(models, "s-00001-of-00002.gguf"), models, cache, { busy: [] })).toMatchObject({ deleted: true, freedBytes: 3 });
    expect(readdirSync(models)).toEqual(["t.gguf"]);
  });
});

describe("removeImportLeftovers", () => {
  /** The pid of a process that has exited (so nothing can be importing under it). */
  const deadPid = (): number => {
    const { pid } = spawnSync(process.execPath, ["-e", ""]);
    if (!pid) throw new Error("could not start a process");
    return pid;
  };
  const tempOf = (name: string, pid: number, at: number) => `.${name}.${pid}.${Math.round(at).toString(36)}.importing`;

  it("removes temp files of dead processes in every folder, keeps live imports, downloads' .part files and models", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-leftovers-"));
    const main = join(root, "main");
    const extra = join(root, "extra");
    mkdirSync(main);
    mkdirSync(extra);
    const now = Date.now();
    const dayAgo = now - IMPORT_TEMP_STALE_MS - 60_000;
    const files: Record<string, string> = {
      // Leftovers: a crashed import in each folder, one of a pid's earlier owner, one of a live pid untouched for a day.
      dead: join(main, tempOf("crashed.gguf", deadPid(), now - 5_000)),
      deadExtra: join(extra, tempOf("old folder.gguf", deadPid(), now - 5_000)),
      oursBefore: join(main, tempOf("reused.gguf", process.pid, now - process.uptime() * 1000 - 60_000)),
      staleLive: join(main, tempOf("ancient.gguf", process.ppid, dayAgo)),
      // Kept: this process's import, another live process's import (a second Tandem on a shared folder), hidden
      // files not named by an import (even old ones), a paused download and its sidecar, models.
      oldOdd: join(main, ".odd.importing"),
      ours: join(main, importTempName("mine.gguf")),
      live: join(extra, tempOf("busy.gguf", process.ppid, now - 1_000)),
      freshOdd: join(extra, ".fresh.importing"),
      part: join(main, "big.gguf.part"),
      sidecar: join(main, "big.gguf.part.json"),
      model: join(main, "model.gguf"),
      hidden: join(main, ".hidden.gguf"),
    };
    for (const path of Object.values(files)) writeFileSync(path, "GGUF");
    for (const key of ["staleLive", "oldOdd"]) utimesSync(files[key], dayAgo / 1000, dayAgo / 1000);

    const removed = await removeImportLeftovers([main, extra, join(root, "missing")]);

    expect(removed.sort()).toEqual([files.dead, files.deadExtra, files.oursBefore, files.staleLive].sort());
    for (const [key, path] of Object.entries(files)) expect(existsSync(path), key).toBe(!removed.includes(path));
  });
});
