import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { targetModel, TEST_THREADS } from "../helpers/models.js";
import { closeSettingsDialog, launchBrowser, openSettingsSection, screenshotDir, WebApp } from "./web-harness.js";

/**
 * The local API server turned on from Settings in a real browser (web mode, the real engine, the KJV model): the
 * section shows the base URL it listens on (port 0: any free port), an OpenAI-style request from this process gets a
 * reply, and the status bar counts it. Also the README's screenshot of the section (api-server.png).
 */
const app = new WebApp();
let browser: Browser;
let page: Page;
const MODEL_ID = path.basename(targetModel());

const section = () => page.getByTestId("api-server-settings");
const indicator = () => page.getByTestId("status-api-text");

const openSettings = () => openSettingsSection(page, "api-server-settings");

const closeSettings = () => closeSettingsDialog(page);

beforeAll(async () => {
  await app.start();
  await app.call("setModelsFolder", { path: path.dirname(targetModel()) });
  await app.call("updateSettings", { threads: TEST_THREADS, temperature: 0, maxTokens: 40, theme: "light" });
  await app.call("loadModel", { path: targetModel() });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(app.url);
  await page.waitForFunction((name) => document.querySelector('[data-testid="status-model"]')?.textContent?.includes(name), MODEL_ID, { timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await app.stop();
});

describe("the API server from Settings", () => {
  let baseUrl = "";

  it("is off at first: no indicator in the status bar, Off in Settings", async () => {
    expect(await page.getByTestId("status-api").count()).toBe(0);
    await openSettings();
    expect(await section().getByTestId("api-server-state").textContent()).toBe("Off");
    expect(await section().getByTestId("api-server-enabled").isChecked()).toBe(false);
  });

  it("turns on with port 0 when saved, and shows the base URL and a curl example with the model's id", async () => {
    await section().getByTestId("api-server-enabled").check();
    await section().getByLabel("Port").fill("0");
    await page.getByTestId("settings-save").click();
    await page.getByTestId("settings-dialog").waitFor({ state: "detached", timeout: 10_000 });
    expect((await app.call("getSettings", {})).apiServer).toMatchObject({ enabled: true, host: "127.0.0.1", port: 0 });

    await expect.poll(() => page.getByTestId("status-api").getAttribute("data-state"), { timeout: 15_000 }).toBe("running");
    await openSettings();
    expect(await section().getByTestId("api-server-state").textContent()).toMatch(/^Running · 0 requests$/);
    baseUrl = (await section().getByTestId("api-server-url").textContent()) ?? "";
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const port = Number(new URL(baseUrl).port);
    expect(port).toBeGreaterThan(0);
    const curl = (await section().getByTestId("api-server-curl").textContent()) ?? "";
    expect(curl).toContain(`curl ${baseUrl}/chat/completions`);
    expect(curl).toContain(`"model": "${MODEL_ID}"`);
    expect(curl).not.toContain("Authorization");
    await closeSettings();

    expect(await indicator().textContent()).toBe(`API :${port} · 0 requests`);
    expect(await page.getByTestId("status-api").getAttribute("title")).toContain(baseUrl);
  });

  it("answers an OpenAI chat completion from this process, and the status bar counts it", async () => {
    const models = (await (await fetch(`${baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([MODEL_ID]);

    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: models.data[0]!.id, messages: [{ role: "user", content: "The LORD is my shepherd" }], max_tokens: 24, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { model: string; choices: { message: { role: string; content: string } }[]; usage: { completion_tokens: number } };
    console.log(`[e2e] API reply: ${JSON.stringify(body.choices[0]?.message.content)}`);
    expect(body.model).toBe(MODEL_ID);
    expect(body.choices[0]!.message.role).toBe("assistant");
    expect(body.choices[0]!.message.content.trim().length).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);

    // GET /v1/models and the chat completion: two requests answered.
    const port = new URL(baseUrl).port;
    await expect.poll(() => indicator().textContent(), { timeout: 10_000 }).toBe(`API :${port} · 2 requests`);
    // API chats stay out of the chat list by default.
    expect(await app.call("listConversations", {})).toEqual([]);
  });

  it("cuts the indicator at whole words with an ellipsis in a narrow window", async () => {
    const port = new URL(baseUrl).port;
    const full = `API :${port} · 2 requests`;
    const shown = () => indicator().evaluate((el) => ({ text: el.textContent ?? "", clipped: el.scrollWidth > el.clientWidth + 1 }));
    // The status bar's items share a narrow window's room (below 720 px the least needed items go first, so at
    // 520 px it may still fit whole): the indicator drops whole words and ends with "…", and what it shows is never
    // clipped further (no word cut in the middle).
    const shorter = [`API :${port} …`, "API …"];
    for (const width of [520, 300]) {
      await page.setViewportSize({ width, height: 900 });
      await expect.poll(shown, { timeout: 5_000 }).toMatchObject({ clipped: false });
      const { text } = await shown();
      console.log(`[e2e] the indicator at ${width} px: ${JSON.stringify(text)}`);
      expect(width === 300 ? shorter : [full, ...shorter]).toContain(text);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect.poll(shown, { timeout: 5_000 }).toEqual({ text: full, clipped: false });
  });

  it("takes the README's screenshot of the section", async () => {
    // Tall enough for the whole section in the dialog.
    await page.setViewportSize({ width: 1280, height: 1100 });
    await openSettings();
    expect(await section().getByTestId("api-server-state").textContent()).toBe("Running · 2 requests");
    await section().scrollIntoViewIfNeeded();
    // The section with a margin of the dialog around it.
    const box = (await section().boundingBox())!;
    const margin = 16;
    await page.screenshot({
      path: path.join(screenshotDir(), "api-server.png"),
      animations: "disabled",
      clip: { x: box.x - margin, y: box.y - margin, width: box.width + 2 * margin, height: box.height + 2 * margin },
    });
    await closeSettings();
  });
});
