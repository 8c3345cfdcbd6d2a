/**
 * Crafted GGUF headers that crashed or hung node-llama-cpp's reader before the header guard (header-guard.ts), as
 * Buffers: shared by the guard's, the library's and the CLI's tests.
 */

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
export const u64 = (n: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
export const str = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);

/** "GGUF", version, tensor count, kv count. */
export const preamble = (tensors: bigint | number, kvs: bigint | number, version = 3): Buffer =>
  Buffer.concat([Buffer.from("GGUF", "latin1"), u32(version), u64(tensors), u64(kvs)]);

/**
 * 149 bytes: one kv, key "a", an array of u8 that declares 2^61 elements. node-llama-cpp pushed values until V8
 * aborted with "invalid size" (16 s, 1.7 GB).
 */
export function hugeArray(): Buffer {
  const head = Buffer.concat([preamble(0, 1), str("a"), u32(9), u32(0), u64(1n << 61n)]);
  return Buffer.concat([head, Buffer.alloc(149 - head.length)]);
}

/** 24 bytes: tensor and kv counts of 2^63-1 (ran past 60 s, past 2 GB). */
export function hugeCounts(): Buffer {
  return preamble((1n << 63n) - 1n, (1n << 63n) - 1n);
}

/** 2^40 tensors and no kvs, then a few bytes of one plausible tensor info. */
export function hugeTensorCount(): Buffer {
  return Buffer.concat([preamble(1n << 40n, 0), str("t"), u32(1), u64(32), u32(0), u64(0)]);
}

/** An array of 10^9 arrays (of u8, each empty), followed by a few of them. */
export function nestedArrays(): Buffer {
  const inner = Buffer.concat([u32(0), u64(0)]);
  return Buffer.concat([preamble(0, 1), str("a"), u32(9), u32(9), u64(1_000_000_000), ...Array.from({ length: 100 }, () => inner)]);
}

/** 5·10^7 keys declared in a 14 KB file holding ~1000 small kvs. */
export function manyKeys(): Buffer {
  const kvs: Buffer[] = [];
  let length = 24;
  for (let i = 0; ; i++) {
    const kv = Buffer.concat([str(`k${i}`), u32(0), Buffer.from([i & 0xff])]);
    if (length + kv.length > 14 * 1024) break;
    kvs.push(kv);
    length += kv.length;
  }
  const body = Buffer.concat(kvs);
  return Buffer.concat([preamble(0, 50_000_000), body, Buffer.alloc(14 * 1024 - 24 - body.length)]);
}

export const CRAFTED: ReadonlyArray<readonly [name: string, make: () => Buffer]> = [
  ["huge-array.gguf", hugeArray],
  ["huge-counts.gguf", hugeCounts],
  ["huge-tensor-count.gguf", hugeTensorCount],
  ["nested-arrays.gguf", nestedArrays],
  ["many-keys.gguf", manyKeys],
];
