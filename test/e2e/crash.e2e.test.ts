import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { defaultSupervisorTiming } from "../../electron/host/supervision/supervisor.js";
import { targetModel, TEST_THREADS } from "../helpers/models.js";
import { WebApp, closePage, openPage } from "./web-harness.js";

/**
 * The engine crash report in web mode: the real engine is SIGKILLed each time the supervisor brings it back, until
 * the supervisor gives up (maxFastFailures crashes that each came soon after a start). The chat area then shows the
 * crash screen: the reason in plain words, the crash message, the end of engine.log; "Restart engine" brings a new
 * engine with the saved model back and the next message gets a reply. The logs on disk record what happened.
 */
const app = new WebApp();
let browser: Browser;
let page: Page;
const killed: number[] = [];

const lastAssistant = () => page.getByTestId("message-assistant").last();
const engineState = async () => (await app.call("getEngineStatus", {})).state;

/** The engine process that came up after the last kill, once its handshake is done (so a kill counts as "killed"). */
async function nextLiveEngine(): Promise<number> {
  let pid = 0;
  await expect
    .poll(
      async () => {
        const fresh = app.enginePids().filter((p) => !killed.includes(p));
        if (fresh.length !== 1) return false;
        const state = await engineState();
        pid = fresh[0]!;
        return state === "ready" || state === "loading-model";
      },
      { timeout: 60_000, interval: 100 },
    )
    .toBe(true);
  return pid;
}

beforeAll(async () => {
  targetModel(); // fail loudly when the shared model is missing
  await app.start();
  await app.call("updateSettings", { threads: TEST_THREADS, temperature: 0, maxTokens: 40 });
  await app.call("loadModel", { path: targetModel() });
  ({ browser, page } = await openPage(app));
});

afterAll(() => closePage(browser, app));

describe("engine crash report in web mode", () => {
  it("shows the crash screen once the supervisor gives up restarting a repeatedly killed engine", async () => {
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 30_000 }).toContain("kjv-chat-6m");
    const kills = defaultSupervisorTiming.maxFastFailures;
    for (let i = 0; i < kills; i++) {
      const pid = await nextLiveEngine();
      killed.push(pid);
      process.kill(pid, "SIGKILL");
      // Gone (reaped by the host) before the next one is looked for; a new process only appears after the
      // supervisor has dealt with this crash, so the state read with it is the new engine's.
      await expect.poll(() => app.enginePids().includes(pid), { timeout: 15_000, interval: 50 }).toBe(false);
    }

    const screen = page.getByTestId("crash-screen");
    await screen.waitFor({ state: "visible", timeout: 30_000 });
    expect(await engineState()).toBe("failed");
    // No engine left running: the supervisor stopped restarting it.
    expect(app.enginePids().filter((p) => !killed.includes(p))).toEqual([]);

    // The reason in plain words, and the supervisor's message.
    expect(await screen.getByTestId("crash-title").textContent()).toBe("The engine was killed (SIGKILL)");
    expect(await screen.getByTestId("crash-message").textContent()).toMatch(/killed \(SIGKILL\)/);
    // The screen tells the story; no banner repeats it.
    expect(await page.getByTestId("banner-engine-crashed").count()).toBe(0);
    // Web mode cannot open a folder: the logs path is shown to copy instead.
    expect(await screen.getByTestId("crash-logs-path").textContent()).toBe(path.join(app.dataDir, "logs"));

    // The last lines of engine.log, as the file on disk has them.
    const log = screen.getByTestId("crash-log");
    await expect.poll(() => log.textContent(), { timeout: 10_000 }).toMatch(/--- crashed \(killed\)/);
    const shown = ((await log.textContent()) ?? "").split("\n");
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.length).toBeLessThanOrEqual(30);
    const onDisk = readFileSync(path.join(app.dataDir, "logs", "engine.log"), "utf8").trimEnd().split("\n");
    expect(onDisk.slice(-shown.length)).toEqual(shown);
    expect(shown.filter((line) => line.includes("--- crashed (killed)")).length).toBeGreaterThanOrEqual(2);
  });

  it("keeps engine.log and host.log, and host.log records why the supervisor gave up", () => {
    const logs = path.join(app.dataDir, "logs");
    expect(existsSync(path.join(logs, "engine.log"))).toBe(true);
    expect(existsSync(path.join(logs, "host.log"))).toBe(true);
    const host = readFileSync(path.join(logs, "host.log"), "utf8");
    expect(host).toMatch(/Engine crashed \(killed, SIGKILL\): The engine process was killed \(SIGKILL\); restarting/);
    expect(host).toMatch(/Engine crashed \(killed, SIGKILL\): The engine process was killed \(SIGKILL\); giving up/);
  });

  it("restarts the engine from the crash screen: the model is reloaded and a message gets a reply", async () => {
    await page.getByTestId("crash-restart").click();
    await expect.poll(() => page.getByTestId("crash-screen").count(), { timeout: 60_000 }).toBe(0);
    await expect.poll(engineState, { timeout: 60_000 }).toBe("ready");
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 60_000 }).toContain("kjv-chat-6m");
    const status = await app.call("getEngineStatus", {});
    expect(status.model?.modelPath).toBe(targetModel());
    expect(app.enginePids().filter((p) => !killed.includes(p))).toHaveLength(1);
    // The crash was dealt with from its screen: no banner brings it back.
    expect(await page.getByTestId("banner-engine-crashed").count()).toBe(0);

    await page.getByTestId("composer-input").fill("The LORD is my shepherd; I shall not want.");
    await page.getByTestId("composer-input").press("Enter");
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
    expect(((await lastAssistant().textContent()) ?? "").trim().length).toBeGreaterThan(0);
    await expect.poll(() => lastAssistant().getByTestId("message-stats").textContent()).toMatch(/tokens/);
  });
});
