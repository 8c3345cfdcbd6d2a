import { randomUUID } from "node:crypto";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { DATABASE_FILE } from "../../electron/host/host.js";
import { AppDatabase } from "../../electron/host/store/app-database.js";
import { sharedModel, targetModel } from "../helpers/models.js";
import { WebApp, launchBrowser, screenshotDir } from "./web-harness.js";

/**
 * Acceptance metrics in a real browser with the real engine and the shared KJV pair, speculating with the draft
 * model: tinted tokens, the panel's counters against the engine's, the A/B benchmark, long tasks while streaming,
 * and a 5,000-message conversation. The engine is paced so that a reply streams for a few seconds.
 */
const app = new WebApp({ TANDEM_ENGINE_STEP_DELAY_MS: "30" });
let browser: Browser;
let page: Page;
const LONG_TITLE = "Five thousand messages";
const LONG_COUNT = 5000;

/** Writes a 5,000-message conversation straight into the data folder's database, before the app starts. */
function seedLongConversation(dataDir: string): void {
  const file = path.join(dataDir, DATABASE_FILE);
  new AppDatabase(file, { dataDir }).close(); // creates the schema
  const db = new Database(file);
  const id = randomUUID();
  const t0 = Date.UTC(2026, 0, 1);
  const insert = db.prepare(
    `INSERT INTO messages (id, conversation_id, seq, role, content, status, error, model, settings_json, stats_json, created_at)
     VALUES (?, ?, ?, ?, ?, 'complete', NULL, NULL, NULL, NULL, ?)`,
  );
  db.transaction(() => {
    db.prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)").run(id, LONG_TITLE, t0, t0);
    for (let i = 0; i < LONG_COUNT; i++) {
      const user = i % 2 === 0;
      const body = user
        ? `Message ${i}: ${"And God said, Let there be light: and there was light. ".repeat(1 + (i % 3))}`
        : `Message ${i}: ${"In the beginning God created the heaven and the earth. ".repeat(1 + (i % 5))}\n\n- verse ${i}\n- chapter ${i % 50}`;
      insert.run(randomUUID(), id, i + 1, user ? "user" : "assistant", body, t0 + i);
    }
  })();
  db.close();
}

const lastAssistant = () => page.getByTestId("message-assistant").last();

async function send(text: string): Promise<void> {
  await page.getByTestId("composer-input").fill(text);
  await page.getByTestId("composer-input").press("Enter");
}

beforeAll(async () => {
  seedLongConversation(app.dataDir);
  await app.start();
  await app.call("setModelsFolder", { path: path.dirname(targetModel()) });
  await app.call("updateSettings", { threads: 1, temperature: 0, maxTokens: 160, speculation: "draft", theme: "light" });
  await app.call("loadModel", { path: targetModel() });
  await app.call("setDraftModel", { path: sharedModel("kjv-chat-draft-1m.gguf") });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
  await page.goto(app.url);
  await page.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.textContent?.includes("kjv-chat-6m"), null, { timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await app.stop();
});

describe("acceptance metrics with the real engine", () => {
  it("tints accepted draft tokens and the panel's counters equal the engine's for the message", async () => {
    await page.getByTestId("metrics-toggle").click();
    await page.getByTestId("new-chat").click();
    await send("The LORD is my shepherd; I shall not want.");
    await expect.poll(() => page.locator(".tok-draft").count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 30_000 }).toBe("complete");

    const conversationId = (await app.call("listConversations", {})).find((c) => c.title !== LONG_TITLE)!.id;
    const { messages } = await app.call("getConversation", { id: conversationId });
    const reply = messages.at(-1)!;
    const spec = reply.stats!.speculation!;
    expect(spec.mode).toBe("draft");
    expect(spec.accepted).toBeGreaterThan(0);
    const last = page.getByTestId("metrics-last");
    expect(Number(await last.getByTestId("fig-accepted").textContent())).toBe(spec.accepted);
    expect(Number(await last.getByTestId("fig-proposed").textContent())).toBe(spec.proposed);
    expect(Number(await last.getByTestId("fig-rejected").textContent())).toBe(spec.rejected);
    expect(await last.getByTestId("fig-speedup").textContent()).toBe("none: no measured baseline for this model yet (run the A/B benchmark)");
    // The reply chart's legend shows the latest values without hovering (not "–").
    await page.mouse.move(0, 0);
    const legend = page.getByTestId("chart-reply").locator(".u-legend .u-series .u-value");
    await expect.poll(async () => (await legend.allTextContents()).filter((v) => /\d/.test(v)).length, { timeout: 10_000 }).toBe(3);
    console.log(`[e2e] reply chart legend without hovering: ${(await legend.allTextContents()).join(" | ")}`);
  });

  it("streams a long reply without long tasks over 200 ms", async () => {
    await page.evaluate(() => {
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.__longTasks.push(entry.duration);
      }).observe({ type: "longtask", buffered: false });
    });
    await send("Blessed are the meek: for they shall inherit the earth. And he opened his mouth, and taught them, saying,");
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 10_000 }).toBe("streaming");
    await expect.poll(() => lastAssistant().getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
    const tasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
    const longest = Math.max(0, ...tasks);
    const text = (await lastAssistant().textContent()) ?? "";
    console.log(`[e2e] long tasks while streaming a ${text.length}-character reply: ${tasks.length}, longest ${longest.toFixed(0)} ms`);
    expect(longest).toBeLessThanOrEqual(200);
  });

  it("runs the A/B benchmark on free chat and reports identical outputs for every mode", async () => {
    await page.getByTestId("ab-open").click();
    const panel = page.getByTestId("ab-panel");
    await panel.getByTestId("ab-set-free-chat").check();
    await panel.getByTestId("ab-mode-lookup").check();
    expect(await panel.getByTestId("ab-mode-draft").isChecked()).toBe(true);
    await panel.getByTestId("ab-limit").fill("2");
    await panel.getByTestId("ab-max-tokens").fill("32");
    await panel.getByTestId("ab-run").click();
    await panel.getByTestId("ab-progress").waitFor({ state: "visible", timeout: 10_000 });
    const results = panel.getByTestId("ab-results");
    await results.waitFor({ state: "visible", timeout: 150_000 });
    const outputs = await results.getByTestId("ab-identical").allTextContents();
    console.log(`[e2e] A/B: ${(await results.locator("tbody tr").allInnerTexts()).join(" | ")}`);
    expect(outputs).toEqual(["identical ✓", "identical ✓"]);
    // One plain verdict line per mode, whatever this machine measured.
    expect(await results.getByTestId("ab-verdict-draft").textContent()).toMatch(/^Draft model: (\d+% (faster|slower) on this machine|about as fast as without it on this machine) — /);
    expect(await results.getByTestId("ab-verdict-lookup").textContent()).toMatch(/^Prompt lookup: /);
    const saved = await app.call("listBenchmarks", {});
    expect(saved[0]!.reports.map((r) => [r.mode, r.prompts, r.identicalOutputs])).toEqual([
      ["draft", 2, true],
      ["lookup", 2, true],
    ]);
    await page.keyboard.press("Escape");
    // The saved benchmark is now the baseline of the metrics panel.
    await expect.poll(() => page.getByTestId("metrics-last").getByTestId("fig-speedup").textContent()).toMatch(/× vs .* tok\/s, measured /);

    // The README's screenshot: the metrics panel with its charts beside tinted text (light theme), with the measured baseline.
    const dir = screenshotDir();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(dir, "metrics-light.png") });
  });

  it("opens a 5,000-message conversation and scrolls it to the first message", async () => {
    const started = Date.now();
    await page.getByTestId("conversation-item").filter({ hasText: LONG_TITLE }).click();
    const list = page.getByTestId("message-list");
    await expect.poll(() => list.getAttribute("data-message-count"), { timeout: 20_000 }).toBe(String(LONG_COUNT));
    await page.getByText(`Message ${LONG_COUNT - 1}:`).waitFor({ state: "visible", timeout: 10_000 });
    const openMs = Date.now() - started;
    const rows = await page.getByTestId("message-row").count();
    console.log(`[e2e] 5,000 messages: opened in ${openMs} ms with ${rows} rows in the DOM`);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(200);

    // Scroll up in steps (rows are measured as they appear) until the top.
    for (let i = 0; i < 40; i++) {
      const atTop = await list.evaluate((el) => {
        el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight * 40);
        return el.scrollTop === 0;
      });
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      if (atTop) break;
    }
    await list.evaluate((el) => (el.scrollTop = 0));
    await page.getByText("Message 0:", { exact: false }).first().waitFor({ state: "visible", timeout: 10_000 });
    expect(await page.getByTestId("message-row").count()).toBeLessThan(200);
  });
});
