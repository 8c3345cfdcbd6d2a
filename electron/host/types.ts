/**
 * Seams between the host layer and its shells (Electron main, web mode, tests). Nothing here imports Electron:
 * the Electron shell supplies an `EngineSpawner` built on `utilityProcess`, web mode and tests use
 * `child_process.fork` (see supervisor.ts).
 */
import type { Readable } from "node:stream";
import type { ProcessGoneReason, TandemApi, WindowEvent, WindowEventData, WindowResult } from "../../contracts/window/index.js";
import type { SecretStore } from "./secrets.js";

export interface EngineExit {
  code: number | null;
  signal: string | null;
  /** Electron's reason for the process's end (child-process-gone), when the spawner knows it. */
  gone?: { reason: ProcessGoneReason; exitCode: number } | null;
}

/** A running engine process, whatever started it. */
export interface EngineChild {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process has gone (exit, crash or failed spawn). */
  onExit(listener: (exit: EngineExit) => void): void;
  /** Ends the process (SIGKILL-like). */
  kill(): void;
  /**
   * The process's stderr, line by line (llama.cpp's own output and a crashing process's last words), when the
   * spawner captures it; lines may still arrive shortly after the exit.
   */
  onStderrLine?(listener: (line: string) => void): void;
}

export interface EngineSpawnOptions {
  /** Absolute path of the built engine entry (dist/engine/main.js). */
  entry: string;
  /** The complete environment for the child: already sanitised by the supervisor. */
  env: Record<string, string>;
}

export interface EngineSpawner {
  spawn(options: EngineSpawnOptions): EngineChild;
}

export interface HostOptions {
  /** Where the database, caches and logs live. Created if missing. */
  dataDir: string;
  engineEntry: string;
  spawner: EngineSpawner;
  mode: "electron" | "web";
  appVersion: string;
  /** A native folder chooser (Electron dialog); absent in web mode. */
  pickFolder?: () => Promise<string | null>;
  /** A native GGUF file chooser (Electron dialog) for importing a model; absent in web mode. */
  pickModelFile?: () => Promise<string | null>;
  /** Where the Hugging Face token is kept (the app: the OS keychain); default a 0600 file in dataDir. */
  secrets?: SecretStore;
  /** Where the API server's key is kept; default a 0600 file in dataDir (`api-key`). */
  apiKeySecrets?: SecretStore;
  /** Where each remote connection's API key is kept, by name (the app: the OS keychain); default 0600 files in dataDir. */
  remoteKeySecrets?: (name: string) => SecretStore;
  /** Opens a folder in the OS file manager (Electron shell.openPath); resolves whether it opened. Absent in web mode. */
  openFolder?: (path: string) => Promise<boolean>;
  /**
   * Path of a better-sqlite3 addon built for this runtime's ABI, passed to `new Database(path, { nativeBinding })`.
   * Electron in development needs one (node_modules holds Node's build); absent means the default lookup.
   */
  sqliteNativeBinding?: string;
}

export type HostEventListener = <E extends WindowEvent>(event: E, data: WindowEventData<E>) => void;

export interface Host {
  readonly api: TandemApi;
  /**
   * Imports a GGUF uploaded from the browser (web mode's upload route): `body` is streamed into the main models
   * folder as `name`, checked, and recorded as uploaded. Throws TandemApiError like importModel.
   */
  importUpload?(name: string, body: Readable, sizeBytes: number | null): Promise<WindowResult<"importModel">>;
  /** Subscribes to every pushed event; returns an unsubscribe function. */
  onEvent(listener: HostEventListener): () => void;
  /** Starts the engine and loads the saved model (if any). Resolves when the engine is ready or failed. */
  start(): Promise<void>;
  /** Stops generation, persists partial replies, asks the engine to shut down (wait, then kill), closes the DB. */
  dispose(): Promise<void>;
}
