/**
 * App lifecycle pieces that carry logic: the graceful quit and the folder picker. main wires them to Electron.
 */

export interface QuitEvent {
  preventDefault(): void;
}

export interface QuittableApp {
  on(event: "before-quit", listener: (event: QuitEvent) => void): unknown;
  quit(): void;
}

export interface QuitHandlerOptions {
  /** Stops generation, persists partial replies and shuts the engine down (host.dispose). */
  dispose: () => Promise<void>;
  /** Upper bound on the wait: a quit must never hang (dispose itself already waits, then kills the engine). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

/**
 * Holds the first quit until the host has shut down, then quits for real. Later quit attempts while disposing
 * are held too (a second Cmd+Q must not cut the shutdown short); once disposed, quitting goes straight through.
 */
export function installQuitHandler(app: QuittableApp, options: QuitHandlerOptions): void {
  let state: "running" | "disposing" | "disposed" = "running";
  const timeoutMs = options.timeoutMs ?? 15_000;
  app.on("before-quit", (event) => {
    if (state === "disposed") return;
    event.preventDefault();
    if (state === "disposing") return;
    state = "disposing";
    void withTimeout(options.dispose(), timeoutMs)
      .then((finished) => {
        if (!finished) options.log?.(`Shutdown took longer than ${timeoutMs} ms; quitting anyway`);
      })
      .catch((error: unknown) => options.log?.(`Shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`))
      .finally(() => {
        state = "disposed";
        app.quit();
      });
  });
}

/** Resolves true when the promise settles in time (rejecting if it rejects), false on timeout. */
async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface OpenDialogResult {
  canceled: boolean;
  filePaths: string[];
}

export interface OpenDialogOptions {
  properties: ("openDirectory" | "createDirectory" | "openFile")[];
  title?: string;
  filters?: { name: string; extensions: string[] }[];
}

export interface DialogLike<W> {
  showOpenDialog(window: W, options: OpenDialogOptions): Promise<OpenDialogResult>;
  showOpenDialog(options: OpenDialogOptions): Promise<OpenDialogResult>;
}

/** The host's `pickModelFile`: a native chooser of one GGUF file to import, modal to the app window when there is one. */
export function createModelFilePicker<W>(dialog: DialogLike<W>, parent: () => W | null): () => Promise<string | null> {
  return async () => {
    const options: OpenDialogOptions = { title: "Import a GGUF model", properties: ["openFile"], filters: [{ name: "GGUF models", extensions: ["gguf"] }] };
    const window = parent();
    const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0];
  };
}

/** The host's `pickFolder`: a native folder chooser, modal to the app window when there is one. */
export function createFolderPicker<W>(dialog: DialogLike<W>, parent: () => W | null): () => Promise<string | null> {
  return async () => {
    const options = { title: "Choose the models folder", properties: ["openDirectory", "createDirectory"] as ("openDirectory" | "createDirectory")[] };
    const window = parent();
    const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0];
  };
}
