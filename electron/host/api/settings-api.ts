/** The window API's settings: reading them, and saving a change with the engine reload or restart it calls for. */
import type { Settings, TandemApi } from "../../../contracts/window/index.js";
import type { HostContext } from "../host-context.js";
import type { ModelLibrary } from "../models/library.js";
import { describeError } from "../logger.js";
import type { LoadQueue } from "../models/load-queue.js";
import { validateModelsFolder } from "../models/folder-scan.js";

export type SettingsApi = Pick<TandemApi, "getSettings" | "updateSettings">;

export interface SettingsApiDeps {
  library: ModelLibrary;
  models: LoadQueue;
  /** Throws while a reply or an A/B benchmark runs. */
  assertIdle: () => void;
}

export function settingsApi(ctx: HostContext, { library, models, assertIdle }: SettingsApiDeps): SettingsApi {
  const { supervisor, logger } = ctx;

  /** Restarts the engine in the background; its `ready` event reloads the saved model. */
  const restartInBackground = (why: string): void => {
    supervisor.restart().catch((error: unknown) => logger.error(`Engine restart (${why}) failed: ${describeError(error)}`));
  };

  return {
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
      ctx.emit("settingsChanged", after);
      if (changed("modelsFolder") || changed("extraModelsFolders")) library.rearm();

      if (changed("gpu")) {
        supervisor.setGpu(after.gpu);
        restartInBackground("GPU setting changed");
      } else if (changed("modelPath") && after.modelPath === null) {
        models.unload().catch((error: unknown) => logger.warn(`Unloading the model failed: ${describeError(error)}`));
      } else if (changed("modelPath") || ((changed("contextSize") || changed("threads") || cacheChanged) && ctx.status.current.model)) {
        models.reloadSaved();
      }
      return after;
    },
  };
}
