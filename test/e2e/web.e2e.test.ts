import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { sharedModelsDir, targetModel } from "../helpers/models.js";
import { WebApp, closePage, openPage, recordTextGrowth } from "./web-harness.js";

/**
 * The full app in web mode, as a user drives it: real host, real engine process, the real KJV model, Debian's
 * chromium. The engine is paced (TANDEM_ENGINE_STEP_DELAY_MS) to the speed of a slower machine so that Stop and
 * the engine kill land mid-reply: on this machine the model writes a whole reply in about 0.1 s.
 */
const app = new WebApp({ TANDEM_ENGINE_STEP_DELAY_MS: "40" });
let browser: Browser;
let page: Page;

const lastAssistant = () => page.getByTestId("message-assistant").last();

async function send(text: string): Promise<void> {
  await page.getByTestId("composer-input").fill(text);
  await page.getByTestId("composer-input").press("Enter");
}

async function waitForStreamingText(): Promise<void> {
  await expect.poll(async () => (await lastAssistant().getAttribute("data-status")) === "streaming" && ((await lastAssistant().textContent()) ?? "").trim().length > 0, { timeout: 20_000 }).toBe(true);
}

beforeAll(async () => {
  targetModel(); // fail loudly when the shared model is missing
  await app.start();
  await app.call("updateSettings", { threads: 1, temperature: 0, maxTokens: 120 });
  ({ browser, page } = await openPage(app));
});

afterAll(() => closePage(browser, app));

describe("web mode with the real engine", () => {
  it("loads a model chosen from a typed models folder", async () => {
    await page.getByTestId("model-picker").click();
    await page.getByTestId("models-folder-input").fill(sharedModelsDir);
    await page.getByTestId("models-folder-input").press("Enter");
    await page.getByTestId("model-option").filter({ hasText: path.basename(targetModel()) }).click();
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 30_000 }).toContain("kjv-chat-6m");
    await expect.poll(() => page.getByTestId("status-threads").textContent()).toMatch(/1 thread/);
  });

  it("shows the library with GGUF facts and the loaded model's compatible drafts on the Models screen", async () => {
    await page.getByTestId("model-picker").click();
    await page.getByTestId("open-models-screen").click();
    const screen = page.getByTestId("models-screen");
    const target = screen.getByTestId("models-row").filter({ hasText: "kjv-chat-6m.gguf" });
    await expect.poll(() => target.textContent(), { timeout: 10_000 }).toMatch(/llama.*5\.8M.*F32.*256/);
    await expect.poll(() => screen.getByTestId("recommended-draft").textContent(), { timeout: 10_000 }).toContain("kjv-chat-draft-1m.gguf");
    await screen.getByTestId("models-row").filter({ hasText: "kjv-chat-draft-1m.gguf" }).click();
    const details = screen.getByTestId("model-details");
    await expect.poll(() => details.textContent()).toContain("ChatML");
    expect(await details.getByTestId("use-as-draft").isEnabled()).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByTestId("models-screen").count()).toBe(0);
  });

  it("streams a reply into a new conversation over several frames", async () => {
    await page.getByTestId("new-chat").click();
    await send("The LORD is my shepherd; I shall not want.");
    const lengths = await recordTextGrowth(page, '[data-testid="message-assistant"]', 4_000);
    // Text arrived in several steps, each longer than the one before.
    const growing = lengths.filter((n) => n > 0);
    expect(growing.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < growing.length; i++) expect(growing[i]).toBeGreaterThan(growing[i - 1]!);
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 20_000 }).toBe("complete");
    expect(((await lastAssistant().textContent()) ?? "").length).toBeGreaterThan(20);
    await expect.poll(() => lastAssistant().getByTestId("message-stats").textContent()).toMatch(/tokens/);
    // The conversation took its title from the first message.
    await expect.poll(() => page.getByTestId("conversation-item").first().textContent()).toContain("The LORD is my shepherd");
  });

  it("stops mid-stream and keeps the partial reply", async () => {
    await send("And God said, Let there be light: and there was light.");
    await waitForStreamingText();
    await page.getByTestId("stop-button").click();
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 10_000 }).toBe("stopped");
    const kept = ((await lastAssistant().textContent()) ?? "").trim();
    expect(kept.length).toBeGreaterThan(0);
    await page.getByTestId("send-button").waitFor({ state: "visible", timeout: 5_000 });
  });

  it("regenerates the last reply (greedy: the same text again)", async () => {
    await send("Blessed are the meek: for they shall inherit the earth.");
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 20_000 }).toBe("complete");
    const firstId = await lastAssistant().getAttribute("data-id");
    const first = await lastAssistant().locator(".markdown").textContent();
    await lastAssistant().getByTestId("regenerate-button").click();
    await expect.poll(async () => (await lastAssistant().getAttribute("data-id")) !== firstId && (await lastAssistant().getAttribute("data-status")) === "complete", { timeout: 20_000 }).toBe(true);
    expect(await lastAssistant().locator(".markdown").textContent()).toBe(first);
    expect(await page.getByTestId("message-assistant").count()).toBe(3);
  });

  it("keeps the history across a page reload", async () => {
    const before = await page.getByTestId("message-assistant").allTextContents();
    const users = await page.getByTestId("message-user").allTextContents();
    await page.reload();
    await page.getByTestId("conversation-item").first().click();
    await expect.poll(() => page.getByTestId("message-user").count()).toBe(users.length);
    expect(await page.getByTestId("message-user").allTextContents()).toEqual(users);
    expect(await page.getByTestId("message-assistant").allTextContents()).toEqual(before);
    expect(await page.getByTestId("message-assistant").nth(1).getAttribute("data-status")).toBe("stopped");
  });

  it("survives the engine being killed mid-reply: banner, partial reply kept, next prompt works", async () => {
    const [enginePid] = app.enginePids();
    expect(enginePid).toBeGreaterThan(0);
    await send("In the beginning God created the heaven and the earth.");
    await waitForStreamingText();
    process.kill(enginePid!, "SIGKILL");

    await page.getByTestId("banner-engine-crashed").waitFor({ state: "visible", timeout: 15_000 });
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 15_000 }).toBe("interrupted");
    const partial = ((await lastAssistant().textContent()) ?? "").trim();
    expect(partial.length).toBeGreaterThan(0);

    // The supervisor restarts the engine (a new process) and reloads the model.
    await expect.poll(() => app.enginePids().filter((pid) => pid !== enginePid).length, { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 30_000 }).toContain("kjv-chat-6m");

    await send("Amen.");
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 30_000 }).toBe("complete");
    expect(((await lastAssistant().textContent()) ?? "").trim().length).toBeGreaterThan(0);

    // The interrupted reply is still there after a reload, still marked as such.
    await page.reload();
    await page.getByTestId("conversation-item").first().click();
    await expect.poll(() => page.locator('[data-testid="message-assistant"][data-status="interrupted"]').count()).toBe(1);
  });
});
