/**
 * The GGUF header guard: crafted headers that crashed or hung node-llama-cpp's reader are refused quickly with one
 * line, through the guard, assertGgufFile and inspectGguf, local and remote; real and synthetic models pass.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineFailure } from "../../../engine/errors.js";
import { assertGgufFile } from "../../../engine/gguf-check.js";
import {
  checkGgufFile,
  checkGgufHeader,
  checkRemoteGguf,
  GGUF_HEADER_LIMITS,
  GgufHeaderError,
  splitPartPaths,
  type ByteSource,
} from "../../../engine/gguf/header-guard.js";
import { GgufInspectError, inspectGguf } from "../../../engine/gguf/inspect.js";
import { encodeHeader, GgmlType, gguf, writeGguf, type TensorSpec } from "../../../engine/dev/synthetic/gguf-writer.js";
import { shapeFor } from "../../../engine/dev/synthetic/shapes.js";
import { buildVocabulary } from "../../../engine/dev/synthetic/tokenizer.js";
import { modelContent } from "../../../engine/dev/synthetic/weights.js";
import { sharedModel } from "../../helpers/models.js";
import { startTestServer, type TestServer } from "../../electron/host/downloads/test-server.js";
import { CRAFTED, hugeArray, preamble, str, u32, u64 } from "./crafted.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-header-guard-"));
const target = sharedModel("kjv-chat-6m.gguf");
const draft = sharedModel("kjv-chat-draft-1m.gguf");

function file(name: string, content: Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const memory = (bytes: Buffer): ByteSource => ({ size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) });

async function refusal(promise: Promise<unknown>): Promise<GgufHeaderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GgufHeaderError);
  expect((error as Error).message).not.toContain("\n");
  return error as GgufHeaderError;
}

async function inspectFailure(promise: Promise<unknown>): Promise<GgufInspectError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GgufInspectError);
  expect((error as Error).message).not.toContain("\n");
  return error as GgufInspectError;
}

/** A header with one kv `key` of the raw `value` bytes (type included) and the given tensor infos. */
function header(kvs: Buffer[], tensors: Buffer[] = [], pad = 64): Buffer {
  return Buffer.concat([preamble(tensors.length, kvs.length), ...kvs, ...tensors, Buffer.alloc(pad)]);
}
const kv = (key: string, ...value: Buffer[]) => Buffer.concat([str(key), ...value]);
const tensor = (name: string, dims: number[], type = 0, offset = 0) => Buffer.concat([str(name), u32(dims.length), ...dims.map((d) => u64(d)), u32(type), u64(offset)]);

const syntheticShape = shapeFor(1_000_000, 512);
async function synthetic(quant: "f16" | "q8_0"): Promise<string> {
  const out = path.join(dir, `synthetic-${quant}.gguf`);
  await writeGguf(
    out,
    modelContent({ name: `synthetic-${quant}`, shape: syntheticShape, vocabulary: buildVocabulary(512), contextLength: 256, quant, sharedSeed: 1, modelSeed: 2, noise: 0.1 }),
  );
  return out;
}

describe("checkGgufHeader on real models", () => {
  it("passes the shared KJV models, fast, and finds the data where node-llama-cpp does", async () => {
    for (const model of [target, draft]) {
      await checkGgufFile(model); // warm up
      const started = performance.now();
      const summary = await checkGgufFile(model);
      const ms = performance.now() - started;
      const info = await readGgufFileInfo(model, { logWarnings: false });
      expect(summary).toMatchObject({ version: 3, tensorCount: info.tensorCount, alignment: 32, dataOffset: info.infoEndOffset });
      console.info(`header guard on ${path.basename(model)}: ${ms.toFixed(2)} ms (header ${summary.headerEnd} bytes)`);
      expect(ms).toBeLessThan(500);
    }
  });

  it("passes synthetic F16 and Q8_0 models, which inspect reads as such", async () => {
    for (const [quant, name] of [
      ["f16", "F16"],
      ["q8_0", "Q8_0"],
    ] as const) {
      const model = await synthetic(quant);
      const summary = await checkGgufFile(model);
      expect(summary.dataOffset).toBe((await readGgufFileInfo(model, { logWarnings: false })).infoEndOffset);
      await expect(assertGgufFile(model)).resolves.toMatchObject({ version: 3 });
      expect((await inspectGguf(model)).quantization).toBe(name);
    }
  });

  it("walks the header of a 150k-token vocabulary (merges, scores, types) in well under a second", async () => {
    const vocab = 150_000;
    const tokens = Array.from({ length: vocab }, (_, i) => `▁tok${i}`);
    const merges = Array.from({ length: vocab }, (_, i) => `▁t ok${i}`);
    const tensors: TensorSpec[] = [
      { name: "token_embd.weight", dims: [4096, vocab], type: GgmlType.Q8_0, data: () => [] },
      { name: "output.weight", dims: [4096, vocab], type: GgmlType.Q8_0, data: () => [] },
    ];
    const { header: bytes } = encodeHeader({
      metadata: [
        ["general.architecture", gguf.string("llama")],
        ["tokenizer.ggml.model", gguf.string("gpt2")],
        ["tokenizer.ggml.tokens", gguf.strings(tokens)],
        ["tokenizer.ggml.merges", gguf.strings(merges)],
        ["tokenizer.ggml.scores", gguf.f32s(new Float32Array(vocab))],
        ["tokenizer.ggml.token_type", gguf.i32s(new Int32Array(vocab))],
        ["tokenizer.chat_template", gguf.string("{% for m in messages %}{{ m.content }}{% endfor %}".repeat(200))],
      ],
      tensors,
    });
    const big = file("big-vocab.gguf", bytes);
    await checkGgufFile(big);
    const started = performance.now();
    const summary = await checkGgufFile(big);
    const ms = performance.now() - started;
    console.info(`header guard on a ${(bytes.length / 1e6).toFixed(1)} MB header (150k tokens and merges): ${ms.toFixed(1)} ms`);
    expect(summary.headerEnd).toBeLessThanOrEqual(bytes.length);
    expect(ms).toBeLessThan(1000);
  });

  it("passes a scalar (0-dimensional) tensor and arrays nested up to the depth limit", async () => {
    const nested = Buffer.concat([u32(9), u32(9), u64(1), u32(9), u64(1), u32(4), u64(2), u32(1), u32(2)]);
    await expect(checkGgufHeader(memory(header([kv("a.nested", nested)], [tensor("scalar", [])])), "ok.gguf")).resolves.toMatchObject({ tensorCount: 1 });
  });
});

describe("checkGgufHeader on crafted headers", () => {
  it.each(CRAFTED)("refuses %s with one line, in milliseconds, through the guard, assertGgufFile and inspectGguf", async (name, make) => {
    const p = file(name, make());
    const started = performance.now();
    const error = await refusal(checkGgufFile(p));
    expect(error.problem).toBe("invalid");
    expect(error.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not a valid GGUF model: its header declares `));

    const failure = await assertGgufFile(p).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(EngineFailure);
    expect(failure).toMatchObject({ code: "NOT_GGUF", message: error.message });

    const inspected = await inspectFailure(inspectGguf(p));
    expect(inspected.reason).toBe("not-gguf");
    expect(inspected.message).toBe(error.message);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("names the impossible count, where it is, and how little follows it", async () => {
    const p = file("x.gguf", hugeArray());
    expect((await refusal(checkGgufFile(p))).message).toBe(
      `${p} is not a valid GGUF model: its header declares 2305843009213693952 array elements at byte 41, more than the 100 bytes that follow`,
    );
    const counts = await refusal(checkGgufHeader(memory(preamble((1n << 63n) - 1n, (1n << 63n) - 1n)), "y.gguf"));
    expect(counts.message).toBe("y.gguf is not a valid GGUF model: its header declares 9223372036854775807 key/value pairs at byte 16, more than the 0 bytes that follow");
  });

  const rules: Array<[what: string, bytes: Buffer, message: RegExp, problem?: GgufHeaderError["problem"]]> = [
    ["an unknown value type", header([kv("a", u32(13), u32(0))]), /value type 13 for the key "a" at byte 33; GGUF value types are 0 to 12/],
    ["an unknown array element type", header([kv("a", u32(9), u32(99), u64(0))]), /array element type 99/],
    ["a string longer than the file", header([kv("a", u32(8), u64(1n << 50n))]), /a string of 1125899906842624 bytes at byte 37, more than the 64 bytes that follow/],
    ["a string that runs a little past the end", header([kv("a", u32(8), u64(200))]), /is truncated: its header declares a string of 200 bytes at byte 37/, "truncated"],
    ["an empty key", header([kv("", u32(0), Buffer.from([1]))]), /an empty key/],
    ["an overlong key", header([kv("k".repeat(2000), u32(0), Buffer.from([1]))], [], 4096), /a key of 2000 bytes at byte 24; at most 256 are allowed/],
    ["a duplicate key", header([kv("a", u32(0), Buffer.from([1])), kv("a", u32(0), Buffer.from([1]))]), /the key "a" twice/],
    ["a __proto__ key", header([kv("general.__proto__.x", u32(0), Buffer.from([1]))]), /the key "general.__proto__.x"/],
    ["general.alignment of another type", header([kv("general.alignment", u32(10), u64(32))]), /general.alignment as a u64 at byte \d+; it must be a u32/],
    ["general.alignment that is not a power of two", header([kv("general.alignment", u32(4), u32(48))]), /general.alignment 48 at byte \d+, which is not a power of two/],
    ["general.alignment 0", header([kv("general.alignment", u32(4), u32(0))]), /general.alignment 0/],
    ["arrays nested too deep", header([kv("a", u32(9), u32(9), u64(1), u32(9), u64(1), u32(9), u64(1), u32(0), u64(0))]), /arrays nested 4 deep at byte \d+; at most 3 levels/],
    [
      "too many array elements",
      header([kv("a", u32(9), u32(0), u64(GGUF_HEADER_LIMITS.arrayElements + 1))], [], GGUF_HEADER_LIMITS.arrayElements + 8),
      new RegExp(`${GGUF_HEADER_LIMITS.arrayElements + 1} array elements at byte 41; at most ${GGUF_HEADER_LIMITS.arrayElements} are supported`),
    ],
    [
      "too many array elements in all",
      header([kv("a", u32(9), u32(0), u64(GGUF_HEADER_LIMITS.arrayElements), Buffer.alloc(GGUF_HEADER_LIMITS.arrayElements)), kv("b", u32(9), u32(0), u64(1))], [], 8),
      new RegExp(`more than ${GGUF_HEADER_LIMITS.totalArrayElements} array elements in all`),
    ],
    ["a key of too many parts", header([kv(Array.from({ length: 17 }, () => "a").join("."), u32(0), Buffer.from([1]))]), /of 17 dot-separated parts at byte 24; at most 16/],
    ["a key in a newline", header([kv("a\nb", u32(13))]), /the key "a\\nb"/],
    ["a tensor of 5 dimensions", header([], [tensor("t", [1, 1, 1, 1, 1])]), /5 dimensions for the tensor "t" at byte 33; ggml allows at most 4/],
    ["an unknown ggml type", header([], [tensor("t", [32], 99)]), /ggml type 99 for the tensor "t" at byte \d+, which llama.cpp does not know/],
    ["a removed ggml type (Q4_2)", header([], [tensor("t", [32], 4)]), /ggml type 4 for the tensor "t"/],
    ["a row that is not whole blocks", header([], [tensor("t", [100, 2], 12)]), /the Q4_K tensor "t" at byte 24 with rows of 100 elements, not a whole number of its 256-element blocks/],
    ["a tensor name too long for ggml", header([], [tensor("n".repeat(64), [1])]), /a tensor name of 64 bytes at byte 24; at most 63/],
    ["an empty tensor name", header([], [tensor("", [1])]), /an empty tensor name/],
    ["a duplicate tensor", header([], [tensor("t", [32]), tensor("t", [32], 0, 128)]), /the tensor "t" twice/],
    ["a petabyte tensor", header([], [tensor("t", [2 ** 30, 2 ** 30, 2 ** 30])]), /a tensor "t" of more than 2\^53 elements/],
    ["a dimension past 2^63", header([], [tensor("t", [1])]).fill(0xff, 24 + 8 + 1 + 4, 24 + 8 + 1 + 4 + 8), /dimension 0 is 18446744073709551615/],
    ["an unaligned tensor offset", header([], [tensor("t", [32], 0, 7)]), /offset 7 \(byte \d+\), not a multiple of the alignment 32/],
  ];
  it.each(rules)("refuses %s", async (_what, bytes, message, problem = "invalid") => {
    const error = await refusal(checkGgufHeader(memory(bytes), "rule.gguf"));
    expect(error.message).toMatch(message);
    expect(error.problem).toBe(problem);
  });

  it("calls a real header cut anywhere 'truncated' (never invalid), and the empty file not a GGUF", async () => {
    const bytes = readFileSync(target);
    const end = (await checkGgufFile(target)).dataOffset;
    const cuts = new Set<number>();
    for (let at = 1; at < 256; at++) cuts.add(at);
    for (let at = 256; at < end; at += 13) cuts.add(at);
    for (const at of cuts) {
      const error = await refusal(checkGgufHeader(memory(bytes.subarray(0, at)), "cut.gguf"));
      expect([at, error.problem]).toEqual([at, "truncated"]);
    }
    expect((await refusal(checkGgufHeader(memory(Buffer.alloc(0)), "empty.gguf"))).problem).toBe("signature");
  });

  it("refuses a split set whose other part has a crafted header, naming that part", async () => {
    const bytes = readFileSync(target);
    const folder = path.join(dir, "split");
    mkdirSync(folder);
    const first = path.join(folder, "kjv-00001-of-00002.gguf");
    writeFileSync(first, bytes.subarray(0, 12_000_000));
    writeFileSync(path.join(folder, "kjv-00002-of-00002.gguf"), hugeArray());
    expect(splitPartPaths(first)).toEqual([first, path.join(folder, "kjv-00002-of-00002.gguf")]);
    await expect(assertGgufFile(first)).rejects.toMatchObject({ code: "NOT_GGUF", message: expect.stringContaining("kjv-00002-of-00002.gguf is not a valid GGUF model") });
    expect((await inspectFailure(inspectGguf(first))).reason).toBe("not-gguf");
    // A second part that is not a GGUF of its own (plain bytes) is fine: node-llama-cpp refuses it at once.
    writeFileSync(path.join(folder, "kjv-00002-of-00002.gguf"), bytes.subarray(12_000_000));
    await expect(assertGgufFile(first)).resolves.toMatchObject({ version: 3 });
  });

  it("keeps the split part list as node-llama-cpp builds it", () => {
    expect(splitPartPaths("/m/a.gguf")).toEqual(["/m/a.gguf"]);
    expect(splitPartPaths("/m/a-00002-of-00003.gguf")).toEqual(["/m/a-00001-of-00003.gguf", "/m/a-00002-of-00003.gguf", "/m/a-00003-of-00003.gguf"]);
    expect(splitPartPaths("/m/a-00004-of-00003.gguf")).toEqual(["/m/a-00004-of-00003.gguf"]);
    expect(splitPartPaths("https://h/x/a-00001-of-00002.gguf?download=1")).toEqual(["https://h/x/a-00001-of-00002.gguf?download=1", "https://h/x/a-00002-of-00002.gguf?download=1"]);
  });
});

describe("the header guard over HTTP", () => {
  let server: TestServer;
  const model = readFileSync(target);
  const served = () => server.requests.reduce((n, r) => n + r.sentBytes, 0);

  beforeAll(async () => {
    server = await startTestServer({
      "/kjv.gguf": model,
      "/short.gguf": model.subarray(0, 20_000),
      "/huge-array.gguf": hugeArray(),
      "/split/kjv-00001-of-00002.gguf": model.subarray(0, 12_000_000),
      "/split/kjv-00002-of-00002.gguf": hugeArray(),
      ...Object.fromEntries(CRAFTED.map(([name, make]) => [`/crafted/${name}`, make()])),
    });
  });
  afterAll(() => server.close());

  it("walks a real header with a single 64 KB range", async () => {
    server.requests.length = 0;
    const summary = await checkRemoteGguf(server.url("/kjv.gguf"), "kjv.gguf");
    expect(summary.dataOffset).toBe((await checkGgufFile(target)).dataOffset);
    expect(server.requests.map((r) => r.range)).toEqual(["bytes=0-65535"]);
    expect(served()).toBe(65_536);
  });

  it("refuses each crafted file from its first range, through inspectGguf too, with one line", async () => {
    for (const [name] of CRAFTED) {
      server.requests.length = 0;
      const error = await refusal(checkRemoteGguf(server.url(`/crafted/${name}`), name));
      expect(error.message).toMatch(new RegExp(`^${name} is not a valid GGUF model: `));
      const inspected = await inspectFailure(inspectGguf(server.url(`/crafted/${name}`)));
      expect([name, inspected.reason, inspected.message]).toEqual([name, "not-gguf", error.message]);
      expect(served()).toBeLessThan(3 * 65_536);
    }
  });

  it("calls a remote header cut short truncated", async () => {
    const inspected = await inspectFailure(inspectGguf(server.url("/short.gguf")));
    expect(inspected.reason).toBe("truncated");
    expect(inspected.message).toMatch(/^short\.gguf is truncated: /);
  });

  it("refuses a remote split set whose other part is crafted only when the parts are spliced", async () => {
    const inspected = await inspectFailure(inspectGguf(server.url("/split/kjv-00001-of-00002.gguf")));
    expect(inspected.reason).toBe("not-gguf");
    expect(inspected.message).toMatch(/^kjv-00002-of-00002\.gguf is not a valid GGUF model/);
    await expect(checkRemoteGguf(server.url("/split/kjv-00001-of-00002.gguf"), "kjv-00001-of-00002.gguf")).rejects.toBeInstanceOf(GgufHeaderError);
  });

  it("takes a whole small file from a server that ignores Range, and refuses to download a large one", async () => {
    server.faults.set("/huge-array.gguf", [{ kind: "ignore-range", repeat: true }]);
    server.faults.set("/kjv.gguf", [{ kind: "ignore-range", repeat: true }]);
    try {
      expect((await inspectFailure(inspectGguf(server.url("/huge-array.gguf")))).reason).toBe("not-gguf");
      const large = await inspectFailure(inspectGguf(server.url("/kjv.gguf")));
      expect(large.reason).toBe("unreadable");
      expect(large.message).toMatch(/^kjv\.gguf cannot be read: 127\.0\.0\.1:\d+ ignores Range requests/);
    } finally {
      server.faults.clear();
    }
  });

  it("maps a server error after the probe to unreadable, and a missing file to not-found", async () => {
    server.faults.set("/kjv.gguf", [{ kind: "status", status: 500, repeat: true }]);
    server.requests.length = 0;
    try {
      const error = await checkRemoteGguf(server.url("/kjv.gguf"), "kjv.gguf", { retry: { retries: 1, factor: 1, minTimeout: 1, maxTimeout: 1 } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: "GgufFetchError", status: 500, message: expect.stringMatching(/^HTTP 500 Internal Server Error from 127\.0\.0\.1:\d+$/) });
      expect(server.requests.filter((r) => r.path === "/kjv.gguf").length).toBe(2);
    } finally {
      server.faults.clear();
    }
    const missing = await inspectFailure(inspectGguf(server.url("/nope.gguf")));
    expect(missing.reason).toBe("not-found");
  });
});

describe("assertGgufFile with the guard", () => {
  it("still accepts an empty but well-formed header and refuses a header the file cannot hold", async () => {
    await expect(assertGgufFile(file("empty-header.gguf", preamble(0, 0)))).resolves.toEqual({ sizeBytes: 24, version: 3 });
    const cut = readFileSync(target).subarray(0, 1000);
    const copy = path.join(dir, "copy.gguf");
    copyFileSync(target, copy);
    await expect(assertGgufFile(copy)).resolves.toMatchObject({ version: 3 });
    const failure = await assertGgufFile(file("cut.gguf", cut)).then(
      () => null,
      (e: unknown) => e as EngineFailure,
    );
    expect(failure).toMatchObject({ code: "NOT_GGUF", message: expect.stringMatching(/cut\.gguf is truncated: /) });
    expect(failure?.cause).toBeInstanceOf(GgufHeaderError);
  });
});
