/**
 * createHost: the whole host layer behind the TandemApi. It owns the SQLite store, the engine supervisor, model
 * loading and reply generation, and pushes every change out as window events. Shell-agnostic: the Electron main
 * process and web mode both wrap it.
 */
import { mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import {
  TandemApiError,
  type Settings,
  type Conversation,
  type GenerationSettings,
  type Message,
  type TandemApi,
  type WindowEvent,
  type WindowEventData,
} from "../window-api.js";
import { guardApi } from "./api-dispatch.js";
import { Benchmarks } from "./benchmarks.js";
import { DownloadManager, type DownloadManagerOptions } from "./download-manager.js";
import { Hub } from "./hub.js";
import { EngineStatusTracker } from "./engine-status.js";
import { nodeLlamaCppVersion } from "../../engine/node-llama-cpp-version.js";
import { appPaths, openAppFolder } from "./app-folders.js";
import { apiError, toTandemApiError } from "./errors.js";
import { Generations } from "./generations.js";
import { estimateFit } from "./fit.js";
import type { HostContext } from "./host-context.js";
import { fileLogger, openAppLogs, readLogTail, teeLogger, type RotatingLogOptions } from "./log-files.js";
import { consoleLogger, describeError, type Logger } from "./logger.js";
import { ModelManager } from "./model-manager.js";
import { ModelLibrary } from "./model-library.js";
import { deleteModelFile, importModelFile, importUploadedFile, type ImportOptions } from "./model-files.js";
import { libraryFolders, libraryListing, withFolderAdded, withFolderRemoved } from "./library-folders.js";
import { LibraryWatcher } from "./library-watcher.js";
import { FileSecretStore, withEnvFallback } from "./secrets.js";
import { validateModelsFolder } from "./models.js";
import { ChatStore, DEFAULT_CONVERSATION_TITLE } from "./store.js";
import { EngineSupervisor, type SupervisorTiming } from "./supervisor.js";
import { titleFromMessage } from "./titles.js";
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
}

export const DATABASE_FILE = "tandem.db";

export function createHost(options: HostOptions, internals: HostInternals = {}): Host {
  const logs = openAppLogs(options.dataDir, internals.logFiles);
  const logger = teeLogger(internals.logger ?? consoleLogger("host"), fileLogger(logs.host));
  const engineLog = fileLogger(logs.engine);
  const listeners = new Set<HostEventListener>();
  let store: ChatStore | null = null;
  let startPromise: Promise<void> | null = null;
  let disposePromise: Promise<void> | null = null;

  const openStore = (): ChatStore => {
    mkdirSync(options.dataDir, { recursive: true });
    return new ChatStore(join(options.dataDir, DATABASE_FILE), {
      dataDir: options.dataDir,
      logger,
      nativeBinding: options.sqliteNativeBinding,
    });
  };

  const emit = <E extends WindowEvent>(event: E, data: WindowEventData<E>): void => {
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
  const ctx: HostContext = {
    // Opened on first use, so a window that calls before start() (it must not wait for the engine) is served too.
    store() {
      if (store) return store;
      // While dispose() runs the open store stays usable (replies being stopped still record their end).
      if (disposePromise) throw apiError("NOT_STARTED", "Tandem is shutting down.");
      store = openStore();
      return store;
    },
    supervisor,
    status,
    emit,
    logger,
  };
  const models = new ModelManager(ctx);
  const generations = new Generations(ctx, models, internals.persistIntervalMs ?? 200);
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
      case "loadProgress":
        emit("modelLoadProgress", { path: message.data.modelPath, progress: message.data.progress });
        break;
      case "benchProgress":
        benchmarks.onProgress(message.data);
        break;
      case "log":
        logger[message.data.level](`[engine] ${message.data.message}`);
        engineLog[message.data.level](message.data.message);
        break;
    }
  });

  // ---- helpers over the store -------------------------------------------------------------------------------

  const requireConversation = (id: string): Conversation => {
    const conversation = ctx.store().getConversation(id);
    if (!conversation) throw apiError("NOT_FOUND", "That conversation no longer exists.");
    return conversation;
  };

  const touch = (conversationId: string): void => {
    const conversation = ctx.store().touchConversation(conversationId);
    if (conversation) emit("conversationUpdated", { conversation });
  };

  /** Adds the assistant placeholder after the conversation's current messages and starts generating into it. */
  const startReply = (conversationId: string): Message => {
    const db = ctx.store();
    const settings = db.getSettings();
    const conversation = requireConversation(conversationId);
    const modelPath = status.current.model?.modelPath ?? settings.modelPath;
    const mode = conversation.speculation ?? settings.speculation;
    // The draft is recorded when the reply's mode may use it (and one is loaded as the reply is asked for).
    const draft = mode === "draft" || mode === "auto" ? status.current.draftModel : null;
    const snapshot: GenerationSettings = {
      systemPrompt: settings.systemPrompt,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      speculation: mode,
      draftModel: draft ? basename(draft.modelPath) : null,
    };
    const history = db.getMessages(conversationId);
    const placeholder = db.addMessage({
      conversationId,
      role: "assistant",
      content: "",
      status: "streaming",
      model: modelPath ? basename(modelPath) : null,
      settings: snapshot,
    });
    generations.begin({
      conversationId,
      messageId: placeholder.id,
      settings: snapshot,
      speculation: { mode, maxDraftTokens: settings.maxDraftTokens },
      history,
    });
    return placeholder;
  };

  const library = new ModelLibrary();
  /** The Hugging Face token: read from here at every Hub request, never sent to the window. */
  const secrets = withEnvFallback(options.secrets ?? new FileSecretStore(options.dataDir), internals.env ?? process.env);
  const downloads = new DownloadManager({
    tokenSource: () => secrets.get(),
    ...internals.downloads,
    modelsFolder: () => ctx.store().getSettings().modelsFolder,
    emit: (info) => emit("downloadProgress", info),
    onComplete: (info) => ctx.store().setModelOrigin(resolve(info.destPath), { kind: "downloaded", source: info.source, at: Date.now() }),
    logger,
  });
  const hub = new Hub({
    ...(internals.downloads?.hfBaseUrl ? { baseUrl: () => internals.downloads!.hfBaseUrl! } : {}),
    token: async () => internals.downloads?.hfToken ?? (await secrets.get()),
  });
  const modelsListing = () => libraryListing(library, ctx.store().getSettings(), (paths) => ctx.store().getModelOrigins(paths));
  // Library folders are watched: anything added, removed or renamed in them (by Tandem or not) is pushed.
  const watcher = new LibraryWatcher({
    debounceMs: internals.watchDebounceMs,
    logger,
    onChange: () => {
      if (disposePromise) return;
      rearmWatcher(); // a folder that appeared since (the main one, made by the first import) is watched too
      modelsListing().then(
        (listing) => emit("modelsChanged", listing),
        (error: unknown) => logger.warn(`Listing the library failed: ${describeError(error)}`),
      );
    },
  });
  const rearmWatcher = () => watcher.arm(libraryFolders(ctx.store().getSettings()));
  const saveFolders = async (patch: Partial<Settings>) => {
    emit("settingsChanged", ctx.store().updateSettings(patch));
    rearmWatcher();
    return modelsListing();
  };
  const setModelsFolder = async (path: string) => saveFolders({ modelsFolder: await validateModelsFolder(path) });
  /** Imports into the main folder, records where the file came from and returns importModel's result. */
  const importInto = async (run: (folder: string) => Promise<{ path: string; method: "copied" | "linked" | "uploaded" }>, from: string) => {
    const imported = await run(ctx.store().getSettings().modelsFolder);
    ctx.store().setModelOrigin(imported.path, { kind: "imported", from, method: imported.method, at: Date.now() });
    rearmWatcher();
    const listing = await modelsListing();
    const model = listing.models.find((m) => m.path === imported.path);
    if (!model) throw apiError("IMPORT_FAILED", `"${basename(imported.path)}" was imported but is not in the models folder listing.`);
    logger.info(`Imported ${basename(from)} as ${basename(imported.path)} (${imported.method})`);
    return { method: imported.method, model, ...listing };
  };

  /** Restarts the engine in the background; its `ready` event reloads the saved model. */
  const restartInBackground = (why: string): void => {
    supervisor.restart().catch((error: unknown) => logger.error(`Engine restart (${why}) failed: ${describeError(error)}`));
  };

  // ---- the API ----------------------------------------------------------------------------------------------

  const currentPaths = () => appPaths(options.dataDir, ctx.store().getSettings().modelsFolder);

  const implementation: TandemApi = {
    async getAppInfo() {
      return {
        version: options.appVersion,
        mode: options.mode,
        dataDir: options.dataDir,
        platform: process.platform,
        canPickFolder: options.pickFolder !== undefined,
        canPickFile: options.pickModelFile !== undefined,
        canUpload: options.mode === "web",
        canOpenFolder: options.openFolder !== undefined,
        paths: currentPaths(),
        versions: {
          app: options.appVersion,
          electron: process.versions.electron ?? null,
          chrome: process.versions.chrome ?? null,
          node: process.versions.node,
          nodeLlamaCpp: nodeLlamaCppVersion(),
        },
      };
    },

    async listConversations({ query }) {
      return ctx.store().listConversations(query);
    },

    async createConversation({ title }) {
      const conversation = ctx.store().createConversation(title?.trim() || DEFAULT_CONVERSATION_TITLE);
      emit("conversationUpdated", { conversation });
      return conversation;
    },

    async renameConversation({ id, title }) {
      const conversation = ctx.store().renameConversation(id, title.trim());
      if (!conversation) throw apiError("NOT_FOUND", "That conversation no longer exists.");
      emit("conversationUpdated", { conversation });
      return conversation;
    },

    async deleteConversation({ id }) {
      generations.stop(id);
      const deleted = ctx.store().deleteConversation(id);
      if (deleted) emit("conversationDeleted", { id });
      return { deleted };
    },

    async getConversation({ id }) {
      const conversation = requireConversation(id);
      // The reply being streamed is saved only every ~200 ms: show what has arrived so far.
      const messages = ctx.store().getMessages(id).map((message) => {
        const live = generations.liveText(message.id);
        return live === null ? message : { ...message, content: live };
      });
      return { conversation, messages };
    },

    async sendMessage({ conversationId, content }) {
      assertIdle();
      const conversation = requireConversation(conversationId);
      const db = ctx.store();
      const userMessage = db.addMessage({ conversationId, role: "user", content, status: "complete" });
      if (conversation.title === DEFAULT_CONVERSATION_TITLE) {
        const firstUserMessage = db.getMessages(conversationId).find((message) => message.role === "user") ?? userMessage;
        const title = titleFromMessage(firstUserMessage.content);
        if (title) db.renameConversation(conversationId, title);
      }
      const assistantMessage = startReply(conversationId);
      touch(conversationId);
      return { userMessage, assistantMessage };
    },

    async stopGeneration({ conversationId }) {
      return { stopped: generations.stop(conversationId) };
    },

    async regenerate({ conversationId }) {
      assertIdle();
      requireConversation(conversationId);
      const db = ctx.store();
      const last = db.getMessages(conversationId).at(-1);
      if (!last || last.role !== "assistant") throw apiError("BAD_REQUEST", "There is no reply to regenerate.");
      db.deleteMessage(last.id);
      const assistantMessage = startReply(conversationId);
      touch(conversationId);
      return { assistantMessage };
    },

    async editAndResend({ conversationId, messageId, content }) {
      assertIdle();
      requireConversation(conversationId);
      const db = ctx.store();
      const lastUserMessage = db.getMessages(conversationId).findLast((message) => message.role === "user");
      if (!lastUserMessage || lastUserMessage.id !== messageId) {
        throw apiError("BAD_REQUEST", "Only your last message can be edited and sent again.");
      }
      db.updateMessageContent(messageId, content);
      db.deleteMessagesAfter(conversationId, messageId);
      const userMessage = db.getMessage(messageId) ?? { ...lastUserMessage, content };
      const assistantMessage = startReply(conversationId);
      touch(conversationId);
      return { userMessage, assistantMessage };
    },

    async listModels() {
      return modelsListing();
    },

    async compatibleDrafts({ targetPath }) {
      const target = targetPath ?? status.current.model?.modelPath ?? ctx.store().getSettings().modelPath;
      if (!target) return { targetPath: null, candidates: [] };
      return { targetPath: target, candidates: await library.compatibleDrafts(libraryFolders(ctx.store().getSettings()), target) };
    },

    async chooseModelsFolder() {
      if (!options.pickFolder) {
        throw apiError("UNSUPPORTED", "This version of Tandem cannot open a folder chooser. Type the folder path instead.");
      }
      const picked = await options.pickFolder();
      return picked === null ? null : setModelsFolder(picked);
    },

    async chooseModelFile() {
      if (!options.pickModelFile) {
        throw apiError("UNSUPPORTED", "This version of Tandem cannot open a file chooser. Type the file's path instead.");
      }
      return options.pickModelFile();
    },

    async importModel({ path, mode }) {
      return importInto((folder) => importModelFile(path, folder, mode ?? "copy", internals.imports), resolve(path.trim()));
    },

    async deleteModel({ path }) {
      const current = status.current;
      const busy = [
        ...(current.model ? [{ path: current.model.modelPath, why: "the loaded chat model" }] : []),
        ...(current.draftModel ? [{ path: current.draftModel.modelPath, why: "the loaded draft model" }] : []),
        ...(current.loadingModelPath ? [{ path: current.loadingModelPath, why: "being loaded" }] : []),
      ];
      const db = ctx.store();
      const result = await deleteModelFile(path, libraryFolders(db.getSettings()), join(options.dataDir, "cache"), { busy });
      if (result.deleted) {
        db.deleteModelOrigins(result.removed);
        // A saved choice pointing at the deleted file would fail at the next start: forget it.
        const settings = db.getSettings();
        const gone = new Set(result.removed);
        const patch = {
          ...(settings.modelPath && gone.has(resolve(settings.modelPath)) ? { modelPath: null } : {}),
          ...(settings.draftModelPath && gone.has(resolve(settings.draftModelPath)) ? { draftModelPath: null } : {}),
        };
        if (Object.keys(patch).length > 0) emit("settingsChanged", db.updateSettings(patch));
        logger.info(`Deleted ${basename(path)} (${result.freedBytes} bytes freed)`);
      }
      return { deleted: result.deleted, freedBytes: result.freedBytes };
    },

    async setModelsFolder({ path }) {
      return setModelsFolder(path);
    },

    async loadModel({ path }) {
      assertIdle();
      return models.load(path);
    },

    async setDraftModel({ path }) {
      assertIdle();
      return models.setDraft(path);
    },

    async setConversationSpeculation({ id, mode }) {
      const conversation = ctx.store().setConversationSpeculation(id, mode);
      if (!conversation) throw apiError("NOT_FOUND", "That conversation no longer exists.");
      emit("conversationUpdated", { conversation });
      return conversation;
    },

    async getSettings() {
      return ctx.store().getSettings();
    },

    async updateSettings(patch) {
      const db = ctx.store();
      const before = db.getSettings();
      const changed = <K extends keyof Settings>(key: K): boolean =>
        patch[key] !== undefined && JSON.stringify(patch[key]) !== JSON.stringify(before[key]);
      const cacheChanged = changed("cacheSlots") || changed("cacheDiskBudgetGB");
      const engineAffecting =
        changed("gpu") || changed("contextSize") || changed("threads") || changed("modelPath") || changed("draftModelPath") || cacheChanged;
      if (engineAffecting) assertIdle();
      // `patch` was validated against the contract by guardApi.
      const update = { ...patch };
      if (changed("modelsFolder") && update.modelsFolder !== undefined) update.modelsFolder = await validateModelsFolder(update.modelsFolder);
      // A new draftModelPath is applied exactly as setDraftModel does it: loaded and checked against the current
      // target first, and saved only when the engine accepted it. A refused draft fails the whole update (nothing in
      // the patch is saved), so a path that is saved is always one that worked.
      if (changed("draftModelPath")) await models.setDraft(update.draftModelPath ?? null);
      delete update.draftModelPath;
      const after = db.updateSettings(update);
      emit("settingsChanged", after);
      if (changed("modelsFolder") || changed("extraModelsFolders")) rearmWatcher();

      if (changed("gpu")) {
        supervisor.setGpu(after.gpu);
        restartInBackground("GPU setting changed");
      } else if (changed("modelPath") && after.modelPath === null) {
        models.unload().catch((error: unknown) => logger.warn(`Unloading the model failed: ${describeError(error)}`));
      } else if (changed("modelPath") || ((changed("contextSize") || changed("threads") || cacheChanged) && status.current.model)) {
        models.reloadSaved();
      }
      return after;
    },

    async getEngineStatus() {
      return status.current;
    },

    async getCacheInfo() {
      return (await models.refreshCache()) ?? status.current.cache ?? { slots: 0, slotsInUse: 0, diskBytes: 0, diskStates: 0, diskBudgetBytes: 0, memoryBytes: 0 };
    },

    async clearCache() {
      // The engine clears under its context lock anyway; refusing here tells the user why nothing happened yet.
      assertIdle();
      return models.clearCache();
    },

    async restartEngine() {
      await supervisor.restart();
      return status.current;
    },

    async runBenchmark(params) {
      generations.assertIdle();
      return { result: await benchmarks.run(params) };
    },

    async cancelBenchmark() {
      return { cancelled: benchmarks.cancel() };
    },

    async listBenchmarks() {
      return benchmarks.list();
    },

    async startDownload({ source, sha256 }) {
      return downloads.start(source, sha256);
    },

    async pauseDownload({ id }) {
      return downloads.pause(id);
    },

    async resumeDownload({ id }) {
      return downloads.resume(id);
    },

    async cancelDownload({ id }) {
      return downloads.cancel(id);
    },

    async listDownloads() {
      return downloads.list();
    },

    async addModelsFolder({ path }) {
      const extra = await withFolderAdded(ctx.store().getSettings(), path);
      return extra ? saveFolders({ extraModelsFolders: extra }) : modelsListing();
    },
    async chooseLibraryFolder() {
      if (!options.pickFolder) throw apiError("UNSUPPORTED", "This version of Tandem cannot open a folder chooser. Type the folder path instead.");
      const picked = await options.pickFolder();
      return picked === null ? null : implementation.addModelsFolder({ path: picked });
    },
    async removeModelsFolder({ path }) {
      const extra = withFolderRemoved(ctx.store().getSettings(), path);
      return extra ? saveFolders({ extraModelsFolders: extra }) : modelsListing();
    },
    async getHfToken() {
      return secrets.status();
    },
    async setHfToken({ token }) {
      await secrets.set(token);
      logger.info(token === null ? "Removed the Hugging Face token" : "Stored a Hugging Face token");
      return secrets.status();
    },

    // Stubs: filled in by the hub, fit and app-shell work (each throws until implemented).
    async estimateFit(params) {
      return estimateFit(ctx, params, {
        ...(internals.downloads?.hfBaseUrl ? { hfBaseUrl: () => internals.downloads!.hfBaseUrl! } : {}),
        hfToken: async () => internals.downloads?.hfToken ?? (await secrets.get()),
      });
    },
    async searchHub({ query, limit }) {
      return { results: await hub.search(query, limit) };
    },
    async listHubFiles({ repo }) {
      return { repo, files: await hub.listFiles(repo) };
    },
    async openFolder({ folder }) {
      return openAppFolder(folder, currentPaths(), options.openFolder);
    },
    async readLogTail({ log, lines }) {
      return { lines: await readLogTail(logs.dir, log, lines ?? 50) };
    },
  };

  const api = guardApi(implementation, logger);

  return {
    api,

    async importUpload(name: string, body: Readable, sizeBytes: number | null) {
      try {
        return await importInto((folder) => importUploadedFile(body, name, folder, sizeBytes, internals.imports), name);
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
        rearmWatcher();
        void downloads.scan();
        await supervisor.start();
      })();
      return startPromise;
    },

    dispose() {
      disposePromise ??= (async () => {
        // Let a running reply end as 'stopped' with its text, then stop the engine; anything still running after
        // that fails with ENGINE_STOPPED and is recorded as 'interrupted' before the database closes.
        benchmarks.cancel();
        watcher.close();
        await downloads.dispose();
        await generations.stopAll(internals.disposeAbortWaitMs ?? 2_000);
        await supervisor.stop();
        await generations.whenIdle();
        await models.whenIdle();
        store?.close();
        store = null;
        logs.close();
      })();
      return disposePromise;
    },
  };
}
