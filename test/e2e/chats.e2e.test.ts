import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { sharedModel, sharedModelsDir, targetModel } from "../helpers/models.js";
import { WebApp, closePage, openPage } from "./web-harness.js";

/**
 * Chats as a user keeps them (issue 16, item 4), in web mode with the real host, engine and KJV models: "New chat"
 * stores nothing until a message, a reload lands on the chat you were in with its tinting, and search finds words in
 * message text (SQLite FTS5) with the matching snippet.
 */
const app = new WebApp();
let browser: Browser;
let page: Page;

const lastAssistant = () => page.getByTestId("message-assistant").last();

async function send(text: string): Promise<void> {
  const before = await page.getByTestId("message-assistant").count();
  await page.getByTestId("composer-input").fill(text);
  await page.getByTestId("composer-input").press("Enter");
  await expect.poll(() => page.getByTestId("message-assistant").count(), { timeout: 10_000 }).toBe(before + 1);
  await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
}

beforeAll(async () => {
  targetModel(); // fail loudly when the shared model is missing
  await app.start();
  await app.call("updateSettings", { threads: 1, temperature: 0, maxTokens: 48, speculation: "draft" });
  await app.call("setModelsFolder", { path: sharedModelsDir });
  await app.call("loadModel", { path: targetModel() });
  await app.call("setDraftModel", { path: sharedModel("kjv-chat-draft-1m.gguf") });
  ({ browser, page } = await openPage(app, { width: 1400, height: 900 }));
  await page.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.textContent?.includes("kjv-chat-6m"), null, { timeout: 30_000 });
});

afterAll(() => closePage(browser, app));

describe("chats", () => {
  it("New chat stores nothing until the first message", async () => {
    for (let i = 0; i < 3; i++) await page.getByTestId("new-chat").click();
    expect(await app.call("listConversations", {})).toEqual([]);
    await page.reload();
    await page.getByTestId("composer-input").waitFor({ state: "visible", timeout: 30_000 });
    expect(await page.getByTestId("conversation-item").count()).toBe(0);

    await send("The LORD is my shepherd; I shall not want.");
    await expect.poll(async () => (await app.call("listConversations", {})).length).toBe(1);
  });

  it("a reload lands on the chat you were in, with its tinting", async () => {
    await send("Moses went up into the mountain.");
    const [conversation] = await app.call("listConversations", {});
    const tinted = await page.locator(".tok-draft").count();
    const text = await lastAssistant().textContent();
    await page.getByTestId("new-chat").click();
    await page.getByTestId("conversation-item").filter({ hasText: conversation!.title }).locator(".conversation-select").click();
    await page.reload();
    await expect.poll(() => page.getByTestId("chat-title").textContent(), { timeout: 30_000 }).toBe(conversation!.title);
    await expect.poll(() => page.getByTestId("message-assistant").count()).toBe(2);
    expect(await lastAssistant().textContent()).toBe(text);
    // Draft text is tinted as it was before the reload (from the reply's stored per-token record).
    expect(tinted).toBeGreaterThan(0);
    await expect.poll(() => page.locator(".tok-draft").count()).toBe(tinted);
  });

  it("finds a word of a message, not of the title, and shows the matching snippet", async () => {
    await page.getByTestId("conversation-search").fill("moses");
    const item = page.getByTestId("conversation-item");
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    const snippet = item.getByTestId("conversation-match");
    await expect.poll(() => snippet.textContent()).toMatch(/moses/i);
    expect((await snippet.locator("mark").first().textContent())?.toLowerCase()).toBe("moses");
    await page.getByTestId("conversation-search").fill("pharaohs");
    await expect.poll(() => page.getByTestId("conversations-empty").count()).toBe(1);
  });
});
