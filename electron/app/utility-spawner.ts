/**
 * Runs the engine in an Electron utility process (a Node.js child managed by Chromium's service layer: it shows up
 * as "Tandem Engine" in the OS task list and does not need a separate Node binary), adapted to the host's
 * `EngineSpawner` seam. The engine side talks through `process.parentPort`.
 */
import type { ForkOptions } from "electron";
import { lineSplitter } from "../host/log-files.js";
import type { EngineChild, EngineExit, EngineSpawner, EngineSpawnOptions } from "../host/types.js";

/** The parts of Electron's UtilityProcess the adapter uses. */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  on(event: "exit", listener: (code: number) => void): unknown;
  /** Set when forked with stderr "pipe". */
  readonly stderr?: NodeJS.ReadableStream | null;
}

export type UtilityFork = (modulePath: string, args: string[], options: ForkOptions) => UtilityProcessLike;

export const ENGINE_SERVICE_NAME = "Tandem Engine";

export function createUtilityProcessSpawner(fork: UtilityFork): EngineSpawner {
  return {
    spawn({ entry, env }: EngineSpawnOptions): EngineChild {
      // stdout is inherited (the app's terminal); stderr is piped, echoed to main's and kept in engine.log by the
      // host (llama.cpp and a crashing process print there).
      const child = fork(entry, [], { env, serviceName: ENGINE_SERVICE_NAME, stdio: ["ignore", "inherit", "pipe"] });
      const stderrListeners: ((line: string) => void)[] = [];
      const stderrLines = lineSplitter((line) => {
        for (const listener of stderrListeners) listener(line);
      });
      child.stderr?.on("data", (chunk: Buffer | string) => {
        process.stderr.write(chunk);
        stderrLines.push(chunk);
      });
      child.stderr?.on("end", () => stderrLines.flush());
      child.stderr?.on("error", () => {});
      let exited: EngineExit | null = null;
      const exitListeners: ((exit: EngineExit) => void)[] = [];
      child.on("exit", (code) => {
        if (exited) return;
        // utilityProcess reports only an exit code (a signal death shows up as a code too), never a signal name.
        exited = { code, signal: null };
        for (const listener of exitListeners.splice(0)) listener(exited);
      });
      return {
        get pid() {
          return child.pid;
        },
        postMessage(message) {
          // The supervisor learns of a death from onExit; a message racing it is simply lost, never thrown back.
          if (exited) return;
          try {
            child.postMessage(message);
          } catch {
            // The process is going away; its 'exit' event follows.
          }
        },
        onMessage(listener) {
          child.on("message", listener);
        },
        onExit(listener) {
          // A listener added after the exit still hears about it exactly once (the contract: "called once").
          if (exited) queueMicrotask(() => listener(exited as EngineExit));
          else exitListeners.push(listener);
        },
        kill() {
          if (!exited) child.kill();
        },
        onStderrLine(listener) {
          stderrListeners.push(listener);
        },
      };
    },
  };
}
