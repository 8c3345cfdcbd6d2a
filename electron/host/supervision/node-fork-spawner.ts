/**
 * Starts the engine with child_process.fork: used in web mode and tests (the Electron shell uses utilityProcess
 * behind the same EngineSpawner interface).
 */
import { fork, type Serializable } from "node:child_process";
import { lineSplitter } from "../log-files.js";
import type { EngineChild, EngineExit, EngineSpawner, EngineSpawnOptions } from "../types.js";

export const nodeForkSpawner: EngineSpawner = {
  spawn({ entry, env }: EngineSpawnOptions): EngineChild {
    const child = fork(entry, [], {
      env,
      // Structured clone over IPC: the protocol's objects arrive as objects, no JSON round trip.
      serialization: "advanced",
      // stderr is piped (and echoed to ours) so the host can keep it in engine.log: crashes print there.
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      // Do not pass the host's own Node flags (inspector, test-runner loaders) on to the engine.
      execArgv: [],
    });

    let exited = false;
    const exitListeners: Array<(exit: EngineExit) => void> = [];
    const reportExit = (exit: EngineExit) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(exit);
    };
    child.once("exit", (code, signal) => reportExit({ code, signal }));
    const stderrListeners: Array<(line: string) => void> = [];
    const stderrLines = lineSplitter((line) => {
      for (const listener of stderrListeners) listener(line);
    });
    // Always read it (an unread pipe would block the engine once full) and pass it on as before.
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrLines.push(chunk);
    });
    child.stderr?.on("end", () => stderrLines.flush());
    child.stderr?.on("error", () => {});
    // 'error' without a pid means the process never started (no 'exit' follows). Later errors (a failed kill or
    // send) are followed by 'exit' or are harmless; the listener must stay, or Node would throw them at the host.
    child.on("error", () => {
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined) reportExit({ code: null, signal: null });
    });

    return {
      get pid() {
        return child.pid;
      },
      postMessage(message: unknown) {
        if (!child.connected) return;
        // A send racing the child's exit fails; the exit handler will report that, so the error is not ours to raise.
        child.send(message as Serializable, () => {});
      },
      onMessage(listener) {
        child.on("message", (message) => listener(message));
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      },
      onStderrLine(listener) {
        stderrListeners.push(listener);
      },
    };
  },
};
