/** Hub search and file listing through the host API (validation, HUB_FAILED errors), against a local Hub. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { apiError } from "../api-error.js";
import { startTestServer, type TestServer } from "./test-server.js";
import { writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", name), "utf8")) as unknown;

let server: TestServer;
let entry: string;
const hosts: Host[] = [];

beforeAll(async () => {
  entry = writeFakeEngine();
  server = await startTestServer();
  server.json.set("/api/models", fixture("hub-search.json"));
  server.json.set("/api/models/user/repo/tree/main", fixture("hf-tree.json"));
});
afterAll(() => server.close());
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function makeHost(hfToken?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-hub-"));
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
    { logger: recordingLogger(), downloads: { hfBaseUrl: server.url(""), ...(hfToken ? { hfToken } : {}) } },
  );
  hosts.push(host);
  return host;
}

describe("Hub search through the host API", () => {
  it("searchHub returns the Hub's GGUF repos, with the token when one is set", async () => {
    const host = makeHost("hf_secret");
    server.requests.length = 0;
    const { results } = await host.api.searchHub({ query: "llama", limit: 5 });
    expect(results.map((r) => [r.repo, r.gated])).toEqual([
      ["bartowski/Llama-3.2-1B-Instruct-GGUF", false],
      ["meta-llama/Llama-3.2-1B-Instruct-GGUF-demo", true],
      ["unsloth/Llama-3.2-1B-Instruct-GGUF", true],
      ["someone/llama-tiny-gguf", false],
    ]);
    expect(server.requests[0]).toMatchObject({ path: "/api/models", authorization: "Bearer hf_secret" });
  });

  it("listHubFiles returns the repo's GGUF models", async () => {
    const host = makeHost();
    const listing = await host.api.listHubFiles({ repo: "user/repo" });
    expect(listing.repo).toBe("user/repo");
    expect(listing.files.map((f) => [f.name, f.quantization, f.parts, f.source])).toEqual([
      ["kjv-chat-draft-1m-Q8_0.gguf", "Q8_0", 1, "hf:user/repo/kjv-chat-draft-1m-Q8_0.gguf"],
      ["qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf", "Q6_K", 2, "hf:user/repo/Q6_K/qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf"],
      ["qwen2.5-0.5b-instruct-q4_k_m.gguf", "Q4_K_M", 1, "hf:user/repo/qwen2.5-0.5b-instruct-q4_k_m.gguf"],
      ["qwen2.5-0.5b-instruct-q4_k_s.gguf", "Q4_K_S", 1, "hf:user/repo/qwen2.5-0.5b-instruct-q4_k_s.gguf"],
    ]);
  });

  it("validates parameters (BAD_REQUEST) and reports Hub failures as HUB_FAILED", async () => {
    const host = makeHost();
    for (const repo of ["not-a-repo", "a/b/c", "../x", ""]) {
      expect((await apiError(host.api.listHubFiles({ repo }))).code).toBe("BAD_REQUEST");
    }
    expect((await apiError(host.api.searchHub({ query: "   " }))).code).toBe("BAD_REQUEST");
    expect((await apiError(host.api.searchHub({ query: "x", limit: 500 }))).code).toBe("BAD_REQUEST");
    const missing = await apiError(host.api.listHubFiles({ repo: "nobody/nothing" }));
    expect([missing.code, missing.message]).toEqual(["HUB_FAILED", "Repository nobody/nothing was not found on the Hugging Face Hub."]);
    server.faults.set("/api/models/gated/repo/tree/main", [{ kind: "status", status: 401 }]);
    const gated = await apiError(host.api.listHubFiles({ repo: "gated/repo" }));
    expect(gated.code).toBe("HUB_FAILED");
    expect(gated.message).toMatch(/needs a Hugging Face token with access: add one in Settings/);
  });
});
