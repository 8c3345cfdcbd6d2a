/**
 * The header guard's fuzz loop, run in a child process (header-guard-fuzz.test.ts bundles and starts it with a
 * small heap) so that a crash or a hang in the guard or in node-llama-cpp's reader fails the test with the seed
 * instead of taking vitest down.
 *
 * Config (JSON in $TANDEM_FUZZ): { dir, seed, cases, bases: [{ path, headerEnd }], only? }. Each case is built from
 * its own seed (seed + index), so one case replays alone with `only`. Protocol, one JSON object per stdout line:
 * { start: seed } before a case, { done: seed, guard, inspect } after it, { fail: seed, error } for an outcome
 * that is neither a success nor the expected error type, { summary } at the end.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { checkGgufFile, GgufHeaderError } from "../../../engine/gguf/header-guard.js";
import { GgufInspectError, inspectGguf } from "../../../engine/gguf/inspect.js";
import { Rng } from "../../../engine/dev/synthetic/prng.js";

interface Base {
  path: string;
  /** Where the base's tensor data starts: mutations target the bytes before it. */
  headerEnd: number;
}
interface Config {
  dir: string;
  seed: number;
  cases: number;
  bases: Base[];
  only?: number;
}

/** A field of a valid header: where it is, its width, what it holds. */
interface Field {
  at: number;
  width: 4 | 8;
  kind: "version" | "count" | "length" | "type" | "dims" | "dim" | "offset";
}

const config = JSON.parse(process.env.TANDEM_FUZZ ?? "{}") as Config;
const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

/** The fields of a header known to be valid (the bases), for mutations that hit counts and lengths exactly. */
function fieldsOf(bytes: Buffer): Field[] {
  const fields: Field[] = [{ at: 4, width: 4, kind: "version" }, { at: 8, width: 8, kind: "count" }, { at: 16, width: 8, kind: "count" }];
  let at = 24;
  const u32 = () => {
    const v = bytes.readUInt32LE(at);
    at += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(bytes.readBigUInt64LE(at));
    at += 8;
    return v;
  };
  const string = () => {
    fields.push({ at, width: 8, kind: "length" });
    const length = u64(); // not `at += u64()`: that reads `at` before u64 moves it
    at += length;
  };
  const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const value = (type: number) => {
    if (type === 8) return string();
    if (type === 9) {
      fields.push({ at, width: 4, kind: "type" });
      const inner = u32();
      fields.push({ at, width: 8, kind: "count" });
      const count = u64();
      if (inner === 8 || inner === 9) for (let i = 0; i < count; i++) value(inner);
      else at += count * sizes[inner];
      return;
    }
    at += sizes[type];
  };
  const tensors = Number(bytes.readBigUInt64LE(8));
  const kvs = Number(bytes.readBigUInt64LE(16));
  for (let i = 0; i < kvs; i++) {
    string();
    fields.push({ at, width: 4, kind: "type" });
    value(u32());
  }
  for (let i = 0; i < tensors; i++) {
    string();
    fields.push({ at, width: 4, kind: "dims" });
    const dims = u32();
    for (let d = 0; d < dims; d++) {
      fields.push({ at, width: 8, kind: "dim" });
      at += 8;
    }
    fields.push({ at, width: 4, kind: "type" });
    at += 4;
    fields.push({ at, width: 8, kind: "offset" });
    at += 8;
  }
  return fields;
}

const HUGE_U64 = [2n ** 64n - 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 61n, 2n ** 53n, 2n ** 40n, 2n ** 32n, 2n ** 31n, 1_000_000_000n, 50_000_000n, 16_777_217n];
const ODD_U32 = [0xffffffff, 0x80000000, 13, 9, 8, 99, 43, 5, 4, 0, 1];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.below(items.length)];
}

function randomU64(rng: Rng): bigint {
  return (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
}

/** A header made up from nothing: plausible structure with random types, counts and lengths that sometimes lie. */
function randomHeader(rng: Rng): Buffer {
  const parts: Buffer[] = [Buffer.from("GGUF", "latin1")];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    parts.push(b);
  };
  const u64 = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, n));
    parts.push(b);
  };
  const lie = () => rng.next() < 0.08;
  const length = (n: number) => u64(lie() ? (rng.next() < 0.5 ? pick(rng, HUGE_U64) : BigInt(n + 1 + rng.below(1000))) : BigInt(n));
  const string = (text: string) => {
    const bytes = Buffer.from(text);
    length(bytes.length);
    parts.push(bytes);
  };
  const value = (type: number, depth: number): void => {
    if (type === 8) return string("s".repeat(rng.below(40)));
    if (type === 9) {
      const inner = depth < 3 && rng.next() < 0.2 ? 9 : rng.below(13);
      u32(lie() ? rng.nextU32() : inner === 9 && depth >= 3 ? 0 : inner);
      const count = rng.below(20);
      length(count);
      for (let i = 0; i < count; i++) value(inner === 9 && depth >= 3 ? 0 : inner, depth + 1);
      return;
    }
    const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    parts.push(Buffer.from(Array.from({ length: sizes[type] ?? 1 }, () => rng.below(256))));
  };
  u32(rng.next() < 0.9 ? 3 - rng.below(2) : rng.nextU32());
  const tensors = rng.below(6);
  const kvs = rng.below(12);
  u64(lie() ? pick(rng, HUGE_U64) : BigInt(tensors));
  u64(lie() ? pick(rng, HUGE_U64) : BigInt(kvs));
  for (let i = 0; i < kvs; i++) {
    string(rng.next() < 0.1 ? "general.alignment" : `k.${i}.${"x".repeat(rng.below(8))}`);
    const type = rng.next() < 0.05 ? rng.nextU32() : rng.below(13);
    u32(type);
    value(type > 12 ? 0 : type, 0);
  }
  for (let i = 0; i < tensors; i++) {
    string(`t.${i}`);
    const dims = rng.next() < 0.1 ? rng.below(8) : 1 + rng.below(4);
    u32(dims);
    for (let d = 0; d < dims; d++) u64(lie() ? randomU64(rng) : BigInt(32 * (1 + rng.below(8))));
    u32(rng.next() < 0.1 ? rng.below(64) : pick(rng, [0, 1, 8, 12, 30]));
    u64(lie() ? randomU64(rng) : BigInt(32 * i * rng.below(4)));
  }
  parts.push(Buffer.from(Array.from({ length: rng.below(256) }, () => rng.below(256))));
  return Buffer.concat(parts);
}

interface Case {
  /** The file's first bytes; the rest (up to `size`) are zeros, written sparsely. */
  bytes: Buffer;
  size: number;
  what: string;
}

function makeCase(seed: number, bases: Array<Base & { bytes: Buffer; size: number; fields: Field[] }>): Case {
  const rng = new Rng(seed, 0x9e37);
  const mode = rng.below(10);
  if (mode === 9) {
    const bytes = randomHeader(rng);
    return { bytes, size: bytes.length, what: "random header" };
  }
  const base = bases[rng.below(bases.length)];
  const bytes = Buffer.from(base.bytes.subarray(0, base.headerEnd));
  const name = path.basename(base.path);
  if (mode <= 2) {
    const flips = 1 + rng.below(8);
    for (let i = 0; i < flips; i++) bytes[rng.below(bytes.length)] = rng.below(256);
    return { bytes, size: base.size, what: `${name}: ${flips} byte(s) changed` };
  }
  if (mode <= 5) {
    const field = pick(rng, base.fields);
    if (field.width === 4) {
      const value = rng.next() < 0.7 ? pick(rng, ODD_U32) : rng.nextU32();
      bytes.writeUInt32LE(value, field.at);
      return { bytes, size: base.size, what: `${name}: ${field.kind} at ${field.at} set to ${value}` };
    }
    const original = bytes.readBigUInt64LE(field.at);
    const value = pick(rng, [...HUGE_U64, original + 1n, original * 2n + 1n, original > 0n ? original - 1n : 0n, randomU64(rng), 0n]);
    bytes.writeBigUInt64LE(BigInt.asUintN(64, value), field.at);
    return { bytes, size: base.size, what: `${name}: ${field.kind} at ${field.at} set to ${value}` };
  }
  if (mode <= 7) {
    // Cut the file at (or just around) a field: the guard must see the end, node-llama-cpp must not run past it.
    const field = pick(rng, base.fields);
    const cut = Math.max(0, Math.min(bytes.length, field.at + rng.below(12) - 2));
    return { bytes: bytes.subarray(0, cut), size: cut, what: `${name}: cut at ${cut}` };
  }
  // A slice of the header repeated elsewhere in it: every later field shifts.
  const from = rng.below(bytes.length);
  const length = 1 + rng.below(64);
  const to = rng.below(bytes.length);
  const moved = Buffer.concat([bytes.subarray(0, to), bytes.subarray(from, from + length), bytes.subarray(to)]);
  return { bytes: moved, size: base.size + length, what: `${name}: ${length} bytes from ${from} inserted at ${to}` };
}

function oneLine(message: string): boolean {
  return !message.includes("\n");
}

async function main(): Promise<void> {
  const bases = config.bases.map((base) => {
    const bytes = readFileSync(base.path).subarray(0, base.headerEnd);
    return { ...base, bytes, size: statSync(base.path).size, fields: fieldsOf(bytes) };
  });
  const outcomes: Record<string, number> = {};
  const seeds = config.only !== undefined ? [config.only] : Array.from({ length: config.cases }, (_, i) => config.seed + i);
  for (const seed of seeds) {
    send({ start: seed });
    const c = makeCase(seed, bases);
    const file = path.join(config.dir, `case-${seed}.gguf`);
    // The header bytes, then zeros to the full size without writing them (a sparse file): a header that survives
    // mutation still describes data that is "there", so inspect can get all the way through.
    writeFileSync(file, c.bytes);
    if (c.size > c.bytes.length) {
      const fd = openSync(file, "r+");
      try {
        ftruncateSync(fd, c.size);
      } finally {
        closeSync(fd);
      }
    }
    let guard: string;
    let reason = "";
    try {
      await checkGgufFile(file);
      guard = "ok";
    } catch (error) {
      if (!(error instanceof GgufHeaderError) || !oneLine(error.message)) {
        send({ fail: seed, what: c.what, error: `guard threw ${describe(error)}` });
        continue;
      }
      guard = `refused:${error.problem}`;
      reason = error.message.slice(file.length);
    }
    let inspect: string;
    try {
      await inspectGguf(file);
      inspect = "ok";
      if (guard !== "ok") {
        send({ fail: seed, what: c.what, error: `the guard refused (${guard}) but inspect read the file` });
        continue;
      }
    } catch (error) {
      if (!(error instanceof GgufInspectError) || !oneLine(error.message)) {
        send({ fail: seed, what: c.what, error: `inspect threw ${describe(error)}` });
        continue;
      }
      inspect = `refused:${error.reason}`;
    }
    rmSync(file, { force: true });
    outcomes[`${guard} / ${inspect}`] = (outcomes[`${guard} / ${inspect}`] ?? 0) + 1;
    send({ done: seed, what: c.what, guard, inspect, reason });
  }
  send({ summary: outcomes });
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  return String(error);
}

await main();
