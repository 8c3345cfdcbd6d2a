/**
 * EngineSupervisor: owns the engine process. Starts it through an injected EngineSpawner, performs the `hello`
 * handshake and `init`, exposes a typed request client, watches liveness, and restarts the engine with exponential
 * backoff when it dies, giving up (state "failed") after repeated fast failures.
 *
 * Requests pending when the process dies are rejected with code ENGINE_CRASHED (ENGINE_STOPPED when the host
 * stopped or restarted it on purpose), so no caller ever waits on a dead process.
 */
import { PROTOCOL_VERSION, type EngineMethod, type EngineRequestParams, type EngineResult, type GpuChoice, type SystemInfo } from "../../../contracts/engine/protocol.js";
import type { CrashInfo, CrashReason, ProcessGoneReason } from "../../../contracts/window/index.js";
import { TypedEmitter } from "../emitter.js";
import { EngineConnection, type ParsedEngineEvent, type RequestOptions } from "./engine-connection.js";
import { sanitizeEngineEnv } from "./engine-env.js";
import { EngineRequestError } from "../errors.js";
import { consoleLogger, describeError, type Logger } from "../logger.js";
import type { EngineChild, EngineExit, EngineSpawner } from "../types.js";

export { nodeForkSpawner } from "./node-fork-spawner.js";

export type SupervisorState = "starting" | "ready" | "restarting" | "failed" | "stopped";

export interface SupervisorTiming {
  /** Time allowed for the first `hello` answer (the engine imports node-llama-cpp first). */
  handshakeTimeoutMs: number;
  /** Time allowed for `init` (backend detection can be slow on first run). */
  initTimeoutMs: number;
  /** First restart delay; doubles with each consecutive fast failure. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A process that ran this long after the handshake counts as stable: its crash starts a fresh backoff. */
  stableAfterMs: number;
  /** Consecutive fast failures after which the supervisor stops restarting (state "failed"). */
  maxFastFailures: number;
  /** How often liveness is checked (and a `hello` ping sent when the engine has been quiet); 0 disables it. */
  pingIntervalMs: number;
  /** Silence (no message of any kind, pings included) after which the engine is declared unresponsive. */
  unresponsiveAfterMs: number;
  /** How long stop() waits for the engine to exit after `shutdown` before killing it. */
  stopTimeoutMs: number;
  /** How long to wait for a killed process to be reported gone. */
  killWaitMs: number;
}

export const defaultSupervisorTiming: SupervisorTiming = {
  handshakeTimeoutMs: 20_000,
  initTimeoutMs: 120_000,
  backoffBaseMs: 200,
  backoffMaxMs: 10_000,
  stableAfterMs: 60_000,
  maxFastFailures: 5,
  pingIntervalMs: 5_000,
  // Generous: a loaded 2-core machine evaluating a long prompt may answer pings late, and killing a working engine
  // loses the user's reply. Token events count as activity, so a streaming engine is never pinged.
  unresponsiveAfterMs: 30_000,
  stopTimeoutMs: 3_000,
  killWaitMs: 3_000,
};

export interface SupervisorOptions {
  /** Absolute path of the engine entry (dist/engine/main.js). */
  entry: string;
  spawner: EngineSpawner;
  /** Passed to the engine's `init` for its own caches. */
  cacheDir: string;
  gpu: GpuChoice;
  /** The environment to sanitise for the engine; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  timing?: Partial<SupervisorTiming>;
  logger?: Logger;
}

export type SupervisorEvents = {
  state: SupervisorState;
  /** The engine completed its handshake and init (first start and every restart). */
  ready: SystemInfo;
  crash: { crash: CrashInfo; restarting: boolean };
  engineEvent: ParsedEngineEvent;
  /** A line the engine process wrote to stderr (when the spawner captures it), from any run, even a dying one. */
  stderr: string;
};

/** One spawned process and what the supervisor knows about it. */
class EngineRun {
  readyAt: number | null = null;
  exited = false;
  /** Set once the run's end has been dealt with (crash reported, or stopped/replaced on purpose). */
  handled = false;
  private readonly exitWaiters: Array<() => void> = [];

  constructor(
    readonly child: EngineChild,
    readonly connection: EngineConnection,
  ) {}

  markExited(): void {
    this.exited = true;
    for (const wake of this.exitWaiters.splice(0)) wake();
  }

  /** Resolves true when the process has exited, false when `timeoutMs` passed first. */
  waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** A handshake failure; `fatal` when restarting the same engine cannot help (a protocol version mismatch). */
class LaunchError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

const SETTLED_STATES: ReadonlySet<SupervisorState> = new Set(["ready", "failed", "stopped"]);

export class EngineSupervisor {
  private readonly timing: SupervisorTiming;
  private readonly logger: Logger;
  private readonly events: TypedEmitter<SupervisorEvents>;
  private gpu: GpuChoice;
  private currentState: SupervisorState = "stopped";
  private run: EngineRun | null = null;
  private currentSystem: SystemInfo | null = null;
  private latestCrash: CrashInfo | null = null;
  private restartCount = 0;
  private fastFailures = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private livenessTimer: NodeJS.Timeout | null = null;
  private lastActivityAt = 0;
  private pingInFlight = false;
  private manualRestart: Promise<void> | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.timing = { ...defaultSupervisorTiming, ...options.timing };
    this.logger = options.logger ?? consoleLogger("engine-supervisor");
    this.gpu = options.gpu;
    this.events = new TypedEmitter((error) => this.logger.error(`A supervisor listener failed: ${describeError(error)}`));
  }

  get state(): SupervisorState {
    return this.currentState;
  }
  /** What `init` reported; null while no engine is ready. */
  get system(): SystemInfo | null {
    return this.currentSystem;
  }
  get lastCrash(): CrashInfo | null {
    return this.latestCrash;
  }
  /** How many times the engine was restarted (after crashes or on request). */
  get restarts(): number {
    return this.restartCount;
  }
  /** The engine's process id, while one is running. */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  on<K extends keyof SupervisorEvents>(event: K, listener: (data: SupervisorEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** The GPU choice for the next launch (a running engine keeps its backend until restarted). */
  setGpu(gpu: GpuChoice): void {
    this.gpu = gpu;
  }

  /** Starts the engine; resolves when it is ready or has failed for good. */
  async start(): Promise<SupervisorState> {
    if (this.currentState === "stopped" || this.currentState === "failed") {
      this.stopping = false;
      this.fastFailures = 0;
      this.setState("starting");
      void this.launch();
    }
    return this.whenSettled();
  }

  /** Resolves with the state once it is "ready", "failed" or "stopped". */
  whenSettled(): Promise<SupervisorState> {
    if (SETTLED_STATES.has(this.currentState)) return Promise.resolve(this.currentState);
    return new Promise((resolve) => {
      const off = this.events.on("state", (state) => {
        if (!SETTLED_STATES.has(state)) return;
        off();
        resolve(state);
      });
    });
  }

  request<M extends EngineMethod>(method: M, params: EngineRequestParams<M>, options?: RequestOptions): Promise<EngineResult<M>> {
    const run = this.run;
    if (!run || run.readyAt === null || run.handled) {
      return Promise.reject(new EngineRequestError("ENGINE_UNAVAILABLE", `The engine is ${this.describeState()}`));
    }
    return run.connection.request(method, params, options);
  }

  /** Kills the engine (if running) and starts a fresh one now, forgetting earlier failures. */
  restart(): Promise<SupervisorState> {
    this.manualRestart ??= this.restartNow().finally(() => {
      this.manualRestart = null;
    });
    return this.manualRestart.then(() => this.whenSettled());
  }

  /** Asks the engine to shut down, waits for it to exit, kills it if it does not. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    const run = this.run;
    if (run && !run.exited) {
      run.handled = true;
      // Answered or not, what matters is that the process goes away.
      run.connection.request("shutdown", {}, { timeoutMs: this.timing.stopTimeoutMs }).catch(() => {});
      if (!(await run.waitForExit(this.timing.stopTimeoutMs))) {
        this.logger.warn("The engine did not exit after shutdown; killing it");
        run.child.kill();
        await run.waitForExit(this.timing.killWaitMs);
      }
      run.connection.close(new EngineRequestError("ENGINE_STOPPED", "The engine was shut down"));
    }
    this.run = null;
    this.currentSystem = null;
    this.setState("stopped");
  }

  private async restartNow(): Promise<void> {
    this.clearTimers();
    this.stopping = false;
    this.fastFailures = 0;
    const run = this.run;
    this.run = null;
    this.currentSystem = null;
    this.restartCount++;
    this.setState("restarting");
    if (run && !run.exited) {
      run.handled = true;
      run.connection.close(new EngineRequestError("ENGINE_STOPPED", "The engine was restarted"));
      run.child.kill();
      // Let the old process release its memory (a loaded model can be most of the RAM) before the new one starts.
      await run.waitForExit(this.timing.killWaitMs);
    }
    void this.launch();
  }

  private async launch(): Promise<void> {
    this.restartTimer = null;
    if (this.stopping) return;
    let child: EngineChild;
    try {
      child = this.options.spawner.spawn({ entry: this.options.entry, env: sanitizeEngineEnv(this.options.env ?? process.env) });
    } catch (error) {
      this.crashed(null, "launch-failed", { code: null, signal: null }, `Could not start the engine: ${describeError(error)}`, false);
      return;
    }
    const run = new EngineRun(child, new EngineConnection(child, this.logger));
    this.run = run;
    run.connection.onActivity(() => {
      if (this.run === run) this.lastActivityAt = Date.now();
    });
    run.connection.onEvent((event) => {
      if (this.run === run) this.events.emit("engineEvent", event);
    });
    child.onExit((exit) => this.onExit(run, exit));
    child.onStderrLine?.((line) => this.events.emit("stderr", line));

    try {
      const hello = await run.connection.request("hello", {}, { timeoutMs: this.timing.handshakeTimeoutMs });
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        throw new LaunchError(
          `The engine speaks protocol version ${hello.protocolVersion} but this app needs version ${PROTOCOL_VERSION}; reinstall Tandem`,
          true,
        );
      }
      const system = await run.connection.request(
        "init",
        { gpu: this.gpu, cacheDir: this.options.cacheDir },
        { timeoutMs: this.timing.initTimeoutMs },
      );
      if (this.run !== run || run.handled) return;
      run.readyAt = Date.now();
      this.lastActivityAt = run.readyAt;
      this.currentSystem = system;
      this.startLiveness(run);
      this.logger.info(`Engine ready (pid ${child.pid ?? "?"}, backend ${system.backend})`);
      this.setState("ready");
      this.events.emit("ready", system);
    } catch (error) {
      // The exit handler, stop() or restart() may already have dealt with this run.
      if (this.run !== run || run.handled) return;
      const fatal = error instanceof LaunchError && error.fatal;
      this.endRun(run, "launch-failed", `The engine did not start: ${describeError(error)}`, fatal);
    }
  }

  private onExit(run: EngineRun, exit: EngineExit): void {
    run.markExited();
    if (this.run !== run || run.handled) {
      run.connection.close(new EngineRequestError("ENGINE_STOPPED", "The engine was shut down"));
      return;
    }
    run.handled = true;
    let reason: CrashReason;
    let message: string;
    if (run.readyAt === null) {
      reason = "launch-failed";
      message = `The engine exited during startup (${describeExit(exit)})`;
    } else if (exit.gone && exit.gone.reason !== "clean-exit" && exit.gone.reason !== "abnormal-exit") {
      // Electron's reason (child-process-gone) says more than the exit code: a kill, a crash, out of memory.
      reason = exit.gone.reason === "launch-failed" || exit.gone.reason === "integrity-failure" ? "launch-failed" : "killed";
      message = `The engine process ${goneText[exit.gone.reason]} (${describeExit(exit)})`;
    } else if (exit.signal) {
      reason = "killed";
      message = `The engine process was killed (${exit.signal})`;
    } else {
      reason = "exited";
      message = `The engine process exited unexpectedly (${describeExit(exit)})`;
    }
    this.crashed(run, reason, exit, message, false);
  }

  /** Ends a run the supervisor gave up on (failed handshake, unresponsive): kill it and report the crash. */
  private endRun(run: EngineRun, reason: CrashReason, message: string, fatal: boolean): void {
    run.handled = true;
    run.child.kill();
    this.crashed(run, reason, { code: null, signal: null }, message, fatal);
  }

  private crashed(run: EngineRun | null, reason: CrashReason, exit: EngineExit, message: string, fatal: boolean): void {
    this.clearTimers();
    const crash: CrashInfo = { reason, exitCode: exit.code, signal: exit.signal, processGone: exit.gone ?? null, at: Date.now(), message };
    this.latestCrash = crash;
    this.logger.warn(`Engine crash (${reason}): ${message}`);
    run?.connection.close(new EngineRequestError("ENGINE_CRASHED", `The engine stopped unexpectedly (${reason})`, crash));
    if (this.run === run) this.run = null;
    this.currentSystem = null;

    const ranStably = run?.readyAt != null && crash.at - run.readyAt >= this.timing.stableAfterMs;
    this.fastFailures = ranStably ? 1 : this.fastFailures + 1;
    const restarting = !fatal && !this.stopping && this.fastFailures < this.timing.maxFastFailures;
    if (!restarting) {
      this.setState(this.stopping ? "stopped" : "failed");
      this.events.emit("crash", { crash, restarting });
      return;
    }
    const delay = Math.min(this.timing.backoffBaseMs * 2 ** (this.fastFailures - 1), this.timing.backoffMaxMs);
    this.restartCount++;
    this.restartTimer = setTimeout(() => void this.launch(), delay);
    this.setState("restarting");
    this.events.emit("crash", { crash, restarting });
  }

  private startLiveness(run: EngineRun): void {
    if (this.timing.pingIntervalMs <= 0) return;
    this.livenessTimer = setInterval(() => this.checkLiveness(run), this.timing.pingIntervalMs);
    this.livenessTimer.unref();
  }

  private checkLiveness(run: EngineRun): void {
    if (this.run !== run || run.handled) return;
    const silentMs = Date.now() - this.lastActivityAt;
    if (silentMs >= this.timing.unresponsiveAfterMs) {
      this.endRun(run, "unresponsive", `The engine stopped responding (silent for ${Math.round(silentMs / 1000)} s)`, false);
      return;
    }
    // Only ping a quiet engine: any message (a streamed token, a log line) already proves it is alive.
    if (silentMs >= this.timing.pingIntervalMs / 2 && !this.pingInFlight) {
      this.pingInFlight = true;
      run.connection
        .request("hello", {}, { timeoutMs: this.timing.unresponsiveAfterMs })
        .catch(() => {})
        .finally(() => {
          this.pingInFlight = false;
        });
    }
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.restartTimer = null;
    this.livenessTimer = null;
    this.pingInFlight = false;
  }

  private setState(state: SupervisorState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.events.emit("state", state);
  }

  private describeState(): string {
    switch (this.currentState) {
      case "starting":
        return "still starting";
      case "restarting":
        return "restarting";
      case "failed":
        return "not running (it failed to start; try restarting it)";
      case "stopped":
        return "stopped";
      case "ready":
        // Ready but without a usable process: stop() or a restart is under way.
        return "shutting down";
    }
  }
}

const goneText: Record<ProcessGoneReason, string> = {
  "clean-exit": "exited",
  "abnormal-exit": "exited with an error",
  killed: "was killed",
  crashed: "crashed",
  oom: "ran out of memory",
  "launch-failed": "could not be launched",
  "integrity-failure": "failed the code integrity check",
};

function describeExit(exit: EngineExit): string {
  if (exit.signal) return `signal ${exit.signal}`;
  if (exit.code !== null) return `exit code ${exit.code}`;
  return "the process could not be started";
}
