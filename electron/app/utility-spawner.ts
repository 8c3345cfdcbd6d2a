/**
 * Runs the engine in an Electron utility process (a Node.js child managed by Chromium's service layer: it shows up
 * as "Tandem Engine" in the OS task list and does not need a separate Node binary), adapted to the host's
 * `EngineSpawner` seam. The engine side talks through `process.parentPort`.
 */
import type { ForkOptions } from "electron";
import type { EngineChild, EngineExit, EngineSpawner, EngineSpawnOptions } from "../host/types.js";

/** The parts of Electron's UtilityProcess the adapter uses. */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  on(event: "exit", listener: (code: number) => void): unknown;
}

export type UtilityFork = (modulePath: string, args: string[], options: ForkOptions) => UtilityProcessLike;

export const ENGINE_SERVICE_NAME = "Tandem Engine";

export function createUtilityProcessSpawner(fork: UtilityFork): EngineSpawner {
  return {
    spawn({ entry, env }: EngineSpawnOptions): EngineChild {
      // stdio inherit: the engine's logs land in the app's terminal/log like main's own output.
      const child = fork(entry, [], { env, serviceName: ENGINE_SERVICE_NAME, stdio: "inherit" });
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
      };
    },
  };
}
