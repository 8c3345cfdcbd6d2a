/** How the library's files are told apart and why some can't be used or deleted now (Models table, model picker). */
import type { ModelFile } from "../../contracts/window/index.js";

/** The library folder a file is in (older hosts don't say: its parent folder). */
export function folderOf(file: Pick<ModelFile, "folder" | "path">): string {
  return file.folder ?? file.path.slice(0, Math.max(file.path.lastIndexOf("/"), file.path.lastIndexOf("\\")));
}

/** File names that occur more than once (the same name in two folders): such rows also show their folder. */
export function duplicateNames(files: readonly Pick<ModelFile, "name">[]): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const f of files) (seen.has(f.name) ? twice : seen).add(f.name);
  return twice;
}

/** Why a library file can't be deleted now (it is loaded, or being loaded), or null. */
export function deleteBlockedReason(path: string, busy: { target: string | null; draft: string | null; loading: string | null }): string | null {
  if (path === busy.target) return "This is the loaded chat model: load another model first, then delete it.";
  if (path === busy.draft) return "This is the loaded draft model: choose another draft (or none) in Settings first, then delete it.";
  if (path === busy.loading) return "This model is being loaded: wait for it to finish.";
  return null;
}

/** Why the file can't be loaded as the chat model: it is the configured draft, which would draft for itself. */
export function draftAsModelReason(path: string, draftPath: string | null): string | null {
  return path === draftPath ? "This is the draft model: as the chat model it would draft for itself. Choose another draft in Settings first." : null;
}
