/**
 * Opening a folder in the OS file manager (Electron's shell.openPath), for the host's openFolder and the Help
 * menu's "Open Logs Folder". The folder is created first: a fresh install has no logs or cache folder yet.
 */
import { mkdir } from "node:fs/promises";

export interface ShellLike {
  /** Resolves "" on success, else an error message (Electron's contract). */
  openPath(path: string): Promise<string>;
}

export function createFolderOpener(shell: ShellLike, log: (message: string) => void): (path: string) => Promise<boolean> {
  return async (path) => {
    try {
      await mkdir(path, { recursive: true });
      const error = await shell.openPath(path);
      if (error) log(`Could not open ${path}: ${error}`);
      return error === "";
    } catch (error) {
      log(`Could not open ${path}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  };
}
