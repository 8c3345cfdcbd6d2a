/**
 * The window API's model library: listing, library folders, importing and deleting models, loading the chat and
 * draft models, and memory-fit estimates.
 */
import { basename, join, resolve } from "node:path";
import type { TandemApi } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";
import { estimateFit, type FitOptions } from "../models/fit.js";
import type { HostContext } from "../host-context.js";
import { libraryFolders, withFolderAdded, withFolderRemoved } from "../models/library-folders.js";
import type { ModelLibrary } from "../models/library.js";
import { deleteModelFile, importModelFile, type ImportOptions } from "../models/import-delete.js";
import type { LoadQueue } from "../models/load-queue.js";
import type { HostOptions } from "../types.js";

export type LibraryApi = Pick<
  TandemApi,
  | "listModels"
  | "compatibleDrafts"
  | "chooseModelsFolder"
  | "setModelsFolder"
  | "addModelsFolder"
  | "chooseLibraryFolder"
  | "removeModelsFolder"
  | "chooseModelFile"
  | "importModel"
  | "deleteModel"
  | "loadModel"
  | "setDraftModel"
  | "estimateFit"
>;

export interface LibraryApiDeps {
  options: Pick<HostOptions, "dataDir" | "pickFolder" | "pickModelFile">;
  library: ModelLibrary;
  models: LoadQueue;
  /** Throws while a reply or an A/B benchmark runs. */
  assertIdle: () => void;
  /** Import knobs (tests: a fault injected mid-copy). */
  imports?: ImportOptions;
  /** How estimateFit reaches Hugging Face. */
  fit: FitOptions;
}

export function libraryApi(ctx: HostContext, deps: LibraryApiDeps): LibraryApi {
  const { options, library, models, assertIdle } = deps;

  const addModelsFolder: LibraryApi["addModelsFolder"] = async ({ path }) => {
    const extra = await withFolderAdded(ctx.store().getSettings(), path);
    return extra ? library.saveFolders({ extraModelsFolders: extra }) : library.listing();
  };

  return {
    async listModels() {
      return library.listing();
    },

    async compatibleDrafts({ targetPath }) {
      const target = targetPath ?? ctx.status.current.model?.modelPath ?? ctx.store().getSettings().modelPath;
      if (!target) return { targetPath: null, candidates: [] };
      return { targetPath: target, candidates: await library.facts.compatibleDrafts(libraryFolders(ctx.store().getSettings()), target) };
    },

    async chooseModelsFolder() {
      if (!options.pickFolder) {
        throw apiError("UNSUPPORTED", "This version of Tandem cannot open a folder chooser. Type the folder path instead.");
      }
      const picked = await options.pickFolder();
      return picked === null ? null : library.setModelsFolder(picked);
    },

    async setModelsFolder({ path }) {
      return library.setModelsFolder(path);
    },

    addModelsFolder,

    async chooseLibraryFolder() {
      if (!options.pickFolder) throw apiError("UNSUPPORTED", "This version of Tandem cannot open a folder chooser. Type the folder path instead.");
      const picked = await options.pickFolder();
      return picked === null ? null : addModelsFolder({ path: picked });
    },

    async removeModelsFolder({ path }) {
      const extra = withFolderRemoved(ctx.store().getSettings(), path);
      return extra ? library.saveFolders({ extraModelsFolders: extra }) : library.listing();
    },

    async chooseModelFile() {
      if (!options.pickModelFile) {
        throw apiError("UNSUPPORTED", "This version of Tandem cannot open a file chooser. Type the file's path instead.");
      }
      return options.pickModelFile();
    },

    async importModel({ path, mode }) {
      return library.importInto((folder) => importModelFile(path, folder, mode ?? "copy", deps.imports), resolve(path.trim()));
    },

    async deleteModel({ path }) {
      const current = ctx.status.current;
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
        if (Object.keys(patch).length > 0) ctx.emit("settingsChanged", db.updateSettings(patch));
        ctx.logger.info(`Deleted ${basename(path)} (${result.freedBytes} bytes freed)`);
        await library.publish();
      }
      return { deleted: result.deleted, freedBytes: result.freedBytes };
    },

    async loadModel({ path }) {
      assertIdle();
      // The configured draft as the chat model would draft for itself: refused, saying what to do instead.
      const draft = ctx.status.current.draftModel?.modelPath ?? ctx.store().getSettings().draftModelPath;
      if (draft && resolve(draft) === resolve(path)) {
        throw apiError(
          "DRAFT_AS_MODEL",
          `${basename(path)} is the draft model: as the chat model it would draft for itself. Choose another draft (or none) in Settings first, or pick another chat model.`,
        );
      }
      return models.load(path);
    },

    async setDraftModel({ path }) {
      assertIdle();
      return models.setDraft(path);
    },

    async estimateFit(params) {
      return estimateFit(ctx, params, deps.fit);
    },
  };
}
