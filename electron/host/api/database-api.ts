/** The window API's database: whether it is usable, and backup-and-recover when it is damaged. */
import type { Settings, TandemApi } from "../../../contracts/window/index.js";
import type { DatabaseKeeper } from "../store/database-keeper.js";
import type { HostContext } from "../host-context.js";
import type { ModelLibrary } from "../models/library.js";
import { describeError } from "../logger.js";
import type { LoadQueue } from "../models/load-queue.js";

export type DatabaseApi = Pick<TandemApi, "getDatabaseStatus" | "recoverDatabase">;

export interface DatabaseApiDeps {
  database: DatabaseKeeper;
  library: ModelLibrary;
  models: LoadQueue;
  /** Throws while a reply or an A/B benchmark runs. */
  assertIdle: () => void;
}

/** Settings whose change needs the model loaded again (the GPU needs a new engine). */
const MODEL_SETTINGS = ["modelPath", "draftModelPath", "contextSize", "threads", "cacheSlots", "cacheDiskBudgetGB"] as const satisfies ReadonlyArray<keyof Settings>;

export function databaseApi(ctx: HostContext, { database, library, models, assertIdle }: DatabaseApiDeps): DatabaseApi {
  return {
    async getDatabaseStatus() {
      // Opening is what finds damage: asked before anything else, the answer must already know.
      ctx.store();
      return database.status;
    },

    async recoverDatabase({ mode }) {
      // A running reply is still writing into the store that is about to be closed.
      assertIdle();
      // While damaged these are the readable settings or the defaults, which the engine and library started with.
      const before = ctx.store().getSettings();
      const recovery = database.recover(mode);
      const after = ctx.store().getSettings();
      ctx.emit("settingsChanged", after);
      // Start from what the recovered settings say: the library's folders, the GPU, the saved model.
      library.rearm();
      const differs = (key: keyof Settings) => JSON.stringify(before[key]) !== JSON.stringify(after[key]);
      if (differs("gpu")) {
        ctx.supervisor.setGpu(after.gpu);
        // The new engine's `ready` reloads the saved model.
        ctx.supervisor.restart().catch((error: unknown) => ctx.logger.error(`Engine restart after the database recovery failed: ${describeError(error)}`));
      } else if (MODEL_SETTINGS.some(differs) && ctx.supervisor.state === "ready") {
        if (after.modelPath) models.reloadSaved();
        else models.unload().catch((error: unknown) => ctx.logger.warn(`Unloading the model failed: ${describeError(error)}`));
      }
      return recovery;
    },
  };
}
