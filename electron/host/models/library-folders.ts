/**
 * The library's folders: the main one (settings.modelsFolder, where downloads and imports go) and the extra ones
 * (settings.extraModelsFolders, e.g. an existing collection). Listing walks them all, main first; each file says
 * which folder it is in and, when Tandem put it there, where it came from.
 */
import { resolve } from "node:path";
import type { ModelOrigin, ModelsListing, Settings } from "../../../contracts/window/index.js";
import { SETTINGS_LIMITS } from "../../../contracts/window/values.js";
import { apiError } from "../errors.js";
import type { GgufFactsCache } from "./gguf-facts-cache.js";
import { validateModelsFolder } from "./folder-scan.js";

type FolderSettings = Pick<Settings, "modelsFolder" | "extraModelsFolders">;

/** The main folder then the extra ones, absolute and without duplicates. */
export function libraryFolders(settings: FolderSettings): string[] {
  const folders: string[] = [];
  for (const folder of [settings.modelsFolder, ...settings.extraModelsFolders]) {
    const absolute = resolve(folder);
    if (!folders.includes(absolute)) folders.push(absolute);
  }
  return folders;
}

/**
 * The extra folders after adding `path` (it must be an existing directory; stored absolute). Null when nothing
 * changes: it is already listed, or it is the main folder.
 */
export async function withFolderAdded(settings: FolderSettings, path: string): Promise<string[] | null> {
  const folder = await validateModelsFolder(path);
  if (libraryFolders(settings).includes(folder)) return null;
  if (settings.extraModelsFolders.length >= SETTINGS_LIMITS.extraModelsFolders) {
    throw apiError("BAD_REQUEST", `The library already has ${SETTINGS_LIMITS.extraModelsFolders} extra folders; remove one first.`);
  }
  return [...settings.extraModelsFolders, folder];
}

/** The extra folders after removing `path` (the main folder can't be removed; an unknown one is a no-op: null). */
export function withFolderRemoved(settings: FolderSettings, path: string): string[] | null {
  const folder = resolve(path.trim());
  if (folder === resolve(settings.modelsFolder)) {
    throw apiError("BAD_REQUEST", "The main models folder can't be removed; choose another main folder first.");
  }
  const remaining = settings.extraModelsFolders.filter((f) => resolve(f) !== folder);
  return remaining.length === settings.extraModelsFolders.length ? null : remaining;
}

/** The library as the window API shows it: every folder's GGUF files with their folder and origin. */
export async function libraryListing(
  facts: GgufFactsCache,
  settings: FolderSettings,
  originsOf: (paths: string[]) => Map<string, ModelOrigin>,
): Promise<ModelsListing> {
  const folders = libraryFolders(settings);
  const models = await facts.listFolders(folders);
  const origins = originsOf(models.map((m) => m.path));
  return {
    folder: resolve(settings.modelsFolder),
    folders,
    models: models.map((m) => ({ ...m, origin: origins.get(m.path) ?? null })),
  };
}
