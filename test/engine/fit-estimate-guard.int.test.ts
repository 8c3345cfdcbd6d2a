/**
 * The memory-fit estimate on crafted GGUF headers: local files and URLs both go through the header guard before
 * node-llama-cpp's reader, so the engine answers NOT_GGUF at once instead of aborting (its process is the one
 * that reads the header).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../engine/engine.js";
import { EngineFailure } from "../../engine/errors.js";
import { startTestServer, type TestServer } from "../electron/host/downloads/test-server.js";
import { CRAFTED } from "./gguf/crafted.js";
import { engineParams } from "../../contracts/engine/protocol.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-fit-guard-"));
let engine: Engine;
let server: TestServer;

async function failure(promise: Promise<unknown>): Promise<EngineFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineFailure);
  expect((error as Error).message).not.toContain("\n");
  return error as EngineFailure;
}

beforeAll(async () => {
  engine = new Engine();
  await engine.init({ gpu: "cpu", cacheDir: mkdtempSync(path.join(os.tmpdir(), "tandem-fit-guard-cache-")) });
  server = await startTestServer(Object.fromEntries(CRAFTED.map(([name, make]) => [`/${name}`, make()])));
});
afterAll(async () => {
  await server?.close();
  await engine?.dispose();
});

describe("estimateFit on crafted headers", () => {
  it.each(CRAFTED)("refuses %s with NOT_GGUF, from a file and from a URL", async (name, make) => {
    const file = path.join(dir, name);
    writeFileSync(file, make());
    const local = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: file, contextSize: 256 })));
    expect(local.code).toBe("NOT_GGUF");
    expect(local.message).toMatch(/ is not a valid GGUF model: its header declares /);

    const url = server.url(`/${name}`);
    const remote = await failure(engine.estimateFit(engineParams("estimateFit", { modelPath: url, contextSize: 256 })));
    expect(remote.code).toBe("NOT_GGUF");
    expect(remote.message.startsWith(`${url} is not a valid GGUF model: its header declares `)).toBe(true);
  });
});
