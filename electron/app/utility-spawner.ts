/**
 * Runs the engine in an Electron utility process (a Node.js child managed by Chromium's service layer: it shows up
 * as "Tandem Engine" in the OS task list and does not need a separate Node binary), adapted to the host's
 * `EngineSpawner` seam. The engine side talks through `process.parentPort`.
 *
 * A utility process's own `exit` event carries only a code (a kill or an out-of-memory death shows as a number).
 * Electron's `app` `child-process-gone` event says why: clean-exit, abnormal-exit, killed, crashed, oom,
 * launch-failed or integrity-failure. The spawner joins the two: an exit is reported with that reason when the
 * event for our service arrives first or within GONE_WAIT_MS after it.
 */
import type { Details, ForkOptions } from "electron";
import type { ProcessGoneReason } from "../../contracts/window/domain.js";
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

/** Where child-process-gone is heard: Electron's `app`. */
export interface ChildProcessGoneSource {
  on(event: "child-process-gone", listener: (event: unknown, details: Pick<Details, "type" | "reason" | "exitCode" | "serviceName" | "name">) => void): unknown;
}

export const ENGINE_SERVICE_NAME = "Tandem Engine";

/** How long an exit waits for its child-process-gone (they are separate IPC messages in Electron, in either order). */
export const GONE_WAIT_MS = 200;

/** Electron's reason in the contract's words (memory-eviction is the OS reclaiming memory: out of memory). */
export function goneReason(reason: Details["reason"]): ProcessGoneReason {
  return reason === "memory-eviction" ? "oom" : reason;
}

export function createUtilityProcessSpawner(fork: UtilityFork, gone?: ChildProcessGoneSource): EngineSpawner {
  // The latest child-process-gone of our service, claimed by the exit of the child it belongs to.
  let pendingGone: { reason: ProcessGoneReason; exitCode: number } | null = null;
  const goneWaiters = new Set<(details: { reason: ProcessGoneReason; exitCode: number }) => void>();
  gone?.on("child-process-gone", (_event, details) => {
    if (details.type !== "Utility" || (details.serviceName ?? details.name) !== ENGINE_SERVICE_NAME) return;
    const info = { reason: goneReason(details.reason), exitCode: details.exitCode };
    const waiter = goneWaiters.values().next().value;
    if (waiter) {
      goneWaiters.delete(waiter);
      waiter(info);
    } else pendingGone = info;
  });
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
      let exitSeen = false;
      const report = (exit: EngineExit) => {
        if (exited) return;
        exited = exit;
        for (const listener of exitListeners.splice(0)) listener(exit);
      };
      child.on("exit", (code) => {
        if (exitSeen) return;
        exitSeen = true;
        // utilityProcess reports only an exit code (a signal death shows up as a code too), never a signal name:
        // the reason comes from child-process-gone, before this exit or shortly after it.
        if (!gone) return report({ code, signal: null });
        if (pendingGone) {
          const info = pendingGone;
          pendingGone = null;
          return report({ code, signal: null, gone: info });
        }
        const waiter = (info: { reason: ProcessGoneReason; exitCode: number }) => {
          clearTimeout(timer);
          report({ code, signal: null, gone: info });
        };
        const timer = setTimeout(() => {
          goneWaiters.delete(waiter);
          report({ code, signal: null, gone: null });
        }, GONE_WAIT_MS);
        goneWaiters.add(waiter);
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
