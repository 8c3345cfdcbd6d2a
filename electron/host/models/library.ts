/**
 * The model library as the host serves it: the listing of every library folder (with where each file came from),
 * the watcher that pushes `modelsChanged`, and the folder and import changes that must re-arm that watcher. Shared by
 * the library and settings API and by the host's start and web upload route.
 */
import { basename } from "node:path";
import type { ImportMethod, Settings, WindowResult } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";
import type { HostContext } from "../host-context.js";
import { libraryFolders, libraryListing } from "./library-folders.js";
import { LibraryWatcher } from "./library-watcher.js";
import { describeError } from "../logger.js";
import { GgufFactsCache } from "./gguf-facts-cache.js";
import { removeImportLeftovers } from "./import-delete.js";
import { validateModelsFolder } from "./folder-scan.js";

export interface ModelLibraryOptions {
  /** Quiet time before a change in a library folder is pushed as `modelsChanged`. */
  watchDebounceMs?: number;
  /** True once the host is being disposed: changes are no longer pushed. */
  disposing: () => boolean;
}

/** What an import did (the file's path in the main folder and how it got there). */
export interface ImportedFile {
  path: string;
  method: ImportMethod;
}

export class ModelLibrary {
  readonly facts = new GgufFactsCache();
  private readonly watcher: LibraryWatcher;

  constructor(
    private readonly ctx: HostContext,
    options: ModelLibraryOptions,
  ) {
    // Library folders are watched: anything added, removed or renamed in them (by Tandem or not) is pushed.
    this.watcher = new LibraryWatcher({
      debounceMs: options.watchDebounceMs,
      logger: ctx.logger,
      onChange: () => {
        if (options.disposing()) return;
        this.rearm(); // a folder that appeared since (the main one, made by the first import) is watched too
        this.publish().catch((error: unknown) => ctx.logger.warn(`Listing the library failed: ${describeError(error)}`));
      },
    });
  }

  listing(): Promise<WindowResult<"listModels">> {
    return libraryListing(this.facts, this.ctx.store().getSettings(), (paths) => this.ctx.store().getModelOrigins(paths));
  }

  /**
   * Removes what imports cut short by a crash left in every library folder (the main folder may have been another
   * one when it happened); see removeImportLeftovers. Never throws.
   */
  async removeImportLeftovers(): Promise<string[]> {
    try {
      return await removeImportLeftovers(libraryFolders(this.ctx.store().getSettings()), { logger: this.ctx.logger });
    } catch (error) {
      this.ctx.logger.warn(`Looking for leftover import files failed: ${describeError(error)}`);
      return [];
    }
  }

  /** Watches the library folders of the current settings. */
  rearm(): void {
    this.watcher.arm(libraryFolders(this.ctx.store().getSettings()));
  }

  /**
   * The listing as it is now, also pushed as `modelsChanged`: the window takes the library from that event only, so
   * a change made here reaches every window (and the one that asked) the same way as a change on disk.
   */
  async publish(): Promise<WindowResult<"listModels">> {
    const listing = await this.listing();
    this.ctx.emit("modelsChanged", listing);
    return listing;
  }

  /** Saves a change of library folders, pushes the settings and the new listing, and returns the listing. */
  async saveFolders(patch: Partial<Settings>): Promise<WindowResult<"listModels">> {
    this.ctx.emit("settingsChanged", this.ctx.store().updateSettings(patch));
    this.rearm();
    return this.publish();
  }

  async setModelsFolder(path: string): Promise<WindowResult<"listModels">> {
    return this.saveFolders({ modelsFolder: await validateModelsFolder(path) });
  }

  /** Imports into the main folder, records where the file came from and returns importModel's result. */
  async importInto(run: (folder: string) => Promise<ImportedFile>, from: string): Promise<WindowResult<"importModel">> {
    const imported = await run(this.ctx.store().getSettings().modelsFolder);
    this.ctx.store().setModelOrigin(imported.path, { kind: "imported", from, method: imported.method, at: Date.now() });
    this.rearm();
    const listing = await this.publish();
    const model = listing.models.find((m) => m.path === imported.path);
    if (!model) throw apiError("IMPORT_FAILED", `"${basename(imported.path)}" was imported but is not in the models folder listing.`);
    this.ctx.logger.info(`Imported ${basename(from)} as ${basename(imported.path)} (${imported.method})`);
    return { method: imported.method, model, ...listing };
  }

  close(): void {
    this.watcher.close();
  }
}
