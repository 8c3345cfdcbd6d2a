import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isLibraryName, LibraryWatcher } from "../../../../electron/host/models/library-watcher.js";
import { sharedModel } from "../../../helpers/models.js";
import { waitFor } from "../fake-engine.js";

const watchers: LibraryWatcher[] = [];
afterEach(() => watchers.splice(0).forEach((w) => w.close()));

describe("isLibraryName", () => {
  it("counts GGUF files only, not partial downloads or import temp files", () => {
    expect(isLibraryName("model.gguf")).toBe(true);
    expect(isLibraryName("MODEL.GGUF")).toBe(true);
    expect(isLibraryName(null)).toBe(true);
    for (const name of ["model.gguf.part", "model.gguf.part.json", ".model.gguf.123.abc.importing", ".hidden.gguf", "notes.txt"]) {
      expect(isLibraryName(name)).toBe(false);
    }
  });
});

describe("LibraryWatcher", () => {
  it("debounces a burst of changes into one call, ignores partial files, skips missing folders and re-arms", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-watch-"));
    const a = join(root, "a");
    mkdirSync(a);
    let calls = 0;
    const watcher = new LibraryWatcher({ onChange: () => calls++, debounceMs: 100 });
    watchers.push(watcher);
    watcher.arm([a, join(root, "missing")]);
    expect(watcher.folders).toEqual([a]);

    copyFileSync(sharedModel("kjv-chat-draft-1m.gguf"), join(a, "one.gguf"));
    writeFileSync(join(a, "two.gguf"), "x");
    await waitFor(() => calls === 1, 5_000, "one debounced call");

    writeFileSync(join(a, "big.gguf.part"), "partial");
    writeFileSync(join(a, "three.gguf"), "x");
    await waitFor(() => calls === 2, 5_000, "a call for three.gguf");

    const b = join(root, "missing");
    mkdirSync(b);
    watcher.arm([b]);
    expect(watcher.folders).toEqual([b]);
    rmSync(join(a, "one.gguf"));
    writeFileSync(join(b, "four.gguf"), "x");
    await waitFor(() => calls === 3, 5_000, "a call from the re-armed folder");
    watcher.close();
    expect(watcher.folders).toEqual([]);
  });
});
