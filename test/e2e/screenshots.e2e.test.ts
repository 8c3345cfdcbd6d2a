import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { targetModel } from "../helpers/models.js";
import { WebApp, launchBrowser, screenshotDir } from "./web-harness.js";

/** The README's screenshots, taken from the real app at its real speed (no pacing) with the shared model. */
const app = new WebApp();
let browser: Browser;

beforeAll(async () => {
  await app.start();
  await app.call("setModelsFolder", { path: path.dirname(targetModel()) });
  await app.call("updateSettings", { threads: 1, temperature: 0, maxTokens: 120 });
  await app.call("loadModel", { path: targetModel() });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app.stop();
});

describe("README screenshots", () => {
  it("captures a conversation in light and dark themes", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(app.url);
    await page.getByTestId("new-chat").click();
    for (const prompt of ["The LORD is my shepherd; I shall not want.", "Blessed are the peacemakers: for they shall be called the children of God."]) {
      await page.getByTestId("composer-input").fill(prompt);
      await page.getByTestId("composer-input").press("Enter");
      await expect
        .poll(async () => page.locator('[data-testid="message-assistant"][data-status="complete"]').count(), { timeout: 20_000 })
        .toBeGreaterThan(0);
      await page.getByTestId("send-button").waitFor({ state: "visible" });
    }
    await expect.poll(() => page.locator('[data-testid="message-assistant"][data-status="complete"]').count()).toBe(2);
    const dir = screenshotDir();
    await page.screenshot({ path: path.join(dir, "chat-light.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(dir, "chat-dark.png") });
  });
});
