import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { targetModel, TEST_THREADS } from "../helpers/models.js";
import { WebApp, closePage, openPage, recordTextGrowth, screenshotDir } from "./web-harness.js";

/**
 * First run in web mode, as a new user meets it: a fresh data folder (empty library, no model configured) shows the
 * welcome screen; uploading the shared model from the browser puts it in the models folder and loads it; the chat
 * appears and a reply streams. The engine is paced so the streaming is visible over several frames.
 */
const app = new WebApp({ TANDEM_ENGINE_STEP_DELAY_MS: "20" });
let browser: Browser;
let page: Page;

beforeAll(async () => {
  targetModel(); // fail loudly when the shared model is missing
  await app.start();
  // Threads only (as the other E2E suites): modelPath stays unset, so this is still a first run.
  await app.call("updateSettings", { threads: TEST_THREADS, temperature: 0, maxTokens: 60 });
  ({ browser, page } = await openPage(app));
});

afterAll(() => closePage(browser, app));

describe("first run in web mode", () => {
  it("shows the welcome screen on an empty library", async () => {
    const welcome = page.getByTestId("welcome-screen");
    await expect.poll(() => welcome.count(), { timeout: 15_000 }).toBe(1);
    expect(await welcome.getByTestId("welcome-intro").textContent()).toMatch(/draft/);
    expect(await welcome.getByTestId("welcome-pair").textContent()).toContain("CPU-friendly");
    // The README's first-run screenshot.
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(screenshotDir(), "welcome.png") });
    expect(await page.getByTestId("empty-no-model").count()).toBe(0);
  });

  it("uploads the shared model from the browser, loads it, and the chat appears", async () => {
    // The browser's file chooser, as a user picks the file (web mode uploads it into the models folder).
    await page.getByTestId("welcome-import").getByTestId("upload-input").setInputFiles(targetModel());
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 60_000 }).toContain("kjv-chat-6m");
    await expect.poll(() => page.getByTestId("welcome-screen").count(), { timeout: 10_000 }).toBe(0);
    // Uploaded into the fresh data folder's models folder.
    const modelsFolder = (await app.call("getAppInfo", {})).paths.modelsFolder;
    expect(modelsFolder.startsWith(app.dataDir)).toBe(true);
    expect(readdirSync(modelsFolder)).toContain(path.basename(targetModel()));
    expect((await app.call("getSettings", {})).modelPath).toBe(path.join(modelsFolder, path.basename(targetModel())));
  });

  it("sends a message and a reply streams", async () => {
    await page.getByTestId("composer-input").fill("The LORD is my shepherd; I shall not want.");
    await page.getByTestId("composer-input").press("Enter");
    const lengths = await recordTextGrowth(page, '[data-testid="message-assistant"]', 3_000);
    const growing = lengths.filter((n) => n > 0);
    expect(growing.length).toBeGreaterThanOrEqual(2);
    const reply = page.getByTestId("message-assistant").last();
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 30_000 }).toBe("complete");
    expect(((await reply.textContent()) ?? "").trim().length).toBeGreaterThan(0);
  });

  it("does not show the welcome screen again once a model is configured, and keeps host and engine logs", async () => {
    await page.reload();
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 30_000 }).toContain("kjv-chat-6m");
    expect(await page.getByTestId("welcome-screen").count()).toBe(0);
    expect(existsSync(path.join(app.dataDir, "logs", "host.log"))).toBe(true);
    const { lines } = await app.call("readLogTail", { log: "host", lines: 200 });
    expect(lines.join("\n")).toMatch(/kjv-chat-6m\.gguf/);
  });
});
