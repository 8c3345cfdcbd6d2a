import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { TEST_THREADS, targetModel } from "../helpers/models.js";
import { WebApp, launchBrowser, screenshotDir } from "./web-harness.js";

/**
 * The window at the widths a user gives it (issue 16, item 1): web mode in Chromium at 1400, 900, 640 and 480 px
 * (Electron's minimum), with a chat open and the metrics panel shown. At each width: no sideways scroll, every header
 * control inside the window and not covered by anything (the metrics panel included), the title not squeezed to
 * nothing, the status bar's words whole; below 720 px the conversation list is behind the header's button and lies
 * over the chat when opened, and the metrics panel lies over the chat instead of squeezing it. The header with a
 * remote engine chosen ("Speculation: set on the server") must fit too. Also the README's screenshots at 900 and
 * 640 px (window-900.png, window-640.png).
 */
const app = new WebApp();
let browser: Browser;
let conversationId = "";
const TITLE = "Psalm 23 and the Beatitudes, side by side";
const WIDTHS = [1400, 1201, 900, 640, 480] as const;

/** An OpenAI-compatible server that only lists one model: enough to choose it as the chat engine. */
let remote: http.Server | undefined;

beforeAll(async () => {
  await app.start();
  await app.call("setModelsFolder", { path: path.dirname(targetModel()) });
  await app.call("updateSettings", { threads: TEST_THREADS, temperature: 0, maxTokens: 60 });
  await app.call("loadModel", { path: targetModel() });
  const conversation = await app.call("createConversation", { title: TITLE });
  conversationId = conversation.id;
  await app.call("sendMessage", { conversationId, content: "The LORD is my shepherd; I shall not want." });
  // The reply is written by the real (tiny) model: wait until it is complete.
  for (const start = Date.now(); ; ) {
    const { messages } = await app.call("getConversation", { id: conversationId });
    if (messages.some((m) => m.role === "assistant" && m.status === "complete")) break;
    if (Date.now() - start > 60_000) throw new Error("the reply was not written in 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app.stop();
  await new Promise<void>((resolve) => (remote ? remote.close(() => resolve()) : resolve()));
});

/** The page at `width` with the chat open, once the status bar names `model` (the model that writes the replies). */
async function openAt(width: number, model = "kjv-chat-6m"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 700 } });
  await page.goto(app.url);
  await page.getByTestId("status-model").filter({ hasText: model }).waitFor({ timeout: 20_000 });
  // Open the chat from the conversation list (behind its button in a narrow window).
  const toggle = page.getByTestId("sidebar-toggle");
  if (await toggle.isVisible()) await toggle.click();
  await page.getByText(TITLE, { exact: true }).first().click();
  await page.getByTestId("chat-title").filter({ hasText: TITLE }).waitFor();
  // Choosing it closed the list (it slides away).
  await page.locator(".sidebar").evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)));
  await page.locator('[data-testid="message-assistant"][data-status="complete"]').first().waitFor();
  return page;
}

async function showMetrics(page: Page): Promise<void> {
  const toggle = page.getByTestId("metrics-toggle");
  if ((await toggle.getAttribute("aria-pressed")) !== "true") await toggle.click();
  await page.getByTestId("metrics-panel").waitFor();
}

interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Whether the element itself (or something inside it) is what the window shows at its centre. */
  onTop: boolean;
}

/** What the layout checks need, measured in the page. */
async function measure(page: Page) {
  return page.evaluate(() => {
    const boxOf = (el: Element, id: string) => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      return { id, x: r.x, y: r.y, width: r.width, height: r.height, onTop: !!hit && (el === hit || el.contains(hit)) };
    };
    const header = document.querySelector(".chat-header")!;
    const controls = [...header.querySelectorAll('button, select, [data-testid="speculation-remote"]')]
      .filter((el) => el.getBoundingClientRect().width > 0 && getComputedStyle(el).visibility !== "hidden")
      .filter((el) => !el.closest('[data-testid="speculation-remote"]') || el.matches('[data-testid="speculation-remote"]'))
      .map((el, i) => boxOf(el, el.getAttribute("data-testid") ?? `${el.tagName.toLowerCase()}-${i}`));
    const sidebar = document.querySelector(".sidebar")!.getBoundingClientRect();
    const main = document.querySelector(".main")!.getBoundingClientRect();
    const panel = document.querySelector('[data-testid="metrics-panel"]')?.getBoundingClientRect() ?? null;
    // The status bar's words: each item's shown text, and whether it is clipped (wider than its box).
    const status = [...document.querySelectorAll('[data-testid="status-bar"] .fit-text')]
      .filter((el) => el.getBoundingClientRect().width > 0)
      .map((el) => ({ text: el.textContent ?? "", clipped: el.scrollWidth > el.clientWidth + 1 }));
    return {
      innerWidth: window.innerWidth,
      scrollWidth: document.documentElement.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth,
      title: document.querySelector('[data-testid="chat-title"]')!.getBoundingClientRect().width,
      controls,
      sidebar: { x: sidebar.x, right: sidebar.right, visible: getComputedStyle(document.querySelector(".sidebar")!).visibility !== "hidden" },
      main: { x: main.x, width: main.width },
      panel: panel && { x: panel.x, width: panel.width },
      status,
    };
  });
}

type Measured = Awaited<ReturnType<typeof measure>>;

function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
}

/** The checks every width passes. */
function expectUsable(m: Measured, width: number): void {
  expect(m.innerWidth).toBe(width);
  // No sideways scroll.
  expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
  expect(m.bodyScrollWidth).toBeLessThanOrEqual(m.innerWidth);
  // The title keeps room to be read.
  expect(m.title).toBeGreaterThan(40);
  // Every header control inside the window, on top (nothing covers it) and apart from the others.
  const ids = m.controls.map((c) => c.id);
  for (const id of ["model-picker", "tint-toggle", "metrics-toggle", "settings-button"]) expect(ids).toContain(id);
  for (const c of m.controls) {
    expect(c.width, c.id).toBeGreaterThan(20);
    expect(c.x, c.id).toBeGreaterThanOrEqual(0);
    expect(c.x + c.width, c.id).toBeLessThanOrEqual(m.innerWidth);
    expect(c.y, c.id).toBeGreaterThanOrEqual(0);
    expect(c.onTop, `${c.id} is covered`).toBe(true);
  }
  for (let i = 0; i < m.controls.length; i++)
    for (let j = i + 1; j < m.controls.length; j++) expect(overlap(m.controls[i]!, m.controls[j]!), `${m.controls[i]!.id} overlaps ${m.controls[j]!.id}`).toBe(false);
  // The status bar: whole words (a shortened item ends in "…"), never a word cut by the edge.
  expect(m.status.length).toBeGreaterThan(0);
  for (const s of m.status) expect(s.clipped, `status item "${s.text}" is clipped`).toBe(false);
}

describe("the window at 1400, 900, 640 and 480 px", () => {
  for (const width of WIDTHS) {
    it(`${width} px: no sideways scroll, header controls in sight, title readable, status words whole (metrics panel open)`, async () => {
      const page = await openAt(width);
      try {
        await showMetrics(page);
        const m = await measure(page);
        expectUsable(m, width);
        if (width === 900 || width === 640) await page.screenshot({ path: path.join(screenshotDir(), `window-${width}.png`) });
        if (width > 1200) {
          // Wide: the sidebar and the metrics panel are columns beside the chat.
          expect(m.sidebar.visible).toBe(true);
          expect(m.panel!.x).toBeGreaterThanOrEqual(m.main.x + m.main.width - 1);
        } else {
          // Narrower: the metrics panel lies over the chat (under the header) instead of squeezing it.
          expect(m.panel!.x).toBeLessThan(m.main.x + m.main.width);
          expect(m.main.x + m.main.width).toBeGreaterThanOrEqual(width - 1);
        }
        if (width <= 720) {
          // The conversation list is closed: the chat has the whole width.
          expect(m.sidebar.visible).toBe(false);
          expect(m.main.x).toBe(0);
          expect(m.main.width).toBe(width);
          await expect.poll(() => page.getByTestId("sidebar-toggle").getAttribute("aria-expanded")).toBe("false");
          // Opened, it lies over the chat (the chat keeps its width), inside the window; Escape closes it.
          await page.getByTestId("sidebar-toggle").click();
          await page.getByTestId("new-chat").waitFor({ state: "visible" });
          // It slides in: measure once it is in place.
          await expect.poll(async () => (await measure(page)).sidebar.x).toBeGreaterThanOrEqual(0);
          const open = await measure(page);
          expect(open.sidebar.visible).toBe(true);
          expect(open.sidebar.x).toBeGreaterThanOrEqual(0);
          expect(open.sidebar.right).toBeLessThanOrEqual(width);
          expect(open.main.width).toBe(width);
          expect(open.scrollWidth).toBeLessThanOrEqual(width);
          await page.keyboard.press("Escape");
          await expect.poll(async () => (await measure(page)).sidebar.visible).toBe(false);
        } else {
          await expect(page.getByTestId("sidebar-toggle").isVisible()).resolves.toBe(false);
        }
      } finally {
        await page.close();
      }
    });
  }

  it("Settings and the Model library fit 640 and 480 px: no sideways scroll, the one Save in sight", async () => {
    for (const width of [640, 480]) {
      const page = await openAt(width);
      try {
        const noSideways = (testId: string) =>
          page.getByTestId(testId).evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right }));
        await page.getByTestId("settings-button").click();
        await page.getByTestId("settings-dialog").waitFor();
        const settings = await noSideways("settings-dialog");
        expect(settings.scroll, `Settings at ${width} px`).toBeLessThanOrEqual(settings.client + 1);
        expect(settings.right).toBeLessThanOrEqual(width);
        // The footer stays at the bottom of the dialog while it scrolls: Save is in sight without scrolling.
        const save = (await page.getByTestId("settings-save").boundingBox())!;
        expect(save.y + save.height).toBeLessThanOrEqual(700);
        expect(await page.getByTestId("settings-save").evaluate((el) => document.elementFromPoint(el.getBoundingClientRect().x + 5, el.getBoundingClientRect().y + 5) === el)).toBe(true);
        await page.keyboard.press("Escape");
        await page.getByTestId("settings-dialog").waitFor({ state: "detached" });
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
        await page.getByTestId("model-picker").click();
        await page.getByTestId("open-models-screen").click();
        await page.getByTestId("models-screen").waitFor();
        const library = await noSideways("models-screen");
        expect(library.scroll, `Model library at ${width} px`).toBeLessThanOrEqual(library.client + 1);
        expect(library.right).toBeLessThanOrEqual(width);
        await page.keyboard.press("Escape");
      } finally {
        await page.close();
      }
    }
  });

  it("while a reply is being written the status bar says so, at 640 px", async () => {
    const page = await openAt(640);
    try {
      await page.getByTestId("composer-input").fill("Blessed are the peacemakers: for they shall be called the children of God.");
      await page.getByTestId("composer-input").press("Enter");
      await page.getByTestId("status-engine").filter({ hasText: "Writing a reply…" }).waitFor({ timeout: 10_000 });
      await expect(page.getByTestId("status-speed").count()).resolves.toBe(0);
      await page.getByTestId("status-engine").filter({ hasText: "Ready" }).waitFor({ timeout: 60_000 });
      await page.getByTestId("status-speed").waitFor();
    } finally {
      await page.close();
    }
  });

  it('with a remote engine chosen, "Speculation: set on the server" fits the header too', async () => {
    remote = http.createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url?.endsWith("/models")) res.end(JSON.stringify({ object: "list", data: [{ id: "lab-model-instruct-q4_k_m", object: "model" }] }));
      else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    await new Promise<void>((resolve) => remote!.listen(0, "127.0.0.1", resolve));
    const port = (remote.address() as AddressInfo).port;
    const connection = await app.call("addConnection", { baseUrl: `http://127.0.0.1:${port}/v1`, name: "Lab server", kindSetting: "openai" });
    await app.call("updateSettings", { chatEngine: { kind: "remote", connectionId: connection.id, model: "lab-model-instruct-q4_k_m" } });
    for (const width of WIDTHS) {
      const page = await openAt(width, "lab-model-instruct-q4_k_m");
      try {
        await page.getByTestId("speculation-remote").waitFor();
        await showMetrics(page);
        const m = await measure(page);
        expectUsable(m, width);
        const label = m.controls.find((c) => c.id === "speculation-remote")!;
        expect(label.width).toBeGreaterThan(60);
        // Its words are whole: the label is not cut (it fits, or the header wrapped to make room).
        const cut = await page.getByTestId("speculation-remote").locator(".speculation-remote-label").evaluate((el) => el.scrollWidth > el.clientWidth + 1);
        if (width >= 640) expect(cut, `${width} px`).toBe(false);
      } finally {
        await page.close();
      }
    }
  });
});
