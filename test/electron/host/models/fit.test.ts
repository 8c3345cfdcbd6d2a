/** The host's estimateFit over the fake engine: defaults from settings, hf: references, the token, errors. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { engineParams, type EngineParams, type EngineRequestParams } from "../../../../contracts/engine/protocol.js";
import { NO_MODEL_TO_ESTIMATE } from "../../../../electron/host/models/fit.js";
import { createHost } from "../../../../electron/host/host.js";
import { nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import type { Host } from "../../../../electron/host/types.js";
import { apiError } from "../api-error.js";
import { startTestServer, type TestServer } from "../downloads/test-server.js";
import { writeFakeEngine } from "../fake-engine.js";
import { recordingLogger } from "../test-logger.js";

let entry: string;
let modelsDir: string;
let target: string;
let draft: string;
let server: TestServer;
const hosts: Host[] = [];

beforeAll(async () => {
  entry = writeFakeEngine();
  modelsDir = mkdtempSync(join(tmpdir(), "tandem-fit-models-"));
  target = join(modelsDir, "kjv-fake.gguf");
  draft = join(modelsDir, "kjv-draft-fake.gguf");
  writeFileSync(target, "fake");
  writeFileSync(draft, "fake");
  server = await startTestServer({ "/user/repo/resolve/main/model-Q4_K_M.gguf": Buffer.from("fake") });
  server.json.set("/api/models/user/repo/tree/main", [{ type: "file", path: "model-Q4_K_M.gguf", size: 4 }]);
});
afterAll(() => server.close());
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function makeHost(options: { hfToken?: string } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-fit-host-"));
  const calls = join(dataDir, "calls.jsonl");
  const host = createHost(
    { dataDir, engineEntry: entry, spawner: nodeForkSpawner, mode: "web", appVersion: "1" },
    {
      logger: recordingLogger(),
      env: { PATH: process.env.PATH, TANDEM_FAKE_RECORD_CALLS: calls },
      downloads: { hfBaseUrl: server.url(""), ...(options.hfToken ? { hfToken: options.hfToken } : {}) },
    },
  );
  hosts.push(host);
  /** The params of every estimateFit the engine received, as the engine parses them (its schema's defaults applied). */
  const engineCalls = (): Array<EngineParams<"estimateFit">> =>
    existsSync(calls)
      ? readFileSync(calls, "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { method: string; params: EngineRequestParams<"estimateFit"> })
          .filter((call) => call.method === "estimateFit")
          .map((call) => engineParams("estimateFit", call.params))
      : [];
  return { host, engineCalls };
}

describe("estimateFit", () => {
  it("refuses with BAD_REQUEST when no model is configured and none is named", async () => {
    const { host } = makeHost();
    await host.start();
    const error = await apiError(host.api.estimateFit({}));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toBe(NO_MODEL_TO_ESTIMATE);
  });

  it("estimates the configured model, draft, context size and cache slots by default, GPU layers auto", async () => {
    const { host, engineCalls } = makeHost();
    await host.start();
    await host.api.loadModel({ path: target });
    await host.api.setDraftModel({ path: draft });
    await host.api.updateSettings({ contextSize: 1024, cacheSlots: 3 });

    const estimate = await host.api.estimateFit({});
    expect(engineCalls().at(-1)).toEqual({ modelPath: target, draftPath: draft, contextSize: 1024, cacheSlots: 3, gpuLayers: "auto" });
    expect(estimate).toMatchObject({ verdict: "fits", modelName: "kjv-fake.gguf", contextSize: 1024, cacheSlots: 3 });
    expect(estimate.parts.map((p) => p.part)).toEqual(["target-weights", "target-context", "draft-weights", "draft-context"]);
  });

  it("takes a source, no draft and other settings when given", async () => {
    const { host, engineCalls } = makeHost();
    await host.start();
    await host.api.loadModel({ path: target });
    await host.api.setDraftModel({ path: draft });

    const estimate = await host.api.estimateFit({ source: draft, draftSource: null, contextSize: 512, cacheSlots: 1, gpuLayers: 4 });
    expect(engineCalls().at(-1)).toEqual({ modelPath: draft, draftPath: null, contextSize: 512, cacheSlots: 1, gpuLayers: 4 });
    expect(estimate.parts.map((p) => p.part)).toEqual(["target-weights", "target-context"]);
  });

  it("passes a won't-fit verdict and its suggestion through", async () => {
    const huge = join(modelsDir, "huge-70b.gguf");
    writeFileSync(huge, "fake");
    const { host } = makeHost();
    await host.start();
    const estimate = await host.api.estimateFit({ source: huge, draftSource: null });
    expect(estimate).toMatchObject({ verdict: "wont-fit", suggestion: { contextSize: 512 } });
  });

  it("resolves an hf: reference to its download URL and sends the token to that host only", async () => {
    const { host, engineCalls } = makeHost({ hfToken: "hf_secret" });
    await host.start();
    await host.api.estimateFit({ source: "hf:user/repo:Q4_K_M", draftSource: null });
    expect(engineCalls().at(-1)).toMatchObject({
      modelPath: server.url("/user/repo/resolve/main/model-Q4_K_M.gguf"),
      headers: { Authorization: "Bearer hf_secret" },
    });
    // The tree lookup carried the token too.
    expect(server.requests.find((r) => r.path === "/api/models/user/repo/tree/main")?.authorization).toBe("Bearer hf_secret");

    await host.api.estimateFit({ source: "https://elsewhere.example/model.gguf", draftSource: null });
    expect(engineCalls().at(-1)).toEqual({
      modelPath: "https://elsewhere.example/model.gguf",
      draftPath: null,
      contextSize: "auto",
      cacheSlots: "auto",
      gpuLayers: "auto",
    });
  });

  it("reports an hf: reference that cannot be resolved as REMOTE_READ_FAILED", async () => {
    const { host } = makeHost();
    await host.start();
    const error = await apiError(host.api.estimateFit({ source: "hf:user/missing:Q4_K_M", draftSource: null }));
    expect(error.code).toBe("REMOTE_READ_FAILED");
    expect(error.message).toContain("hf:user/missing:Q4_K_M");
  });

  it("reports a missing library file and the engine's own errors", async () => {
    const { host } = makeHost();
    await host.start();
    const missing = await apiError(host.api.estimateFit({ source: join(modelsDir, "absent.gguf") }));
    expect(missing.code).toBe("MODEL_NOT_FOUND");
    const notGguf = join(modelsDir, "notgguf.gguf");
    writeFileSync(notGguf, "text");
    const refused = await apiError(host.api.estimateFit({ source: notGguf, draftSource: null }));
    expect(refused.code).toBe("NOT_GGUF");
  });

  it("reports a load that ran out of memory as OUT_OF_MEMORY, in the error and the status", async () => {
    const oom = join(modelsDir, "oom-model.gguf");
    writeFileSync(oom, "fake");
    const { host } = makeHost();
    await host.start();
    const error = await apiError(host.api.loadModel({ path: oom }));
    expect(error.code).toBe("OUT_OF_MEMORY");
    expect(error.message).toContain("Not enough memory");
    const status = await host.api.getEngineStatus({});
    expect(status.model).toBeNull();
    expect(status.modelError).toBe(error.message);
  });

  it("answers ENGINE_UNAVAILABLE when the engine is not running", async () => {
    const { host } = makeHost();
    const error = await apiError(host.api.estimateFit({ source: target }));
    expect(error.code).toBe("ENGINE_UNAVAILABLE");
  });
});
