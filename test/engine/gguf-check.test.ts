import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { assertGgufFile } from "../../engine/gguf-check.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-gguf-"));
function file(name: string, content: Buffer | string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
function header(magic: string, version: number): Buffer {
  const b = Buffer.alloc(24);
  b.write(magic, 0, "latin1");
  b.writeUInt32LE(version, 4);
  return b;
}

describe("assertGgufFile", () => {
  it("accepts GGUF v2 and v3 headers", async () => {
    await expect(assertGgufFile(file("v3.gguf", header("GGUF", 3)))).resolves.toEqual({ sizeBytes: 24, version: 3 });
    await expect(assertGgufFile(file("v2.gguf", header("GGUF", 2)))).resolves.toMatchObject({ version: 2 });
  });

  it("refuses other files with a reason naming the file", async () => {
    const text = file("notes.gguf", "just some text, definitely not a model");
    await expect(assertGgufFile(text)).rejects.toMatchObject({ code: "NOT_GGUF", message: expect.stringContaining("notes.gguf") });
    await expect(assertGgufFile(file("empty.gguf", ""))).rejects.toMatchObject({ code: "NOT_GGUF", message: expect.stringMatching(/0 bytes/) });
    await expect(assertGgufFile(file("v9.gguf", header("GGUF", 9)))).rejects.toMatchObject({ code: "NOT_GGUF", message: expect.stringMatching(/version 9/) });
    await expect(assertGgufFile(dir)).rejects.toMatchObject({ code: "NOT_GGUF" });
    await expect(assertGgufFile(path.join(dir, "missing.gguf"))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });
});
