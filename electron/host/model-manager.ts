/**
 * Loads models into the engine, one load at a time (queued), and keeps EngineStatus's model fields and the saved
 * `modelPath` setting in step with what the engine actually holds.
 */
import type { LoadedModel } from "../../engine/protocol.js";
import { apiError, toTandemApiError } from "./errors.js";
import type { HostContext } from "./host-context.js";
import { describeError } from "./logger.js";
import { validateModelFile } from "./models.js";

export class ModelManager {
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

  /** Loads `path` after any load already queued; on success it becomes the saved chat model. */
  load(path: string): Promise<LoadedModel> {
    this.queued++;
    const run = this.queue.then(() => this.loadNow(path));
    // The queue itself never rejects: each load's failure belongs to its own caller.
    this.queue = run.then(
      () => {},
      () => {},
    ).finally(() => {
      this.queued--;
    });
    return run;
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

  /** Unloads whatever model the engine holds (the user cleared the model setting). */
  async unload(): Promise<void> {
    await this.whenIdle();
    if (this.ctx.supervisor.state === "ready") await this.ctx.supervisor.request("unloadModel", {});
    this.ctx.status.update({ model: null, modelError: null });
  }

  private async loadNow(requestedPath: string): Promise<LoadedModel> {
    const { supervisor, status } = this.ctx;
    let engineAsked = false;
    try {
      const modelPath = await validateModelFile(requestedPath);
      // A load asked for while the engine is (re)starting waits for it instead of failing.
      if (supervisor.state === "starting" || supervisor.state === "restarting") await supervisor.whenSettled();
      if (supervisor.state !== "ready") {
        throw apiError("ENGINE_UNAVAILABLE", "The engine is not running, so no model can be loaded. Restart the engine and try again.");
      }
      const settings = this.ctx.store().getSettings();
      status.update({ loadingModelPath: modelPath, modelError: null });
      engineAsked = true;
      const model = await supervisor.request("loadModel", {
        modelPath,
        contextSize: settings.contextSize,
        threads: settings.threads,
      });
      status.update({ model, loadingModelPath: null, modelError: null });
      if (this.ctx.store().getSettings().modelPath !== modelPath) {
        this.ctx.emit("settingsChanged", this.ctx.store().updateSettings({ modelPath }));
      }
      return model;
    } catch (error) {
      const apiFailure = toTandemApiError(error);
      // The engine drops its previous model when a load starts, so after a failed load none is loaded; a load that
      // never reached the engine (missing file) leaves the current model in place.
      status.update({
        ...(engineAsked ? { model: null } : {}),
        loadingModelPath: null,
        modelError: apiFailure.message,
      });
      throw apiFailure;
    }
  }
}
