/**
 * A streaming GGUF v3 writer.
 *
 * The header (metadata and tensor infos) only needs each tensor's shape and type, so it is written first; tensor
 * data then streams in, tensor by tensor, from generators that yield a few rows at a time. A 1B-parameter Q8_0 file
 * (~1.1 GB) is therefore written with a few MB of memory. The file is written as `<out>.tmp-<pid>` and renamed at the
 * end, so a crash or an error never leaves a half-written model under the final name.
 */
import { open, rename, rm } from "node:fs/promises";
import { encodeF16, encodeF32, encodeQ8_0, Q8_0_BLOCK_BYTES, QK8_0 } from "./quant.js";

/** ggml tensor type ids (ggml.h `enum ggml_type`). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** GGUF metadata value type ids (gguf.h `enum gguf_type`). */
const ValueType = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "f32[]"; value: ArrayLike<number> }
  | { type: "i32[]"; value: ArrayLike<number> };

export const gguf = {
  u32: (value: number): GgufValue => ({ type: "u32", value }),
  i32: (value: number): GgufValue => ({ type: "i32", value }),
  f32: (value: number): GgufValue => ({ type: "f32", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  string: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: readonly string[]): GgufValue => ({ type: "string[]", value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ type: "f32[]", value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ type: "i32[]", value }),
};

export interface TensorSpec {
  name: string;
  /** ggml order: dims[0] is the contiguous (row) length, e.g. [n_embd, n_vocab] for token_embd. */
  dims: readonly number[];
  type: GgmlType;
  /**
   * The tensor's values in row-major order, a chunk at a time (any chunk length; for Q8_0 a multiple of 32). Called
   * once, when the tensor's turn comes, so nothing is generated before it is written.
   */
  data: () => Iterable<Float32Array>;
}

export interface GgufContent {
  metadata: ReadonlyArray<readonly [key: string, value: GgufValue]>;
  tensors: readonly TensorSpec[];
}

export const GGUF_ALIGNMENT = 32;
const FLUSH_BYTES = 8 << 20;

export function tensorByteSize(dims: readonly number[], type: GgmlType): number {
  const count = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case GgmlType.F32:
      return count * 4;
    case GgmlType.F16:
      return count * 2;
    case GgmlType.Q8_0:
      if (dims[0] % QK8_0 !== 0) throw new Error(`Q8_0 rows must be a multiple of ${QK8_0} long (got ${dims[0]})`);
      return (count / QK8_0) * Q8_0_BLOCK_BYTES;
  }
}

const alignUp = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

/** Serialises metadata and tensor infos (everything before the tensor data, padding included). */
export function encodeHeader(content: GgufContent, alignment = GGUF_ALIGNMENT): { header: Buffer; offsets: number[] } {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    parts.push(b);
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    parts.push(b);
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s, "utf8");
    u64(bytes.length);
    parts.push(bytes);
  };
  const numbers = (values: ArrayLike<number>, write: (b: Buffer, v: number, o: number) => void) => {
    const b = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) write(b, values[i], i * 4);
    parts.push(b);
  };

  parts.push(Buffer.from("GGUF", "latin1"));
  u32(3);
  u64(content.tensors.length);
  u64(content.metadata.length);
  for (const [key, v] of content.metadata) {
    str(key);
    switch (v.type) {
      case "u32":
        u32(ValueType.UINT32);
        u32(v.value);
        break;
      case "i32":
        u32(ValueType.INT32);
        numbers([v.value], (b, x, o) => b.writeInt32LE(x, o));
        break;
      case "f32":
        u32(ValueType.FLOAT32);
        numbers([v.value], (b, x, o) => b.writeFloatLE(x, o));
        break;
      case "bool":
        u32(ValueType.BOOL);
        parts.push(Buffer.from([v.value ? 1 : 0]));
        break;
      case "string":
        u32(ValueType.STRING);
        str(v.value);
        break;
      case "string[]":
        u32(ValueType.ARRAY);
        u32(ValueType.STRING);
        u64(v.value.length);
        for (const s of v.value) str(s);
        break;
      case "f32[]":
        u32(ValueType.ARRAY);
        u32(ValueType.FLOAT32);
        u64(v.value.length);
        numbers(v.value, (b, x, o) => b.writeFloatLE(x, o));
        break;
      case "i32[]":
        u32(ValueType.ARRAY);
        u32(ValueType.INT32);
        u64(v.value.length);
        numbers(v.value, (b, x, o) => b.writeInt32LE(x, o));
        break;
    }
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const tensor of content.tensors) {
    str(tensor.name);
    u32(tensor.dims.length);
    for (const d of tensor.dims) u64(d);
    u32(tensor.type);
    u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + tensorByteSize(tensor.dims, tensor.type), alignment);
  }
  const unpadded = Buffer.concat(parts);
  const header = Buffer.alloc(alignUp(unpadded.length, alignment));
  unpadded.copy(header);
  return { header, offsets };
}

function encode(values: Float32Array, type: GgmlType, out: Buffer, offset: number): number {
  switch (type) {
    case GgmlType.F32:
      return encodeF32(values, out, offset);
    case GgmlType.F16:
      return encodeF16(values, out, offset);
    case GgmlType.Q8_0:
      return encodeQ8_0(values, out, offset);
  }
}

/** Bytes one chunk of `values` takes in `type` (a Q8_0 chunk must hold whole blocks). */
function encodedSize(values: Float32Array, type: GgmlType): number {
  if (type === GgmlType.Q8_0 && values.length % QK8_0 !== 0) {
    throw new Error(`Q8_0 chunks must hold whole blocks of ${QK8_0} values (got ${values.length})`);
  }
  return type === GgmlType.F32 ? values.length * 4 : type === GgmlType.F16 ? values.length * 2 : (values.length / QK8_0) * Q8_0_BLOCK_BYTES;
}

/**
 * Writes `content` as a GGUF v3 file at `outPath` (via a temporary file and a rename). Returns the file size.
 * Tensor data is written in the order of `content.tensors`.
 */
export async function writeGguf(outPath: string, content: GgufContent, alignment = GGUF_ALIGNMENT): Promise<{ bytes: number }> {
  const { header, offsets } = encodeHeader(content, alignment);
  const tempPath = `${outPath}.tmp-${process.pid}`;
  const file = await open(tempPath, "w");
  let closed = false;
  try {
    let position = 0;
    const buffer = Buffer.alloc(FLUSH_BYTES + (1 << 20));
    let used = 0;
    const flush = async () => {
      let done = 0;
      while (done < used) done += (await file.write(buffer, done, used - done, position + done)).bytesWritten;
      position += used;
      used = 0;
    };
    const append = async (bytes: Uint8Array) => {
      for (let done = 0; done < bytes.length; ) {
        const n = Math.min(bytes.length - done, buffer.length - used);
        buffer.set(bytes.subarray(done, done + n), used);
        used += n;
        done += n;
        if (used >= FLUSH_BYTES) await flush();
      }
    };
    await append(header);
    const dataStart = header.length;
    for (let t = 0; t < content.tensors.length; t++) {
      const tensor = content.tensors[t];
      const start = dataStart + offsets[t];
      const padding = start - (position + used);
      if (padding < 0) throw new Error(`tensor ${tensor.name}: data overran its slot`);
      await append(new Uint8Array(padding));
      const expected = tensorByteSize(tensor.dims, tensor.type);
      let written = 0;
      for (const chunk of tensor.data()) {
        const size = encodedSize(chunk, tensor.type);
        if (written + size > expected) throw new Error(`tensor ${tensor.name}: more data than its shape [${tensor.dims.join(", ")}]`);
        if (used + size > buffer.length) await flush();
        if (size > buffer.length) {
          // A chunk bigger than the buffer: encode it on its own.
          const big = Buffer.alloc(size);
          encode(chunk, tensor.type, big, 0);
          await append(big);
        } else {
          used = encode(chunk, tensor.type, buffer, used);
          if (used >= FLUSH_BYTES) await flush();
        }
        written += size;
      }
      if (written !== expected) throw new Error(`tensor ${tensor.name}: got ${written} bytes of data, expected ${expected}`);
    }
    await flush();
    await file.close();
    closed = true;
    await rename(tempPath, outPath);
    return { bytes: position };
  } catch (error) {
    if (!closed) await file.close().catch(() => {});
    await rm(tempPath, { force: true });
    throw error;
  }
}
