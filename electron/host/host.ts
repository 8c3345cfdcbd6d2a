/**
 * createHost: the whole host layer behind the TandemApi. It owns the SQLite store, the engine supervisor, model
 * loading and reply generation, and pushes every change out as window events. Shell-agnostic: the Electron main
 * process and web mode both wrap it.
 *
 * This file is the composition root: it creates the store, the supervisor and the managers, wires the engine's
 * events to them, and joins the API's parts (electron/host/api/) into the implementation behind guardApi.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { TandemApiError, type TandemApi, type WindowEvent, type WindowEventData } from "../../contracts/window/index.js";
import { apiServerApi } from "./api/api-server-api.js";
import { appApi } from "./api/app-api.js";
import { composeApi } from "./api/compose-api.js";
import { conversationsApi } from "./api/conversations-api.js";
import { databaseApi } from "./api/database-api.js";
import { downloadsApi } from "./api/downloads-api.js";
import { libraryApi } from "./api/library-api.js";
import { settingsApi } from "./api/settings-api.js";
import { connectionsApi } from "./api/connections-api.js";
import { guardApi } from "./api/dispatch.js";
import { ApiServerController } from "./api-server/controller.js";
import { supervisorPort } from "./api-server/engine-port.js";
import { Benchmarks } from "./benchmarks.js";
import { DatabaseKeeper, noticingDamage } from "./store/database-keeper.js";
import { DownloadManager, type DownloadManagerOptions } from "./downloads/download-manager.js";
import { Hub } from "./downloads/hub-search.js";
import { EngineStatusTracker } from "./supervision/engine-status.js";
import { apiError, toTandemApiError } from "./errors.js";
import { Generations, type SaveRetryTiming } from "./generations.js";
import type { FitOptions } from "./models/fit.js";
import type { HostContext } from "./host-context.js";
import { fileLogger, openAppLogs, teeLogger, type RotatingLogOptions } from "./log-files.js";
import { consoleLogger, describeError, type Logger } from "./logger.js";
import { LoadQueue } from "./models/load-queue.js";
import { importUploadedFile, type ImportOptions } from "./models/import-delete.js";
import { ModelLibrary } from "./models/library.js";
import { FileSecretStore, withEnvFallback } from "./secrets.js";
import { EngineSupervisor, type SupervisorTiming } from "./supervision/supervisor.js";
import { RemoteConnections, type RemoteConnectionsOptions } from "./remote/connections.js";
import { RemoteEngines } from "./remote/remote-engines.js";
import type { Host, HostEventListener, HostOptions } from "./types.js";

/** Knobs for tests and embedders that the shells do not need. */
export interface HostInternals {
  /** Replaces the console logger (default: stderr); <dataDir>/logs/host.log and engine.log are written either way. */
  logger?: Logger;
  /** Log rotation knobs (tests: a small size). */
  logFiles?: RotatingLogOptions;
  supervisorTiming?: Partial<SupervisorTiming>;
  /** The environment the engine's allow-listed env is taken from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Throttle for saving partial replies (default 200 ms). */
  persistIntervalMs?: number;
  /** Retrying a reply's end the store refused to write (a full disk); default 1 s doubling to 60 s, for an hour. */
  saveRetry?: Partial<SaveRetryTiming>;
  /** How long dispose() lets a running reply stop cleanly before stopping the engine (default 2 s). */
  disposeAbortWaitMs?: number;
  /** Where the A/B benchmark's built-in prompt sets are (default: engine/bench/prompts found from the built file). */
  benchPromptsDir?: string;
  /** Download knobs (tests: a local Hugging Face base URL, fast retries, progress interval). */
  downloads?: Pick<DownloadManagerOptions, "hfBaseUrl" | "hfToken" | "progressIntervalMs" | "downloadOptions">;
  /** Import knobs (tests: a fault injected mid-copy). */
  imports?: ImportOptions;
  /** Quiet time before a change in a library folder is pushed as `modelsChanged` (default 300 ms). */
  watchDebounceMs?: number;
  /** Remote engines' client knobs (tests: short timeouts, no retry delay). */
  remoteClient?: RemoteConnectionsOptions["client"];
}

export const DATABASE_FILE = "tandem.db";
/** The API server's key, a 0600 file in the data folder unless the shell gives another SecretStore. */
export const API_KEY_FILE = "api-key";

export function createHost(options: HostOptions, internals: HostInternals = {}): Host {
  const logs = openAppLogs(options.dataDir, internals.logFiles);
  const logger = teeLogger(internals.logger ?? consoleLogger("host"), fileLogger(logs.host));
  const engineLog = fileLogger(logs.engine);
  const listeners = new Set<HostEventListener>();
  let startPromise: Promise<void> | null = null;
  let disposePromise: Promise<void> | null = null;

  /** Set once the controller exists; every settings change reaches it through emit. */
  let apiServer: ApiServerController | null = null;
  const emit = <E extends WindowEvent>(event: E, data: WindowEventData<E>): void => {
    if (event === "settingsChanged" && apiServer && startPromise && !disposePromise) {
      void apiServer.apply((data as WindowEventData<"settingsChanged">).apiServer);
    }
    for (const listener of [...listeners]) {
      try {
        listener(event, data);
      } catch (error) {
        logger.error(`A host event listener failed on "${event}": ${describeError(error)}`);
      }
    }
  };

  const supervisor = new EngineSupervisor({
    entry: options.engineEntry,
    spawner: options.spawner,
    cacheDir: join(options.dataDir, "cache"),
    gpu: "auto",
    env: internals.env,
    timing: internals.supervisorTiming,
    logger,
  });
  const status = new EngineStatusTracker((snapshot) => emit("engineStatus", snapshot));
  /** The store, and whether it is healthy or damaged (then read-only until recovered from the window). */
  const database = new DatabaseKeeper({
    dataDir: options.dataDir,
    file: join(options.dataDir, DATABASE_FILE),
    logger,
    openFailureLog: fileLogger(logs.host),
    nativeBinding: options.sqliteNativeBinding,
    onChange: (snapshot) => emit("databaseStatus", snapshot),
  });
  const ctx: HostContext = {
    // Opened on first use, so a window that calls before start() (it must not wait for the engine) is served too.
    store() {
      const open = database.current;
      if (open) return open;
      // While dispose() runs the open store stays usable (replies being stopped still record their end).
      if (disposePromise) throw apiError("NOT_STARTED", "Tandem is shutting down.");
      mkdirSync(options.dataDir, { recursive: true });
      // A damaged database opens read-only (writes refused); one that can't be opened throws DATABASE_UNAVAILABLE.
      return database.open();
    },
    supervisor,
    status,
    emit,
    logger,
  };
  const models = new LoadQueue(ctx);
  const remote = new RemoteEngines(
    ctx,
    new RemoteConnections({ dataDir: options.dataDir, secrets: options.remoteKeySecrets, client: internals.remoteClient }),
  );
  const generations = new Generations(ctx, models, internals.persistIntervalMs ?? 200, internals.saveRetry);
  const benchmarks = new Benchmarks(ctx, internals.benchPromptsDir);
  /** A reply and an A/B benchmark never run together, and neither lets the model change under it. */
  const assertIdle = (): void => {
    generations.assertIdle();
    benchmarks.assertIdle();
  };

  supervisor.on("state", (state) => status.setEngineState(state, supervisor.restarts));
  supervisor.on("stderr", (line) => logs.engine.write("info", `[stderr] ${line}`));
  supervisor.on("ready", (system) => {
    status.update({ system });
    // A fresh engine holds no model: bring back the saved one (first start, crash recovery, GPU change).
    if (!disposePromise) models.reloadSaved();
  });
  supervisor.on("crash", ({ crash, restarting }) => {
    logger.error(`Engine crashed (${crash.reason}${crash.exitCode !== null ? `, code ${crash.exitCode}` : ""}${crash.signal ? `, ${crash.signal}` : ""}): ${crash.message}; ${restarting ? "restarting" : "giving up"}`);
    engineLog.error(`--- crashed (${crash.reason}): ${crash.message}`);
    status.update({ lastCrash: crash });
    emit("engineCrashed", { crash, restarting });
  });
  supervisor.on("engineEvent", (message) => {
    switch (message.event) {
      case "tokens":
        generations.onTokens(message.data);
        break;
      case "cacheOutcome":
        generations.onCacheOutcome(message.data);
        break;
      case "modelLoadProgress":
        emit("modelLoadProgress", message.data);
        break;
      case "benchmarkProgress":
        benchmarks.onProgress(message.data);
        break;
      case "log":
        logger[message.data.level](`[engine] ${message.data.message}`);
        engineLog[message.data.level](message.data.message);
        break;
    }
  });

  /** The Hugging Face token: read from here at every Hub request, never sent to the window. */
  const secrets = withEnvFallback(options.secrets ?? new FileSecretStore(options.dataDir), internals.env ?? process.env);
  /** How the Hub and estimateFit reach Hugging Face (tests: a local base URL and token). */
  const hf: FitOptions = {
    ...(internals.downloads?.hfBaseUrl ? { hfBaseUrl: () => internals.downloads!.hfBaseUrl! } : {}),
    hfToken: async () => internals.downloads?.hfToken ?? (await secrets.get()),
  };
  const downloads = new DownloadManager({
    tokenSource: () => secrets.get(),
    ...internals.downloads,
    modelsFolder: () => ctx.store().getSettings().modelsFolder,
    emit: (info) => emit("downloadProgress", info),
    onComplete: (info) => {
      ctx.store().setModelOrigin(resolve(info.destPath), { kind: "downloaded", source: info.source, at: Date.now() });
      // The new file, with where it came from, for every window (the folder watcher would push it too, later).
      library.publish().catch((error: unknown) => logger.warn(`Listing the library failed: ${describeError(error)}`));
    },
    logger,
  });
  const hub = new Hub({ ...(hf.hfBaseUrl ? { baseUrl: hf.hfBaseUrl } : {}), token: hf.hfToken });
  const library = new ModelLibrary(ctx, { watchDebounceMs: internals.watchDebounceMs, disposing: () => disposePromise !== null });
  apiServer = new ApiServerController(
    ctx,
    supervisorPort(supervisor, () => status.current.model, () => models.whenIdle()),
    options.apiKeySecrets ?? new FileSecretStore(options.dataDir, API_KEY_FILE),
  );
  const apiServerController = apiServer;

  // ---- the API ----------------------------------------------------------------------------------------------

  const implementation: TandemApi = composeApi(
    conversationsApi(ctx, { generations, remote, assertIdle }),
    libraryApi(ctx, { options, library, models, assertIdle, imports: internals.imports, fit: hf }),
    settingsApi(ctx, { library, models, assertIdle }),
    downloadsApi(ctx, { downloads, hub, secrets }),
    appApi(ctx, { options, logsDir: logs.dir, models, generations, benchmarks, assertIdle }),
    databaseApi(ctx, { database, library, models, assertIdle }),
    apiServerApi(apiServerController),
    connectionsApi(remote),
  );

  const api = guardApi(noticingDamage(implementation, database), logger);

  return {
    api,

    async importUpload(name: string, body: Readable, sizeBytes: number | null) {
      try {
        return await library.importInto((folder) => importUploadedFile(body, name, folder, sizeBytes, internals.imports), name);
      } catch (error) {
        throw toTandemApiError(error);
      }
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    start() {
      startPromise ??= (async () => {
        if (disposePromise) throw new TandemApiError("NOT_STARTED", "This host has been disposed.");
        supervisor.setGpu(ctx.store().getSettings().gpu);
        library.rearm();
        // Temp files of imports a crash cut short (hidden from the library, so otherwise never reclaimed).
        void library.removeImportLeftovers();
        void downloads.scan();
        // Requests that arrive before the engine and its model are ready wait for them.
        void apiServerController.apply(ctx.store().getSettings().apiServer);
        // The model picker lists each server's models from its last test.
        remote.testAllInBackground();
        await supervisor.start();
      })();
      return startPromise;
    },

    dispose() {
      disposePromise ??= (async () => {
        // Let a running reply end as 'stopped' with its text, then stop the engine; anything still running after
        // that fails with ENGINE_STOPPED and is recorded as 'interrupted' before the database closes.
        benchmarks.cancel();
        await apiServerController.close();
        library.close();
        await downloads.dispose();
        await generations.stopAll(internals.disposeAbortWaitMs ?? 2_000);
        await supervisor.stop();
        await generations.whenIdle();
        await models.whenIdle();
        generations.close(); // a last try at reply ends a full disk kept from being saved
        database.close();
        logs.close();
      })();
      return disposePromise;
    },
  };
}
