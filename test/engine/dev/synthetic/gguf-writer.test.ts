import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { GgmlType, gguf, tensorByteSize, writeGguf, type TensorSpec } from "../../../../engine/dev/synthetic/gguf-writer.js";
import { decodeQ8_0, fromHalfBits } from "../../../../engine/dev/synthetic/quant.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-gguf-"));

function ramp(length: number, scale: number): () => Iterable<Float32Array> {
  return function* () {
    // Two chunks, to exercise chunked input.
    const values = Float32Array.from({ length }, (_, i) => (i - length / 2) * scale);
    yield values.subarray(0, length / 2);
    yield values.subarray(length / 2);
  };
}

const tensors: TensorSpec[] = [
  { name: "norm.weight", dims: [64], type: GgmlType.F32, data: ramp(64, 0.5) },
  { name: "half.weight", dims: [64, 3], type: GgmlType.F16, data: ramp(192, 0.25) },
  { name: "q8.weight", dims: [64, 4], type: GgmlType.Q8_0, data: ramp(256, 0.01) },
];

describe("GGUF writer", () => {
  it("writes a file node-llama-cpp reads back with the same metadata, shapes and data", async () => {
    const file = path.join(dir, "small.gguf");
    const { bytes } = await writeGguf(file, {
      metadata: [
        ["general.architecture", gguf.string("llama")],
        ["test.u32", gguf.u32(4000000000)],
        ["test.i32", gguf.i32(-7)],
        ["test.f32", gguf.f32(0.5)],
        ["test.bool", gguf.bool(true)],
        ["test.strings", gguf.strings(["▁a", "<0x0A>", ""])],
        ["test.f32s", gguf.f32s([1.5, -2])],
        ["test.i32s", gguf.i32s([3, -4, 5])],
      ],
      tensors,
    });
    expect(bytes).toBe(readFileSync(file).length);
    const info = await readGgufFileInfo(file, { readTensorInfo: true });
    expect(info.version).toBe(3);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.general.architecture).toBe("llama");
    expect(md.test).toEqual({ u32: 4000000000, i32: -7, f32: 0.5, bool: true, strings: ["▁a", "<0x0A>", ""], f32s: [1.5, -2], i32s: [3, -4, 5] });
    const infos = info.tensorInfo!;
    expect(infos.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ["norm.weight", [64], 0],
      ["half.weight", [64, 3], 1],
      ["q8.weight", [64, 4], 8],
    ]);

    // Tensor data sits at 32-aligned offsets from the (32-aligned) start of the data section.
    const raw = readFileSync(file);
    const dataStart = bytes - (Number(infos[2].offset) + tensorByteSize([64, 4], GgmlType.Q8_0));
    expect(dataStart % 32).toBe(0);
    for (const t of infos) expect(Number(t.offset) % 32).toBe(0);
    const at = (i: number) => raw.subarray(dataStart + Number(infos[i].offset));
    expect(at(0).readFloatLE(4)).toBe((1 - 32) * 0.5);
    expect(fromHalfBits(at(1).readUInt16LE(2 * 100))).toBe((100 - 96) * 0.25);
    const q8 = decodeQ8_0(at(2), 256);
    expect(q8[0]).toBeCloseTo(-1.28, 2);
    expect(q8[255]).toBeCloseTo(1.27, 2);
  });

  it("leaves nothing under the final name when writing fails midway", async () => {
    const file = path.join(dir, "crash.gguf");
    const failing: TensorSpec = {
      name: "boom.weight",
      dims: [64, 1024],
      type: GgmlType.Q8_0,
      data: function* () {
        yield new Float32Array(64 * 512);
        throw new Error("injected failure");
      },
    };
    await expect(writeGguf(file, { metadata: [["general.architecture", gguf.string("llama")]], tensors: [tensors[0], failing] })).rejects.toThrow(
      "injected failure",
    );
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith("crash"))).toEqual([]);
  });

  it("rejects tensor data that does not fill the declared shape", async () => {
    const file = path.join(dir, "short.gguf");
    const short: TensorSpec = { name: "short", dims: [64, 2], type: GgmlType.F32, data: ramp(64, 1) };
    await expect(writeGguf(file, { metadata: [], tensors: [short] })).rejects.toThrow(/expected 512/);
    expect(existsSync(file)).toBe(false);
  });
});
