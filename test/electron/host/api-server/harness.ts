/**
 * The API server over the real engine (dist/engine/main.js, built by `node build.mjs`) and the shared KJV model: an
 * EngineSupervisor with the fork spawner, the model loaded with 1 thread and a 256-token context, optionally the
 * draft, and the server on 127.0.0.1 port 0. Every engine result is recorded, so tests can see how a generation
 * ended in the engine (an abort, for one).
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationResult, LoadedModel, SpeculationMode } from "../../../../contracts/engine/protocol.js";
import { supervisorPort, type ApiEngine } from "../../../../electron/host/api-server/engine-port.js";
import { startApiServer, type ApiServer, type ApiServerOptions } from "../../../../electron/host/api-server/server.js";
import { silentLogger } from "../../../../electron/host/logger.js";
import { EngineSupervisor, nodeForkSpawner } from "../../../../electron/host/supervision/supervisor.js";
import { repoPath, sharedModel, targetModel, TEST_THREADS } from "../../../helpers/models.js";

export const MODEL_ID = "kjv-chat-6m.gguf";

export interface Harness {
  supervisor: EngineSupervisor;
  server: ApiServer;
  baseUrl: string;
  /** http://127.0.0.1:port (no /v1). */
  origin: string;
  model: LoadedModel;
  /** Every generate result the engine returned, in order. */
  results: GenerationResult[];
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<ApiServerOptions, "engine" | "port" | "apiKey">> {
  draft?: boolean;
  apiKey?: string | null;
  speculation?: SpeculationMode;
  /** Extra engine environment (TANDEM_ENGINE_STEP_DELAY_MS paces decoding). */
  env?: Record<string, string>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const entry = repoPath("dist/engine/main.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`node build.mjs\` first`);
  const supervisor = new EngineSupervisor({
    entry,
    spawner: nodeForkSpawner,
    cacheDir: mkdtempSync(join(tmpdir(), "tandem-api-int-")),
    gpu: "cpu",
    env: { ...process.env, ...options.env },
    logger: silentLogger,
  });
  if ((await supervisor.start()) !== "ready") throw new Error("The engine did not start");
  try {
    const model = await supervisor.request("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, cacheSlots: 2 });
    if (options.draft) await supervisor.request("loadDraftModel", { modelPath: sharedModel("kjv-chat-draft-1m.gguf"), threads: TEST_THREADS });
    const results: GenerationResult[] = [];
    const port = supervisorPort(supervisor, () => model);
    const engine: ApiEngine = {
      ...port,
      generate: async (params) => {
        const result = await port.generate(params);
        results.push(result);
        return result;
      },
    };
    const server = await startApiServer({
      maxQueue: 16,
      defaultSpeculation: () => options.speculation ?? "off",
      maxDraftTokens: () => 8,
      logger: silentLogger,
      ...options,
      engine,
      port: 0,
      apiKey: () => options.apiKey ?? null,
    });
    return {
      supervisor,
      server,
      baseUrl: server.baseUrl,
      origin: `http://127.0.0.1:${server.port}`,
      model,
      results,
      async close() {
        await server.close();
        await supervisor.stop();
      },
    };
  } catch (error) {
    await supervisor.stop();
    throw error;
  }
}

/** Polls until `check` holds (or fails after `timeoutMs`). */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
