/**
 * Hub search and GGUF file listing (hf.ts) against a local server answering like the Hub API: fixtures in the
 * documented response shapes (see fixtures/README.md), faults for the error mapping.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  HfError,
  hubFilesFromTree,
  listHubGgufFiles,
  parseHubModels,
  parseTree,
  quantizationFromName,
  resolveHf,
  searchHubModels,
} from "../../../../electron/host/downloads/hf.js";

const fixture = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8")) as unknown;
const searchFixture = fixture("hub-search.json");
const treeFixture = fixture("hf-tree.json");

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

/** A local "Hub": answers by path (query ignored), records each request's URL and Authorization header. */
let server: http.Server;
let base: string;
const routes = new Map<string, (url: URL) => Answer>();
const requests: { url: URL; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ url, authorization: req.headers.authorization });
    const route = routes.get(url.pathname);
    const answer = route ? route(url) : { status: 404, body: '{"error":"Repository not found"}' };
    res.writeHead(answer.status ?? 200, { "Content-Type": "application/json", ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  routes.clear();
  requests.length = 0;
  routes.set("/api/models", () => ({ body: JSON.stringify(searchFixture) }));
  routes.set("/api/models/Qwen/Qwen2.5-0.5B-Instruct-GGUF/tree/main", () => ({ body: JSON.stringify(treeFixture) }));
});

const json = (value: unknown): Answer => ({ body: JSON.stringify(value) });

describe("Hub search", () => {
  it("asks /api/models for GGUF repos by downloads and reads id, downloads, likes, updated and gated", async () => {
    const results = await searchHubModels(" llama 3.2 ", { baseUrl: base, limit: 7 });
    const url = requests[0].url;
    expect(url.pathname).toBe("/api/models");
    expect(Object.fromEntries([...url.searchParams].filter(([k]) => k !== "expand"))).toEqual({
      search: "llama 3.2",
      filter: "gguf",
      sort: "downloads",
      direction: "-1",
      limit: "7",
    });
    expect(url.searchParams.getAll("expand").sort()).toEqual(["author", "downloads", "gated", "lastModified", "likes"]);
    expect(requests[0].authorization).toBeUndefined();
    expect(results).toEqual([
      { repo: "bartowski/Llama-3.2-1B-Instruct-GGUF", author: "bartowski", downloads: 184233, likes: 112, updatedAt: Date.parse("2024-09-25T18:36:22.000Z"), gated: false },
      { repo: "meta-llama/Llama-3.2-1B-Instruct-GGUF-demo", author: "meta-llama", downloads: 50211, likes: 640, updatedAt: Date.parse("2024-10-01T09:00:00.000Z"), gated: true },
      { repo: "unsloth/Llama-3.2-1B-Instruct-GGUF", author: "unsloth", downloads: 30122, likes: 58, updatedAt: Date.parse("2025-01-14T11:12:13.000Z"), gated: true },
      { repo: "someone/llama-tiny-gguf", author: "someone", downloads: 12, likes: 0, updatedAt: null, gated: false },
    ]);
  });

  it("sends the token from the getter, read at each request", async () => {
    let token: string | null = "hf_one";
    const getter = async () => token;
    await searchHubModels("x", { baseUrl: base, token: getter });
    token = null;
    await searchHubModels("x", { baseUrl: base, token: getter });
    expect(requests.map((r) => r.authorization)).toEqual(["Bearer hf_one", undefined]);
  });

  it("returns an empty list for no match", async () => {
    routes.set("/api/models", () => json([]));
    expect(await searchHubModels("zzzz", { baseUrl: base })).toEqual([]);
  });

  it("refuses answers it cannot read", () => {
    expect(() => parseHubModels({ error: "x" })).toThrow(/cannot read \(expected a list of models\)/);
    expect(() => parseHubModels([{ id: "a/b", downloads: "many" }])).toThrow(/cannot read/);
  });
});

describe("Hub GGUF files", () => {
  it("lists a repo's GGUF models: sizes, SHA-256, quantization, split sets folded, projectors left out", async () => {
    const files = await listHubGgufFiles("Qwen/Qwen2.5-0.5B-Instruct-GGUF", { baseUrl: base });
    expect(requests[0].url.pathname + requests[0].url.search).toBe("/api/models/Qwen/Qwen2.5-0.5B-Instruct-GGUF/tree/main?recursive=true");
    const repo = "Qwen/Qwen2.5-0.5B-Instruct-GGUF";
    expect(files).toEqual([
      {
        repo,
        path: "kjv-chat-draft-1m-Q8_0.gguf",
        name: "kjv-chat-draft-1m-Q8_0.gguf",
        sizeBytes: 3728000,
        sha256: "0f9486476955068934a7fad676262d823aaea3072c71d84de1bc2f9c4b32f161",
        quantization: "Q8_0",
        parts: 1,
        source: `hf:${repo}/kjv-chat-draft-1m-Q8_0.gguf`,
      },
      {
        repo,
        path: "Q6_K/qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf",
        name: "qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf",
        sizeBytes: 5_200_000_000,
        sha256: null,
        quantization: "Q6_K",
        parts: 2,
        source: `hf:${repo}/Q6_K/qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf`,
      },
      expect.objectContaining({ path: "qwen2.5-0.5b-instruct-q4_k_m.gguf", sizeBytes: 491400032, quantization: "Q4_K_M", parts: 1 }),
      expect.objectContaining({ path: "qwen2.5-0.5b-instruct-q4_k_s.gguf", sizeBytes: 397807936, quantization: "Q4_K_S", parts: 1 }),
    ]);
  });

  it("a split set with a part missing from the listing has no total size", () => {
    const entries = parseTree(treeFixture).filter((e) => !e.path.includes("00002-of"));
    const split = hubFilesFromTree("u/r", entries).find((f) => f.parts === 2);
    expect(split).toMatchObject({ sizeBytes: null, sha256: null });
  });

  it("follows the tree API's pagination (Link rel=next)", async () => {
    const entries = treeFixture as unknown[];
    routes.set("/api/models/u/paged/tree/main", (url) =>
      url.searchParams.get("cursor") === "2"
        ? json(entries.slice(5))
        : { headers: { Link: `<${base}/api/models/u/paged/tree/main?recursive=true&cursor=2>; rel="next"` }, body: JSON.stringify(entries.slice(0, 5)) },
    );
    const files = await listHubGgufFiles("u/paged", { baseUrl: base });
    expect(requests).toHaveLength(2);
    expect(files.map((f) => f.quantization)).toEqual(["Q8_0", "Q6_K", "Q4_K_M", "Q4_K_S"]);
  });

  it("parses the quantization from common file names", () => {
    const cases: [string, string | null][] = [
      ["Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"],
      ["qwen2.5-7b-instruct-q8_0.gguf", "Q8_0"],
      ["Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", "IQ4_XS"],
      ["gemma-2-2b-it-f16.gguf", "F16"],
      ["Phi-3.5-mini-instruct-BF16-00001-of-00002.gguf", "BF16"],
      ["mistral-7b-instruct-v0.2.Q5_K_S.gguf", "Q5_K_S"],
      ["Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "Q4_K_XL"],
      ["IQ2_XXS/model-00001-of-00003.gguf", "IQ2_XXS"],
      ["tinyllama-fp16.gguf", "F16"],
      ["qwen2-0_5b.gguf", null],
      ["model.gguf", null],
    ];
    for (const [name, quant] of cases) expect([name, quantizationFromName(name)]).toEqual([name, quant]);
  });

  it("resolves the first part of a split set to all its parts (so a download fetches the whole set)", async () => {
    const files = await resolveHf("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/Q6_K/qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf", { baseUrl: base });
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ["Q6_K/qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf", 4_000_000_000],
      ["Q6_K/qwen2.5-0.5b-instruct-q6_k-00002-of-00002.gguf", 1_200_000_000],
    ]);
  });
});

describe("Hub errors", () => {
  const failure = async (call: Promise<unknown>): Promise<HfError> => {
    const error = await call.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HfError);
    return error as HfError;
  };

  it("401/403 on a repo: gated, needs a token with access, set in Settings", async () => {
    routes.set("/api/models/meta-llama/gated/tree/main", () => ({ status: 401, headers: { "X-Error-Code": "GatedRepo" }, body: '{"error":"Access restricted"}' }));
    const e = await failure(listHubGgufFiles("meta-llama/gated", { baseUrl: base }));
    expect(e.kind).toBe("access-denied");
    expect(e.message).toMatch(/^meta-llama\/gated is gated or private \(HTTP 401\); it needs a Hugging Face token with access: add one in Settings/);
    routes.set("/api/models/meta-llama/gated/tree/main", () => ({ status: 403, body: "{}" }));
    const withToken = await failure(listHubGgufFiles("meta-llama/gated", { baseUrl: base, token: async () => "hf_x" }));
    expect(withToken.message).toMatch(/HTTP 403\); the Hugging Face token in Settings has no access to it/);
  });

  it("404 (or the Hub's RepoNotFound on a 401): repository not found", async () => {
    const e = await failure(listHubGgufFiles("nobody/nothing", { baseUrl: base }));
    expect([e.kind, e.message]).toEqual(["not-found", "Repository nobody/nothing was not found on the Hugging Face Hub."]);
    routes.set("/api/models/nobody/private/tree/main", () => ({ status: 401, headers: { "X-Error-Code": "RepoNotFound" }, body: "{}" }));
    expect((await failure(listHubGgufFiles("nobody/private", { baseUrl: base }))).kind).toBe("not-found");
  });

  it("429: rate limited, with the wait the Hub asks for", async () => {
    routes.set("/api/models", () => ({ status: 429, headers: { "Retry-After": "30" }, body: "{}" }));
    const e = await failure(searchHubModels("llama", { baseUrl: base }));
    expect([e.kind, e.message]).toEqual([
      "rate-limited",
      "The Hugging Face Hub is rate limiting requests (HTTP 429); try again in 30 s (a token in Settings raises the limit).",
    ]);
  });

  it("malformed JSON and 5xx", async () => {
    routes.set("/api/models", () => ({ body: "<html>oops</html>" }));
    const e = await failure(searchHubModels("llama", { baseUrl: base }));
    expect(e.kind).toBe("bad-answer");
    expect(e.message).toMatch(/^The Hugging Face Hub sent an answer Tandem cannot read \(not JSON: "<html>oops<\/html>/);
    routes.set("/api/models/u/r/tree/main", () => json({ not: "a list" }));
    expect((await failure(listHubGgufFiles("u/r", { baseUrl: base }))).message).toMatch(/file list of u\/r that Tandem cannot read/);
    routes.set("/api/models", () => ({ status: 503, body: "" }));
    expect((await failure(searchHubModels("llama", { baseUrl: base }))).message).toBe("The Hugging Face Hub answered HTTP 503; try again later.");
  });

  it("connection refused and unresolvable names: offline", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await failure(searchHubModels("llama", { baseUrl: `http://127.0.0.1:${port}` }));
    expect([refused.kind, refused.message]).toEqual([
      "offline",
      `Can't reach the Hugging Face Hub (127.0.0.1:${port}): the connection was refused. Check the internet connection.`,
    ]);
    // DNS failure injected through fetch (no network needed).
    const dns = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("getaddrinfo ENOTFOUND huggingface.co"), { code: "ENOTFOUND" }) });
    const offline = await failure(
      searchHubModels("llama", {
        fetch: async () => {
          throw dns;
        },
      }),
    );
    expect(offline.message).toBe("Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve (offline?). Check the internet connection.");
  });

  it("a malformed repo name is refused before any request", async () => {
    await failure(listHubGgufFiles("../etc", { baseUrl: base }));
    expect(requests).toHaveLength(0);
  });
});
