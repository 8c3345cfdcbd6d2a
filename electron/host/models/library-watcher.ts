/**
 * Watches the library's folders (non-recursive fs.watch, one per folder) and calls `onChange` once things settle
 * (debounced), so the window learns about GGUF files added, removed or renamed outside Tandem as well as inside.
 *
 * Only names that can be library files count: downloads in progress (`*.gguf.part`, `*.gguf.part.json`) and imports
 * being written (hidden `.*.importing` temp files) are ignored until they are renamed to their final `.gguf` name.
 * A folder that does not exist (or goes away) is simply not watched; `arm` tries again with the next folder list.
 */
import { watch, type FSWatcher } from "node:fs";
import { resolve } from "node:path";
import type { Logger } from "../logger.js";

export interface LibraryWatcherOptions {
  onChange: () => void;
  /** Quiet time after the last relevant event before onChange (default 300 ms). */
  debounceMs?: number;
  logger?: Logger;
  /** fs.watch, replaceable by tests. */
  watchFolder?: (folder: string, listener: (event: string, name: string | null) => void) => FSWatcher;
}

/** Whether a change to `name` can change the library listing. */
export function isLibraryName(name: string | null): boolean {
  // Some platforms do not say which file changed: assume it matters.
  if (name === null) return true;
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.toLowerCase().endsWith(".gguf") && !base.startsWith(".");
}

export class LibraryWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly options: LibraryWatcherOptions) {}

  /** The folders being watched now. */
  get folders(): string[] {
    return [...this.watchers.keys()];
  }

  /** Watches exactly `folders` (missing ones are skipped, and retried at the next call). */
  arm(folders: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(folders.map((f) => resolve(f)));
    for (const [folder, watcher] of this.watchers) {
      if (!wanted.has(folder)) {
        watcher.close();
        this.watchers.delete(folder);
      }
    }
    for (const folder of wanted) {
      if (this.watchers.has(folder)) continue;
      try {
        const watcher = (this.options.watchFolder ?? defaultWatch)(folder, (_event, name) => {
          if (isLibraryName(name)) this.schedule();
        });
        watcher.on("error", (error) => {
          // The folder was deleted or became unreadable: stop watching it and tell the window (its files are gone).
          this.options.logger?.warn(`Stopped watching ${folder}: ${error.message}`);
          this.drop(folder, watcher);
          this.schedule();
        });
        this.watchers.set(folder, watcher);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") {
          this.options.logger?.warn(`Cannot watch ${folder}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private drop(folder: string, watcher: FSWatcher): void {
    if (this.watchers.get(folder) === watcher) this.watchers.delete(folder);
    watcher.close();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      try {
        this.options.onChange();
      } catch (error) {
        this.options.logger?.error(`A library change listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, this.options.debounceMs ?? 300);
  }
}

function defaultWatch(folder: string, listener: (event: string, name: string | null) => void): FSWatcher {
  return watch(folder, { persistent: false }, (event, name) => listener(event, name === null ? null : String(name)));
}
