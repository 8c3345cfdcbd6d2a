/**
 * `tandem serve --model <gguf> [--draft <gguf>] [--spec auto] [--port N] [--host 127.0.0.1] [--api-key K]`: the
 * local OpenAI-compatible API server without the app. The engine runs in its own process under an EngineSupervisor
 * (as in web mode); a crashed engine is restarted and the models loaded again. Prints the base URL on stdout; Ctrl-C
 * or SIGTERM stops the server, then the engine.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CacheSlotsSetting, ContextSizeSetting, GpuChoice, ThreadsSetting, type LoadedModel } from "../contracts/engine/protocol.js";
import { isSpeculationMode, type SpeculationModeValue } from "../contracts/engine/values.js";
import { DEFAULT_API_SERVER_SETTINGS } from "../contracts/window/domain.js";
import { SETTINGS_LIMITS } from "../contracts/window/values.js";
import { supervisorPort } from "../electron/host/api-server/engine-port.js";
import { modelId } from "../electron/host/api-server/request-options.js";
import { exposedWithoutKeyMessage, isLoopback, startApiServer } from "../electron/host/api-server/server.js";
import { defaultDataDir } from "../electron/host/data-dir.js";
import { consoleLogger, describeError } from "../electron/host/logger.js";
import { EngineSupervisor, nodeForkSpawner } from "../electron/host/supervision/supervisor.js";

/** The app's defaults for the server (declared once, in the Settings schema). */
const DEFAULTS = DEFAULT_API_SERVER_SETTINGS;

export const SERVE_HELP = `  serve --model <gguf> [options]   Run the local OpenAI-compatible API server (…/v1/chat/completions,
                              /v1/completions, /v1/models, /health, /metrics) until Ctrl-C.
      --draft <gguf>          Draft model for speculative decoding
      --spec <off|draft|lookup|ngram|auto>   Default speculation of requests (default auto)
      --host <address>        Address to listen on (default ${DEFAULTS.host}; any other needs --api-key)
      --port <n>              Port (default ${DEFAULTS.port}; 0 picks a free one)
      --api-key <key>         Require "Authorization: Bearer <key>" (default: $TANDEM_API_KEY, else none)
      --cors-origins <list>   Comma-separated browser origins allowed to call (default none; * for any)
      --max-queue <n>         Requests that may wait for the engine before 503 (default ${DEFAULTS.maxQueue})
      --context-size <n|auto> Context window (default auto)
      --slots <n|auto>        Conversation slots: requests decoded at once, batched (default auto: as many as
                              fit a memory budget, 1-8)
      --threads <n|auto>      CPU threads (default auto: measured once per model and cached)
      --gpu <auto|cuda|vulkan|metal|cpu>   Backend (default auto)
`;

export class ServeUsageError extends Error {}

interface ServeOptions {
  model: string;
  draft: string | null;
  spec: SpeculationModeValue;
  host: string;
  port: number;
  apiKey: string | null;
  corsOrigins: string[];
  maxQueue: number;
  contextSize: ContextSizeSetting;
  slots: CacheSlotsSetting;
  threads: ThreadsSetting;
  gpu: GpuChoice;
}

function setting<T>(name: string, value: string | undefined, fallback: string, schema: { safeParse(v: unknown): { success: boolean; data?: T } }): T {
  const raw = value ?? fallback;
  const parsed = schema.safeParse(/^\d+$/.test(raw) ? Number(raw) : raw);
  if (!parsed.success) throw new ServeUsageError(`--${name}: invalid value "${raw}"`);
  return parsed.data as T;
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new ServeUsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: "string" },
        draft: { type: "string" },
        spec: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "api-key": { type: "string" },
        "cors-origins": { type: "string" },
        "max-queue": { type: "string" },
        "context-size": { type: "string" },
        slots: { type: "string" },
        threads: { type: "string" },
        gpu: { type: "string" },
      },
    }));
  } catch (error) {
    throw new ServeUsageError(`serve: ${describeError(error)}`);
  }
  if (!values.model) throw new ServeUsageError("serve needs --model <path to a .gguf file>");
  const spec = values.spec ?? "auto";
  if (!isSpeculationMode(spec)) throw new ServeUsageError(`--spec must be off, draft, lookup, ngram or auto (got "${spec}")`);
  if (spec === "draft" && !values.draft) throw new ServeUsageError("--spec draft needs --draft <path to a draft .gguf>");
  const host = values.host ?? DEFAULTS.host;
  const apiKey = values["api-key"] ?? (env.TANDEM_API_KEY?.trim() || null);
  if (!isLoopback(host) && !apiKey) throw new ServeUsageError(exposedWithoutKeyMessage(host).replace("Set an API key", "Pass --api-key"));
  return {
    model: path.resolve(values.model),
    draft: values.draft ? path.resolve(values.draft) : null,
    spec,
    host,
    port: integer("port", values.port, DEFAULTS.port, SETTINGS_LIMITS.apiServerPort.min, SETTINGS_LIMITS.apiServerPort.max),
    apiKey,
    corsOrigins: (values["cors-origins"] ?? "").split(",").map((o) => o.trim()).filter(Boolean),
    maxQueue: integer("max-queue", values["max-queue"], DEFAULTS.maxQueue, SETTINGS_LIMITS.apiServerMaxQueue.min, SETTINGS_LIMITS.apiServerMaxQueue.max),
    contextSize: setting("context-size", values["context-size"], "auto", ContextSizeSetting),
    slots: setting("slots", values.slots, "auto", CacheSlotsSetting),
    threads: setting("threads", values.threads, "auto", ThreadsSetting),
    gpu: setting("gpu", values.gpu, "auto", GpuChoice),
  };
}

export async function serveCommand(argv: string[]): Promise<number> {
  const options = parseServeArgs(argv, process.env);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const supervisor = new EngineSupervisor({
    entry: fileURLToPath(new URL("./engine/main.js", import.meta.url)),
    spawner: nodeForkSpawner,
    cacheDir: path.join(defaultDataDir(), "cache"),
    gpu: options.gpu,
    logger: consoleLogger("tandem serve", "warn"),
  });

  let model: LoadedModel | null = null;
  let loading: Promise<void> = Promise.resolve();
  const load = async (): Promise<void> => {
    model = null;
    const loaded = await supervisor.request("loadModel", { modelPath: options.model, contextSize: options.contextSize, threads: options.threads, cacheSlots: options.slots });
    if (options.draft) await supervisor.request("loadDraftModel", { modelPath: options.draft, threads: "auto" });
    model = loaded;
  };

  try {
    if ((await supervisor.start()) !== "ready") throw new Error(`the engine did not start: ${supervisor.lastCrash?.message ?? "unknown reason"}`);
    await load();
    const loaded = model as LoadedModel | null;
    err(`loaded ${modelId(loaded!)} (${loaded!.threads} threads, context ${loaded!.contextSize})${options.draft ? ` with draft ${path.basename(options.draft)}` : ""}`);
  } catch (error) {
    await supervisor.stop();
    throw error;
  }
  // A crashed engine comes back empty: load the models again (requests wait for it).
  supervisor.on("ready", () => {
    loading = load().catch((error: unknown) => {
      err(`tandem serve: could not reload the model: ${describeError(error)}`);
    });
  });

  let server;
  try {
    server = await startApiServer({
      engine: supervisorPort(supervisor, () => model, () => loading),
      host: options.host,
      port: options.port,
      apiKey: () => options.apiKey,
      corsOrigins: () => options.corsOrigins,
      maxQueue: options.maxQueue,
      // No chat window here: every cache slot serves API requests.
      concurrency: () => model?.cacheSlots ?? 1,
      defaultSpeculation: () => options.spec,
      logger: consoleLogger("tandem serve", "warn"),
    });
  } catch (error) {
    await supervisor.stop();
    const code = (error as { code?: unknown }).code;
    if (code === "EADDRINUSE") throw new Error(`port ${options.port} is already in use on ${options.host}: choose another with --port`);
    throw error;
  }
  process.stdout.write(`Tandem API server: ${server.baseUrl} (model ${modelId(model!)})\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(1); // a second Ctrl-C: now
      stopping = true;
      err(`${signal}: stopping`);
      void server
        .close()
        .then(() => supervisor.stop())
        .then(
          () => resolve(0),
          (error: unknown) => {
            err(`tandem serve: shutdown failed: ${describeError(error)}`);
            resolve(1);
          },
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
}
