/** The memory-fit estimate with the real KJV models, read locally and over HTTP; memory load failures by injection. */
import { createReadStream, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { getLlama, InsufficientMemoryError, type Llama, type LlamaOptions } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../engine/engine.js";
import { EngineFailure } from "../../engine/errors.js";
import type { FitEstimate, FitPart } from "../../contracts/engine/protocol.js";
import { sharedModel, TEST_THREADS, targetModel } from "../helpers/models.js";
import { engineParams } from "../../contracts/engine/protocol.js";

const cacheDir = mkdtempSync(path.join(os.tmpdir(), "tandem-fit-"));
const draftModel = () => sharedModel("kjv-chat-draft-1m.gguf");
let engine: Engine;

/** Serves files by name with single-range support, counting the bytes it sent; anything else is a 404. */
function startFileServer(files: Record<string, string>) {
  const served = { bytes: 0, requests: 0 };
  const server: Server = createServer((request, response) => {
    served.requests++;
    const file = files[decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname.slice(1))];
    if (!file) {
      response.writeHead(404, "Not Found").end();
      return;
    }
    const size = statSync(file).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      response.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
      return;
    }
    response.writeHead(range ? 206 : 200, {
      "Content-Length": end - start + 1,
      "Accept-Ranges": "bytes",
      ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
    });
    const stream = createReadStream(file, { start, end });
    stream.on("data", (chunk) => (served.bytes += chunk.length));
    stream.pipe(response);
  });
  return {
    served,
    url: async (name: string) => {
      if (!server.listening) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/${encodeURIComponent(name)}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const partOf = (estimate: FitEstimate, name: FitPart["part"]) => estimate.parts.find((p) => p.part === name);

async function failure(promise: Promise<unknown>): Promise<EngineFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EngineFailure) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

beforeAll(async () => {
  engine = new Engine();
  await engine.init({ gpu: "cpu", cacheDir });
});
afterAll(async () => {
  await engine?.dispose();
});

describe("estimateFit with the KJV models", () => {
  it("estimates the target's weights at about its file size and its context on the CPU", async () => {
    const estimate = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: 256, cacheSlots: 1 }));
    const fileSize = statSync(targetModel()).size;
    const weights = partOf(estimate, "target-weights")!;
    expect(weights.ramBytes).toBeGreaterThan(fileSize * 0.9);
    expect(weights.ramBytes).toBeLessThan(fileSize * 1.1);
    expect(estimate.parts.map((p) => p.part)).toEqual(["target-weights", "target-context"]);
    expect(partOf(estimate, "target-context")!.ramBytes).toBeGreaterThan(0);
    expect(estimate.parts.every((p) => p.vramBytes === 0)).toBe(true);
    expect(estimate).toMatchObject({
      verdict: "fits",
      modelName: "kjv-chat-6m.gguf",
      gpuLayers: 0,
      contextSize: 256,
      cacheSlots: 1,
      suggestion: null,
      vramBytes: 0,
    });
    expect(estimate.totalLayers).toBeGreaterThan(0);
    expect(estimate.ramBytes).toBe(estimate.parts.reduce((sum, p) => sum + p.ramBytes, 0));
    expect(estimate.available.ramBytes).toBeGreaterThan(estimate.ramBytes);
    expect(estimate.message).toMatch(/^Fits in memory: needs about \d+ MB of RAM/);
    console.log(`KJV 6M at 256 tokens, 1 slot: ${JSON.stringify(estimate.parts)}`);
  });

  it("grows the context part with the context size and with the cache slots", async () => {
    const small = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: 256, cacheSlots: 1 }));
    const long = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: 2048, cacheSlots: 1 }));
    const slotted = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: 2048, cacheSlots: 4 }));
    const context = (e: FitEstimate) => partOf(e, "target-context")!.ramBytes;
    expect(context(long)).toBeGreaterThan(context(small));
    expect(context(slotted)).toBeGreaterThan(context(long) * 2);
    expect(partOf(slotted, "target-weights")).toEqual(partOf(long, "target-weights"));
    expect(slotted.cacheSlots).toBe(4);
    console.log(`KJV 6M context bytes: 256x1 ${context(small)}, 2048x1 ${context(long)}, 2048x4 ${context(slotted)}`);
  });

  it("resolves auto context and slots the way a load does", async () => {
    const estimate = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: "auto", cacheSlots: "auto" }));
    const loaded = await engine.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: "auto", threads: TEST_THREADS, cacheSlots: "auto" }), () => {});
    try {
      expect(estimate.contextSize).toBe(loaded.trainedContextSize); // 256 < the auto cap
      expect(estimate.cacheSlots).toBe(loaded.cacheSlots);
    } finally {
      await engine.unloadModel();
    }
  });

  it("adds the draft's weights and context, the context at the target's size", async () => {
    const alone = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: 512, cacheSlots: 2 }));
    const paired = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), draftPath: draftModel(), contextSize: 512, cacheSlots: 2 }));
    expect(paired.parts.map((p) => p.part)).toEqual(["target-weights", "target-context", "draft-weights", "draft-context"]);
    const draftWeights = partOf(paired, "draft-weights")!.ramBytes;
    const draftSize = statSync(draftModel()).size;
    expect(draftWeights).toBeGreaterThan(draftSize * 0.9);
    expect(draftWeights).toBeLessThan(draftSize * 1.1);
    expect(partOf(paired, "draft-context")!.ramBytes).toBeGreaterThan(0);
    expect(paired.ramBytes).toBe(alone.ramBytes + draftWeights + partOf(paired, "draft-context")!.ramBytes);
  });

  it("gives the same estimate from an http URL, reading only the header with ranged requests", async () => {
    const server = startFileServer({ "kjv-chat-6m.gguf": targetModel() });
    try {
      const local = await engine.estimateFit(engineParams("estimateFit", { modelPath: targetModel(), contextSize: 512, cacheSlots: 1 }));
      const remote = await engine.estimateFit(engineParams("estimateFit", { modelPath: await server.url("kjv-chat-6m.gguf"), contextSize: 512, cacheSlots: 1 }));
      expect(remote.parts).toEqual(local.parts);
      expect(remote.modelName).toBe("kjv-chat-6m.gguf");
      const fileSize = statSync(targetModel()).size;
      expect(server.served.bytes).toBeGreaterThan(0);
      expect(server.served.bytes).toBeLessThan(fileSize / 2);
      console.log(`remote estimate: ${server.served.requests} requests, ${server.served.bytes} of ${fileSize} bytes served`);
    } finally {
      await server.close();
    }
  });

  it("passes the host's headers to the remote server", async () => {
    let authorization: string | undefined;
    const server = createServer((request, response) => {
      authorization = request.headers.authorization;
      response.writeHead(401, "Unauthorized").end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gated.gguf`;
      const error = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: url, contextSize: 256, headers: { Authorization: "Bearer secret" } })));
      expect(error.code).toBe("REMOTE_READ_FAILED");
      expect(error.message).toContain("HTTP 401");
      expect(authorization).toBe("Bearer secret");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("reports a 404 as REMOTE_READ_FAILED with the status, and a text file as NOT_GGUF", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "tandem-fit-text-"));
    const text = path.join(folder, "notes.gguf");
    writeFileSync(text, "These are notes, not a model.\n".repeat(20));
    const server = startFileServer({ "notes.gguf": text });
    try {
      const missing = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: await server.url("missing.gguf"), contextSize: 256 })));
      expect(missing.code).toBe("REMOTE_READ_FAILED");
      expect(missing.message).toMatch(/^Could not read the GGUF header of http:\/\/127\.0\.0\.1:\d+\/missing\.gguf: HTTP 404/);
      expect(missing.message).not.toContain("\n");

      const remoteText = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: await server.url("notes.gguf"), contextSize: 256 })));
      expect(remoteText.code).toBe("NOT_GGUF");
      const localText = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: text, contextSize: 256 })));
      expect(localText.code).toBe("NOT_GGUF");
      expect(localText.message).toContain("notes.gguf is not a GGUF model");
      const absent = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: path.join(folder, "absent.gguf"), contextSize: 256 })));
      expect(absent.code).toBe("MODEL_NOT_FOUND");
    } finally {
      await server.close();
    }
  });

  it("refuses an unreachable server with REMOTE_READ_FAILED", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: `http://127.0.0.1:${port}/x.gguf`, contextSize: 256 })));
    expect(error.code).toBe("REMOTE_READ_FAILED");
    expect(error.message).toContain(`http://127.0.0.1:${port}/x.gguf`);
  });
});

describe("loads that run out of memory (injected)", () => {
  /** An engine whose llama fails loads or context creation the way llama.cpp does when memory runs out. */
  async function engineFailing(stage: "model" | "context", message: string, only: (modelPath: string) => boolean = () => true): Promise<Engine> {
    const failing = new Engine(() => {}, {
      getLlama: async (options: LlamaOptions) => {
        const llama: Llama = await getLlama(options);
        const loadModel = llama.loadModel.bind(llama);
        llama.loadModel = async (modelOptions) => {
          if (!only(modelOptions.modelPath)) return loadModel(modelOptions);
          if (stage === "model") throw new InsufficientMemoryError(message);
          const model = await loadModel(modelOptions);
          model.createContext = async () => {
            throw new Error(message);
          };
          return model;
        };
        return llama;
      },
    });
    await failing.init({ gpu: "cpu", cacheDir });
    return failing;
  }

  it("reports a model that cannot be allocated as OUT_OF_MEMORY with advice", async () => {
    const failing = await engineFailing("model", "Not enough VRAM to fit the model with the specified settings");
    try {
      const error = await failure(failing.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS }), () => {}));
      expect(error.code).toBe("OUT_OF_MEMORY");
      expect(error.message).toMatch(/^Not enough memory for the model kjv-chat-6m\.gguf \(Not enough VRAM/);
      expect(error.message).toContain("smaller context size");
      expect(failing.loadedModel).toBeUndefined();
    } finally {
      await failing.dispose();
    }
  });

  it("reports a context that cannot be created as OUT_OF_MEMORY naming its size and slots", async () => {
    const failing = await engineFailing("context", "Failed to create context");
    try {
      const error = await failure(
        failing.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, cacheSlots: 3 }), () => {}),
      );
      expect(error.code).toBe("OUT_OF_MEMORY");
      expect(error.message).toContain("a 256-token context with 3 cache slots");
      expect(error.message).toContain("fewer cache slots");
    } finally {
      await failing.dispose();
    }
  });

  it("reports a draft whose context cannot be allocated as OUT_OF_MEMORY and keeps the target", async () => {
    const failing = await engineFailing("context", "failed to allocate CPU buffer of size 1234", (p) => p.includes("draft"));
    try {
      await failing.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, cacheSlots: 1 }), () => {});
      const error = await failure(failing.loadDraftModel({ modelPath: draftModel(), threads: TEST_THREADS }));
      expect(error.code).toBe("OUT_OF_MEMORY");
      expect(error.message).toMatch(/^Not enough memory for the draft model's 256-token context \(failed to allocate/);
      expect(failing.loadedModel?.name).toBe("kjv-chat-6m.gguf");
      expect(failing.loadedDraft).toBeUndefined();
    } finally {
      await failing.dispose();
    }
  });

  it("keeps other load failures as MODEL_LOAD_FAILED", async () => {
    const failing = await engineFailing("context", "Unknown model architecture");
    try {
      const error = await failure(failing.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS }), () => {}));
      expect(error.code).toBe("MODEL_LOAD_FAILED");
    } finally {
      await failing.dispose();
    }
  });
});
