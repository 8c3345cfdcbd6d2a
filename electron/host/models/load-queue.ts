/**
 * Loads models into the engine, one operation at a time (queued), and keeps EngineStatus's model fields and the
 * saved `modelPath` / `draftModelPath` settings in step with what the engine actually holds.
 *
 * The draft model hangs off the target: the engine drops its draft whenever a target load starts (a draft is only
 * valid for a target with the same tokenizer), so every successful target load — the user's, the reload after a
 * context/threads change, the one after an engine (re)start — is followed by loading the saved draft, inside the
 * same queued operation (a reply waiting for `whenIdle()` thus starts with the draft in place).
 */
import type { CacheInfo, DraftModelInfo, LoadedModel } from "../../../contracts/engine/protocol.js";
import { apiError, toTandemApiError } from "../errors.js";
import type { HostContext } from "../host-context.js";
import { describeError } from "../logger.js";
import { validateModelFile } from "./folder-scan.js";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { cacheDiskBudgetBytes } from "../../../contracts/engine/values.js";

export const DRAFT_NEEDS_TARGET_ERROR = "Load a chat model first: a draft model is checked against the chat model's tokenizer.";

export class LoadQueue {
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(private readonly ctx: HostContext) {}

  /** Whether a load is running or waiting. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** Resolves once every queued load has finished (successfully or not). */
  async whenIdle(): Promise<void> {
    while (this.queued > 0) await this.queue;
  }

  /** Loads `path` after any load already queued; on success it becomes the saved chat model (and the saved draft follows it). */
  load(path: string): Promise<LoadedModel> {
    return this.enqueue(() => this.loadNow(path));
  }

  /**
   * Loads `path` as the draft model (checked against the loaded target) and saves it in settings; null unloads the
   * draft and clears the setting. A refused draft (DRAFT_INCOMPATIBLE, missing file, load failure) saves nothing.
   */
  setDraft(path: string | null): Promise<DraftModelInfo | null> {
    return this.enqueue(() => (path === null ? this.clearDraftNow() : this.setDraftNow(path)));
  }

  /** Reloads the saved model (after an engine (re)start or a context/threads change); failures only end up in the status. */
  reloadSaved(): void {
    let path: string | null;
    try {
      path = this.ctx.store().getSettings().modelPath;
    } catch (error) {
      this.ctx.logger.warn(`Could not read the saved model setting: ${describeError(error)}`);
      return;
    }
    if (!path) return;
    this.load(path).catch((error: unknown) => this.ctx.logger.warn(`Could not load the saved model: ${describeError(error)}`));
  }

  /** Unloads whatever model the engine holds (the user cleared the model setting); the engine drops the draft with it. */
  async unload(): Promise<void> {
    await this.whenIdle();
    if (this.ctx.supervisor.state === "ready") await this.ctx.supervisor.request("unloadModel", {});
    this.ctx.status.update({ model: null, modelError: null, draftModel: null, draftError: null, cache: null });
  }

  /**
   * Asks the engine for the cache's slots and disk usage and puts it in the status (after a load, a reply, a clear).
   * Never throws: null when the engine is not running; a failure keeps the previous figures.
   */
  async refreshCache(): Promise<CacheInfo | null> {
    const { supervisor, status } = this.ctx;
    if (supervisor.state !== "ready") return null;
    try {
      const cache = await supervisor.request("getCacheInfo", {});
      // A model load may have started meanwhile: its own refresh follows.
      status.update({ cache: status.current.model ? cache : null });
      return cache;
    } catch (error) {
      this.ctx.logger.warn(`Could not read the conversation cache figures: ${describeError(error)}`);
      return null;
    }
  }

  /** Deletes every saved conversation state (the caller checked no reply runs); waits for queued loads first. */
  async clearCache(): Promise<{ freedBytes: number }> {
    await this.whenIdle();
    const { supervisor } = this.ctx;
    if (supervisor.state !== "ready") {
      throw apiError("ENGINE_UNAVAILABLE", "The engine is not running, so its cache cannot be cleared. Restart the engine and try again.");
    }
    try {
      const { freedBytes } = await supervisor.request("clearCache", {});
      await this.refreshCache();
      return { freedBytes };
    } catch (error) {
      throw toTandemApiError(error);
    }
  }

  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.queue.then(operation);
    // The queue itself never rejects: each operation's failure belongs to its own caller.
    this.queue = run.then(
      () => {},
      () => {},
    ).finally(() => {
      this.queued--;
    });
    return run;
  }

  private async loadNow(requestedPath: string): Promise<LoadedModel> {
    const { supervisor, status } = this.ctx;
    let engineAsked = false;
    let model: LoadedModel;
    try {
      const modelPath = await validateModelFile(requestedPath);
      // A load asked for while the engine is (re)starting waits for it instead of failing.
      if (supervisor.state === "starting" || supervisor.state === "restarting") await supervisor.whenSettled();
      if (supervisor.state !== "ready") {
        throw apiError("ENGINE_UNAVAILABLE", "The engine is not running, so no model can be loaded. Restart the engine and try again.");
      }
      const settings = this.ctx.store().getSettings();
      // The engine drops its draft as the target load starts.
      status.update({ loadingModelPath: modelPath, modelError: null, draftModel: null });
      engineAsked = true;
      model = await supervisor.request("loadModel", {
        modelPath,
        contextSize: settings.contextSize,
        threads: settings.threads,
        cacheSlots: settings.cacheSlots,
        cacheDiskBudgetBytes: cacheDiskBudgetBytes(settings.cacheDiskBudgetGB),
      });
      status.update({ model, loadingModelPath: null, modelError: null });
      await this.refreshCache();
      if (this.ctx.store().getSettings().modelPath !== modelPath) {
        this.ctx.emit("settingsChanged", this.ctx.store().updateSettings({ modelPath }));
      }
    } catch (error) {
      const apiFailure = toTandemApiError(error);
      // The engine drops its previous model (and draft) when a load starts, so after a failed load none is loaded; a
      // load that never reached the engine (missing file) leaves the current model in place. Without a target there
      // is nothing to check a draft against: the model error says what is wrong.
      status.update({
        ...(engineAsked ? { model: null, draftModel: null, draftError: null, cache: null } : {}),
        loadingModelPath: null,
        modelError: apiFailure.message,
      });
      throw apiFailure;
    }
    await this.loadSavedDraft();
    return model;
  }

  /** After a target load: loads the saved draft, if any. Never throws; a failure goes to status.draftError. */
  private async loadSavedDraft(): Promise<void> {
    const { status } = this.ctx;
    let path: string | null;
    try {
      ({ draftModelPath: path } = this.ctx.store().getSettings());
    } catch (error) {
      this.ctx.logger.warn(`Could not read the saved draft model setting: ${describeError(error)}`);
      return;
    }
    if (!path) {
      if (status.current.draftModel || status.current.draftError) status.update({ draftModel: null, draftError: null });
      return;
    }
    try {
      const draftModel = await this.requestDraft(path);
      status.update({ draftModel, draftError: null });
    } catch (error) {
      // The setting is kept: the draft may suit the next target (or the file may come back).
      const message = toTandemApiError(error).message;
      this.ctx.logger.warn(`Could not load the draft model ${path}: ${message}`);
      status.update({ draftModel: null, draftError: message });
    }
  }

  private async setDraftNow(requestedPath: string): Promise<DraftModelInfo> {
    const { supervisor, status } = this.ctx;
    if (supervisor.state !== "ready" || !status.current.model) throw apiError("NO_MODEL", DRAFT_NEEDS_TARGET_ERROR);
    await assertNotTheTarget(requestedPath, status.current.model);
    try {
      const draftModel = await this.requestDraft(requestedPath);
      status.update({ draftModel, draftError: null });
      this.saveDraftPath(draftModel.modelPath);
      return draftModel;
    } catch (error) {
      // The engine checks a new draft before releasing the one it holds: a refused draft changes nothing there.
      throw toTandemApiError(error);
    }
  }

  private async clearDraftNow(): Promise<null> {
    const { supervisor, status } = this.ctx;
    if (supervisor.state === "ready" && status.current.draftModel) {
      // Clearing must always work: an engine that cannot unload (it just crashed) holds no draft anyway.
      await supervisor
        .request("unloadDraftModel", {})
        .catch((error: unknown) => this.ctx.logger.warn(`Unloading the draft model failed: ${describeError(error)}`));
    }
    status.update({ draftModel: null, draftError: null });
    this.saveDraftPath(null);
    return null;
  }

  /**
   * The draft's threads are always measured ("auto"), never the target's setting: a tiny draft wants fewer threads
   * than its target (measured here: a 20M draft runs at ~1,000 tok/s on 1 thread and ~70 on 2, next to a 1B target
   * that prefers 2).
   */
  private async requestDraft(path: string): Promise<DraftModelInfo> {
    const modelPath = await validateModelFile(path);
    return this.ctx.supervisor.request("loadDraftModel", { modelPath, threads: "auto" });
  }

  private saveDraftPath(draftModelPath: string | null): void {
    if (this.ctx.store().getSettings().draftModelPath === draftModelPath) return;
    this.ctx.emit("settingsChanged", this.ctx.store().updateSettings({ draftModelPath }));
  }
}

/**
 * The chat model itself, or a copy of its file (same name and size, in another folder), is refused as its draft: a
 * model cannot draft for itself (it would only double the work).
 */
async function assertNotTheTarget(path: string, target: LoadedModel): Promise<void> {
  let same = resolve(path) === resolve(target.modelPath);
  if (!same && basename(path) === basename(target.modelPath)) {
    const size = (file: string) => stat(file).then((info) => info.size, () => -1);
    const [mine, theirs] = await Promise.all([size(path), size(target.modelPath)]);
    same = mine >= 0 && mine === theirs;
  }
  if (same) {
    throw apiError("DRAFT_IS_MODEL", `${basename(path)} is the chat model${resolve(path) === resolve(target.modelPath) ? "" : " (a copy of its file)"}: a model cannot draft for itself. Choose a smaller model of the same family.`);
  }
}
