import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { EngineRequestError } from "../../../../electron/host/errors.js";
import { sanitizeEngineEnv } from "../../../../electron/host/supervision/engine-env.js";
import { EngineSupervisor, nodeForkSpawner, type SupervisorState, type SupervisorTiming } from "../../../../electron/host/supervision/supervisor.js";
import type { CrashInfo } from "../../../../contracts/window/index.js";
import { isProcessAlive, waitFor, writeFakeEngine } from "../fake-engine.js";
import { recordingLogger, type RecordingLogger } from "../test-logger.js";
import type { EngineSpawner } from "../../../../electron/host/types.js";

let entry: string;
let workDir: string;
const supervisors: EngineSupervisor[] = [];

beforeAll(() => {
  entry = writeFakeEngine();
  workDir = mkdtempSync(join(tmpdir(), "tandem-supervisor-test-"));
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((supervisor) => supervisor.stop()));
});

interface Harness {
  supervisor: EngineSupervisor;
  states: SupervisorState[];
  crashes: Array<{ crash: CrashInfo; restarting: boolean; at: number }>;
  logger: RecordingLogger;
}

function makeSupervisor(fakeEnv: Record<string, string> = {}, timing: Partial<SupervisorTiming> = {}, spawner: EngineSpawner = nodeForkSpawner): Harness {
  const logger = recordingLogger();
  const supervisor = new EngineSupervisor({
    entry,
    spawner,
    cacheDir: join(workDir, "cache"),
    gpu: "cpu",
    env: { PATH: process.env.PATH, ...fakeEnv },
    logger,
    timing: { pingIntervalMs: 0, backoffBaseMs: 20, handshakeTimeoutMs: 5_000, stopTimeoutMs: 500, ...timing },
  });
  supervisors.push(supervisor);
  const states: SupervisorState[] = [];
  const crashes: Harness["crashes"] = [];
  supervisor.on("state", (state) => states.push(state));
  supervisor.on("crash", (event) => crashes.push({ ...event, at: Date.now() }));
  return { supervisor, states, crashes, logger };
}

async function loadFakeModel(supervisor: EngineSupervisor): Promise<void> {
  await supervisor.request("loadModel", { modelPath: "/models/fake.gguf", contextSize: 256, threads: 1 });
}

async function expectEngineError(promise: Promise<unknown>, code: string): Promise<EngineRequestError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EngineRequestError);
  expect((error as EngineRequestError).code).toBe(code);
  return error as EngineRequestError;
}

describe("engine environment", () => {
  it("passes only the allow-list, whatever the case of the names", () => {
    const env = sanitizeEngineEnv({
      Path: "/bin",
      HOME: "/home/u",
      SystemRoot: "C:\\Windows",
      XDG_CACHE_HOME: "/c",
      NODE_LLAMA_CPP_GPU: "cpu",
      TANDEM_ENGINE_STEP_DELAY_MS: "5",
      NODE_OPTIONS: "--require evil.js",
      ELECTRON_RUN_AS_NODE: "1",
      AWS_SECRET_ACCESS_KEY: "secret",
      LD_PRELOAD: "/evil.so",
    });
    expect(env).toEqual({
      Path: "/bin",
      HOME: "/home/u",
      SystemRoot: "C:\\Windows",
      XDG_CACHE_HOME: "/c",
      NODE_LLAMA_CPP_GPU: "cpu",
      TANDEM_ENGINE_STEP_DELAY_MS: "5",
    });
  });

  it("is what the spawned engine actually sees", async () => {
    const record = join(workDir, "env.json");
    const { supervisor } = makeSupervisor({
      TANDEM_FAKE_RECORD_ENV: record,
      NODE_OPTIONS: "--max-old-space-size=100",
      ELECTRON_RUN_AS_NODE: "1",
      SECRET_API_KEY: "hunter2",
      XDG_DATA_HOME: "/tmp/xdg",
    });
    expect(await supervisor.start()).toBe("ready");
    const seen = JSON.parse(readFileSync(record, "utf8")) as Record<string, string>;
    expect(seen.XDG_DATA_HOME).toBe("/tmp/xdg");
    expect(seen.PATH).toBe(process.env.PATH);
    expect(seen.NODE_OPTIONS).toBeUndefined();
    expect(seen.ELECTRON_RUN_AS_NODE).toBeUndefined();
    expect(seen.SECRET_API_KEY).toBeUndefined();
  });
});

describe("EngineSupervisor startup", () => {
  it("handshakes, initialises with the chosen GPU and becomes ready", async () => {
    const { supervisor, states, crashes } = makeSupervisor();
    expect(await supervisor.start()).toBe("ready");
    expect(states).toEqual(["starting", "ready"]);
    expect(supervisor.system?.gpuRequested).toBe("cpu");
    expect(supervisor.pid).toBeGreaterThan(0);
    expect(crashes).toEqual([]);
    const info = await supervisor.request("getSystemInfo", {});
    expect(info.backend).toBe("cpu");
  });

  it("refuses an engine of another protocol version without retrying", async () => {
    const launchLog = join(workDir, "bad-version.log");
    const { supervisor, crashes } = makeSupervisor({ TANDEM_FAKE_MODE: "bad-version", TANDEM_FAKE_LAUNCH_LOG: launchLog });
    expect(await supervisor.start()).toBe("failed");
    expect(crashes).toHaveLength(1);
    expect(crashes[0].crash.reason).toBe("launch-failed");
    expect(crashes[0].crash.message).toMatch(/protocol version 999/);
    expect(crashes[0].restarting).toBe(false);
    expect(readFileSync(launchLog, "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("reports a crash during the handshake as launch-failed with the exit code", async () => {
    const { supervisor, crashes } = makeSupervisor({ TANDEM_FAKE_MODE: "crash-on-hello" }, { maxFastFailures: 1 });
    expect(await supervisor.start()).toBe("failed");
    expect(crashes[0].crash).toMatchObject({ reason: "launch-failed", exitCode: 4, signal: null });
  });

  it("gives up on an engine that never answers the handshake and kills it", async () => {
    const launchLog = join(workDir, "silent.log");
    const { supervisor, crashes } = makeSupervisor(
      { TANDEM_FAKE_MODE: "silent", TANDEM_FAKE_LAUNCH_LOG: launchLog },
      { handshakeTimeoutMs: 300, maxFastFailures: 1 },
    );
    expect(await supervisor.start()).toBe("failed");
    expect(crashes[0].crash.reason).toBe("launch-failed");
    expect(crashes[0].crash.message).toMatch(/did not answer "hello"/);
    const pid = Number(readFileSync(launchLog, "utf8").trim());
    await waitFor(() => !isProcessAlive(pid), 3_000, "the silent engine to be killed");
  });

  it("restarts with growing delays and fails after repeated fast failures", async () => {
    const { supervisor, states, crashes } = makeSupervisor(
      { TANDEM_FAKE_MODE: "exit-on-start" },
      { backoffBaseMs: 100, maxFastFailures: 4 },
    );
    expect(await supervisor.start()).toBe("failed");
    expect(crashes.map((c) => c.restarting)).toEqual([true, true, true, false]);
    expect(crashes.every((c) => c.crash.reason === "launch-failed" && c.crash.exitCode === 3)).toBe(true);
    // Consecutive restarts stay in one "restarting" state: the window sees starting → restarting → failed.
    expect(states).toEqual(["starting", "restarting", "failed"]);
    expect(supervisor.restarts).toBe(3);
    // Delays 100, 200, 400 ms between the crashes (plus the time a process takes to start and exit).
    const gaps = crashes.slice(1).map((c, i) => c.at - crashes[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeGreaterThanOrEqual(395);
    expect(gaps[2]).toBeGreaterThan(gaps[0]);
  });

  it("reports a missing engine file as launch-failed", async () => {
    const logger = recordingLogger();
    const supervisor = new EngineSupervisor({
      entry: join(workDir, "no-such-engine.js"),
      spawner: nodeForkSpawner,
      cacheDir: join(workDir, "cache"),
      gpu: "auto",
      env: { PATH: process.env.PATH },
      logger,
      timing: { pingIntervalMs: 0, backoffBaseMs: 10, maxFastFailures: 2 },
    });
    supervisors.push(supervisor);
    expect(await supervisor.start()).toBe("failed");
    expect(supervisor.lastCrash).toMatchObject({ reason: "launch-failed", exitCode: 1 });
  });

  it("comes back after a few failed launches", async () => {
    const { supervisor, crashes } = makeSupervisor({
      TANDEM_FAKE_FAIL_LAUNCHES: "2",
      TANDEM_FAKE_LAUNCH_LOG: join(workDir, "two-failures.log"),
    });
    expect(await supervisor.start()).toBe("ready");
    expect(crashes.map((c) => c.restarting)).toEqual([true, true]);
    expect(supervisor.restarts).toBe(2);
  });
});

describe("EngineSupervisor requests", () => {
  it("passes engine errors through with their code", async () => {
    const { supervisor } = makeSupervisor();
    await supervisor.start();
    await expectEngineError(supervisor.request("generate", { messageId: "g", conversationId: "s", messages: [{ role: "user", content: "hi" }], maxTokens: 5, sampling: { temperature: 0 } }), "NO_MODEL");
    await expectEngineError(supervisor.request("loadModel", { modelPath: "/m/broken.gguf", contextSize: "auto", threads: 1 }), "MODEL_LOAD_FAILED");
  });

  it("re-emits validated events", async () => {
    const { supervisor } = makeSupervisor();
    await supervisor.start();
    const progress: number[] = [];
    supervisor.on("engineEvent", (event) => {
      if (event.event === "modelLoadProgress") progress.push(event.data.progress);
    });
    await loadFakeModel(supervisor);
    expect(progress).toEqual([0.5, 1]);
  });

  it("logs and drops malformed messages, and rejects a result that breaks the protocol", async () => {
    const { supervisor, crashes, logger } = makeSupervisor({ TANDEM_FAKE_MODE: "malformed" });
    expect(await supervisor.start()).toBe("ready");
    const events: string[] = [];
    supervisor.on("engineEvent", (event) => events.push(event.event));
    await expectEngineError(supervisor.request("getSystemInfo", {}), "BAD_RESPONSE");
    await loadFakeModel(supervisor);
    expect(events).toEqual(["modelLoadProgress", "modelLoadProgress"]);
    expect(supervisor.state).toBe("ready");
    expect(crashes).toEqual([]);
    const warnings = logger.messages("warn").join("\n");
    expect(warnings).toMatch(/malformed message/);
    expect(warnings).toMatch(/unknown request 99999/);
    expect(warnings).toMatch(/unknown kind "mystery"/);
    expect(warnings).toMatch(/malformed or unknown engine event/);
  });

  it("rejects requests while no engine is ready", async () => {
    const { supervisor } = makeSupervisor();
    await expectEngineError(supervisor.request("getSystemInfo", {}), "ENGINE_UNAVAILABLE");
  });
});

describe("EngineSupervisor crashes", () => {
  it("rejects pending requests with ENGINE_CRASHED when the engine exits, then restarts it", async () => {
    const { supervisor, crashes } = makeSupervisor();
    await supervisor.start();
    await loadFakeModel(supervisor);
    const firstPid = supervisor.pid;
    const error = await expectEngineError(
      supervisor.request("generate", {
        messageId: "g1",
        conversationId: "s",
        messages: [{ role: "user", content: "please CRASH now and then" }],
        maxTokens: 50,
        sampling: { temperature: 0 },
      }),
      "ENGINE_CRASHED",
    );
    expect(error.crash).toMatchObject({ reason: "exited", exitCode: 9 });
    expect(crashes[0]).toMatchObject({ restarting: true });
    expect(await supervisor.whenSettled()).toBe("ready");
    expect(supervisor.pid).not.toBe(firstPid);
    expect(supervisor.restarts).toBe(1);
    expect(supervisor.lastCrash?.reason).toBe("exited");
  });

  it("reports a killed engine as 'killed' with the signal", async () => {
    const { supervisor, crashes } = makeSupervisor({ TANDEM_FAKE_STEP_MS: "50" });
    await supervisor.start();
    await loadFakeModel(supervisor);
    const pending = supervisor.request("generate", {
      messageId: "g2",
      conversationId: "s",
      messages: [{ role: "user", content: "a long enough message to still be streaming when killed" }],
      maxTokens: 50,
      sampling: { temperature: 0 },
    });
    const outcome = expectEngineError(pending, "ENGINE_CRASHED");
    process.kill(supervisor.pid!, "SIGKILL");
    await outcome;
    expect(crashes[0].crash).toMatchObject({ reason: "killed", signal: "SIGKILL", exitCode: null });
    expect(await supervisor.whenSettled()).toBe("ready");
  });

  it("passes the shell's typed reason (child-process-gone) on to the crash: out of memory", async () => {
    // As the utility-process spawner reports an OOM death: an exit code and Electron's reason.
    const oomSpawner: EngineSpawner = {
      spawn(options) {
        const child = nodeForkSpawner.spawn(options);
        return { ...child, pid: child.pid, onExit: (listener) => child.onExit(() => listener({ code: 137, signal: null, gone: { reason: "oom", exitCode: 137 } })) };
      },
    };
    const { supervisor, crashes } = makeSupervisor({}, {}, oomSpawner);
    await supervisor.start();
    process.kill(supervisor.pid!, "SIGKILL");
    await waitFor(() => crashes.length > 0, 3_000, "the crash");
    expect(crashes[0].crash).toMatchObject({ reason: "killed", exitCode: 137, processGone: { reason: "oom", exitCode: 137 } });
    expect(crashes[0].crash.message).toBe("The engine process ran out of memory (exit code 137)");
  });

  it("declares a silent engine unresponsive, kills it and restarts it", async () => {
    const launchLog = join(workDir, "hang.log");
    const { supervisor, crashes } = makeSupervisor(
      { TANDEM_FAKE_MODE: "hang-after-ready", TANDEM_FAKE_LAUNCH_LOG: launchLog },
      { pingIntervalMs: 50, unresponsiveAfterMs: 300 },
    );
    await supervisor.start();
    const firstPid = supervisor.pid!;
    await waitFor(() => crashes.length > 0, 3_000, "the unresponsive crash");
    expect(crashes[0].crash.reason).toBe("unresponsive");
    expect(crashes[0].restarting).toBe(true);
    await waitFor(() => !isProcessAlive(firstPid), 3_000, "the hung engine to be killed");
    expect(await supervisor.whenSettled()).toBe("ready");
    expect(supervisor.pid).not.toBe(firstPid);
  });

  it("counts any message as a sign of life: a streaming engine that ignores pings is left alone", async () => {
    const { supervisor, crashes } = makeSupervisor(
      { TANDEM_FAKE_MODE: "ignore-pings", TANDEM_FAKE_STEP_MS: "40" },
      { pingIntervalMs: 50, unresponsiveAfterMs: 400 },
    );
    await supervisor.start();
    await loadFakeModel(supervisor);
    const words = Array.from({ length: 25 }, (_, i) => `w${i}`).join(" ");
    const result = await supervisor.request("generate", {
      messageId: "g3",
      conversationId: "s",
      messages: [{ role: "user", content: words }],
      maxTokens: 100,
      sampling: { temperature: 0 },
    });
    // The reply took well over the silence limit: only the token events kept the engine alive.
    expect(result.stats.durationMs).toBeGreaterThan(800);
    expect(crashes).toEqual([]);
    // The same engine, once quiet, is declared unresponsive: the pings really go unanswered.
    await waitFor(() => crashes.length > 0, 3_000, "the unresponsive crash");
    expect(crashes[0].crash.reason).toBe("unresponsive");
  });

  it("treats a crash after a stable run as a first failure again", async () => {
    const { supervisor, crashes } = makeSupervisor({}, { maxFastFailures: 2, stableAfterMs: 200 });
    await supervisor.start();
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(supervisor.pid!, "SIGKILL");
      await waitFor(() => crashes.length === i + 1, 3_000, `crash ${i + 1}`);
      expect(await supervisor.whenSettled()).toBe("ready");
    }
    expect(crashes.map((c) => c.restarting)).toEqual([true, true, true]);
  });

  it("gives up when crashes come fast", async () => {
    const { supervisor, crashes } = makeSupervisor({}, { maxFastFailures: 2, stableAfterMs: 60_000 });
    await supervisor.start();
    process.kill(supervisor.pid!, "SIGKILL");
    await waitFor(() => crashes.length === 1, 3_000, "crash 1");
    expect(await supervisor.whenSettled()).toBe("ready");
    process.kill(supervisor.pid!, "SIGKILL");
    await waitFor(() => crashes.length === 2, 3_000, "crash 2");
    expect(crashes.map((c) => c.restarting)).toEqual([true, false]);
    expect(supervisor.state).toBe("failed");
  });
});

describe("EngineSupervisor stop and restart", () => {
  it("stops cleanly through shutdown, without reporting a crash", async () => {
    const { supervisor, states, crashes } = makeSupervisor();
    await supervisor.start();
    const pid = supervisor.pid!;
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(isProcessAlive(pid)).toBe(false);
    expect(states.at(-1)).toBe("stopped");
    expect(crashes).toEqual([]);
  });

  it("kills an engine that ignores shutdown after the stop timeout", async () => {
    const { supervisor, crashes, logger } = makeSupervisor({ TANDEM_FAKE_MODE: "ignore-shutdown" }, { stopTimeoutMs: 300 });
    await supervisor.start();
    const pid = supervisor.pid!;
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(isProcessAlive(pid)).toBe(false);
    expect(crashes).toEqual([]);
    expect(logger.messages("warn").join()).toMatch(/killing it/);
  });

  it("restart() replaces the process and rejects its pending requests with ENGINE_STOPPED", async () => {
    const { supervisor, crashes } = makeSupervisor({ TANDEM_FAKE_STEP_MS: "50" });
    await supervisor.start();
    await loadFakeModel(supervisor);
    const firstPid = supervisor.pid!;
    const pending = supervisor.request("generate", {
      messageId: "g4",
      conversationId: "s",
      messages: [{ role: "user", content: "one two three four five six seven eight" }],
      maxTokens: 50,
      sampling: { temperature: 0 },
    });
    const outcome = expectEngineError(pending, "ENGINE_STOPPED");
    expect(await supervisor.restart()).toBe("ready");
    await outcome;
    expect(supervisor.pid).not.toBe(firstPid);
    expect(isProcessAlive(firstPid)).toBe(false);
    expect(crashes).toEqual([]);
    expect(supervisor.restarts).toBe(1);
  });

  it("restart() brings a failed engine back", async () => {
    const { supervisor } = makeSupervisor(
      { TANDEM_FAKE_FAIL_LAUNCHES: "2", TANDEM_FAKE_LAUNCH_LOG: join(workDir, "restart-failed.log") },
      { maxFastFailures: 2 },
    );
    expect(await supervisor.start()).toBe("failed");
    expect(await supervisor.restart()).toBe("ready");
    expect(existsSync(join(workDir, "restart-failed.log"))).toBe(true);
  });
});
