import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { findLlamaCppTools } from "../../engine/dev/bench/peer/llama-cpp-tools.js";
import { metricSum, parsePrometheus } from "../../electron/host/remote/prometheus.js";
import { MODEL_ID, startLlamaServer, type RealServer } from "../electron/host/remote/real-backends.js";
import { closeSettingsDialog, launchBrowser, openSettingsSection, screenshotDir, WebApp } from "./web-harness.js";

/**
 * Remote engines in a real browser (web mode at 1400 px): a real llama-server (node-llama-cpp's bundled llama.cpp,
 * the KJV target with the KJV draft, `--spec-type draft-simple`, `--metrics`) added in Settings → Remote engines,
 * its model chosen in the model menu with no model on this computer, a reply streamed from it into a new chat, and
 * the metrics panel showing the server's acceptance, equal to the server's own /metrics counters moved by that
 * request. Also the README's screenshots of the section (remote-engines.png) and the panel (remote-metrics.png).
 */
const tools = await findLlamaCppTools();
if (!tools) {
  console.warn(
    "[e2e] remote engines: skipped: llama.cpp's tools are not built for node-llama-cpp's bundled revision " +
      "(npm run -s tandem -- bench --peer llama.cpp --build-only; .ci/run does it first)",
  );
}

const PROMPT = "The LORD is my shepherd; I shall not want.";
const NAME = "Lab server";
const VIEWPORT = { width: 1400, height: 900 };

const app = new WebApp();
let server: RealServer | undefined;
let browser: Browser | undefined;
let page: Page;

/** llama-server's speculation counters (`--metrics`), summed over its samples. */
async function serverCounters(): Promise<{ drafted: number; accepted: number }> {
  const root = server!.baseUrl.replace(/\/v1$/, "");
  const samples = parsePrometheus(await (await fetch(`${root}/metrics`)).text());
  const read = (name: string) => {
    const value = metricSum(samples, `llamacpp:${name}`);
    if (value === null) throw new Error(`llama-server's /metrics has no llamacpp:${name}`);
    return value;
  };
  return { drafted: read("spec_decode_num_draft_tokens_total"), accepted: read("spec_decode_num_accepted_tokens_total") };
}

const section = () => page.getByTestId("remote-engines-section");

const openSettings = () => openSettingsSection(page, "remote-engines-section");

const closeSettings = () => closeSettingsDialog(page);

beforeAll(async () => {
  if (!tools) return;
  server = await startLlamaServer(tools);
  await app.start();
  // Greedy and short: the same reply on every run. No model is loaded on this computer: the server writes the replies.
  await app.call("updateSettings", { temperature: 0, maxTokens: 40, theme: "light" });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(app.url);
  await page.getByTestId("settings-button").waitFor({ state: "visible", timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await app.stop();
  await server?.stop();
});

describe.skipIf(!tools)("remote engines in the browser", () => {
  let counters: { before: { drafted: number; accepted: number }; after: { drafted: number; accepted: number } };

  it("adds the llama-server in Settings → Remote engines and sees “Connected: 1 model”", async () => {
    await openSettings();
    await section().getByLabel("Server URL").fill(server!.baseUrl);
    await section().getByLabel("Name").fill(NAME);
    await section().getByTestId("connection-add").click();
    const result = section().getByTestId("connection-add-result");
    await result.waitFor({ state: "visible", timeout: 30_000 });
    console.log(`[e2e] add: ${await result.textContent()}`);
    expect(await result.textContent()).toMatch(new RegExp(`^Added ${NAME}: Connected: 1 model \\(llama-server`));
    const row = section().getByTestId("connection-row");
    expect(await row.getByTestId("connection-state").textContent()).toMatch(/^Connected: 1 model \(llama-server/);
    expect(await row.textContent()).toContain(server!.baseUrl);

    const [saved] = await app.call("listConnections", {});
    expect(saved).toMatchObject({ name: NAME, baseUrl: server!.baseUrl, kind: "llama-server", hasApiKey: false, test: { ok: true, models: [MODEL_ID] } });
  });

  it("takes the README's screenshot of the section", async () => {
    await page.setViewportSize({ width: VIEWPORT.width, height: 1100 });
    await section().scrollIntoViewIfNeeded();
    // The section with a margin of the dialog around it (less above: the section before ends just there).
    const box = (await section().boundingBox())!;
    const margin = 16;
    await page.screenshot({
      path: path.join(screenshotDir(), "remote-engines.png"),
      animations: "disabled",
      clip: { x: box.x - margin, y: box.y - 4, width: box.width + 2 * margin, height: box.height + 4 + margin },
    });
    await closeSettings();
    await page.setViewportSize(VIEWPORT);
  });

  it("picks the server's model in the model menu", async () => {
    await page.getByTestId("model-picker").click();
    const group = page.getByTestId("remote-model-group");
    expect(await group.locator(".picker-section-title").textContent()).toBe(`${NAME} · llama.cpp server`);
    await group.getByTestId("remote-model-option").filter({ hasText: MODEL_ID }).click();
    await page.getByTestId("model-menu").waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(() => page.getByTestId("model-picker").locator(".picker-label").textContent(), { timeout: 10_000 }).toBe(`${MODEL_ID} · ${NAME}`);
    expect((await app.call("getSettings", {})).chatEngine).toEqual({ kind: "remote", connectionId: (await app.call("listConnections", {}))[0]!.id, model: MODEL_ID });
    // No model on this computer, and no welcome screen: the chat is ready for the server.
    expect(await page.getByTestId("welcome-screen").count()).toBe(0);
  });

  it("sends a message in a new chat: the reply streams from the server and completes", async () => {
    await page.getByTestId("new-chat").click();
    await page.getByTestId("speculation-remote").waitFor({ state: "visible", timeout: 10_000 });
    expect(await page.getByTestId("speculation-remote").textContent()).toBe("Speculation: set on the server");
    // Every status the reply's element goes through, from before the send.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { replyStatuses: string[] }).replyStatuses = seen;
      const note = () => {
        const status = document.querySelector('[data-testid="message-assistant"]')?.getAttribute("data-status");
        if (status && seen.at(-1) !== status) seen.push(status);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
    });

    const before = await serverCounters();
    await page.getByTestId("composer-input").fill(PROMPT);
    await page.getByTestId("composer-input").press("Enter");
    const reply = page.locator('[data-testid="message-assistant"]');
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
    const after = await serverCounters();
    counters = { before, after };

    const statuses = await page.evaluate(() => (window as unknown as { replyStatuses: string[] }).replyStatuses);
    const text = (await reply.locator(".assistant-body").textContent())?.trim() ?? "";
    console.log(`[e2e] reply statuses ${JSON.stringify(statuses)}, text ${JSON.stringify(text)}`);
    expect(statuses).toEqual(["streaming", "complete"]);
    expect(text.length).toBeGreaterThan(0);
    expect(await reply.getByTestId("message-remote").textContent()).toContain(`${MODEL_ID} on ${NAME}`);
  });

  it("shows the server's acceptance in the metrics panel, equal to its /metrics counters' deltas", async () => {
    await page.getByTestId("metrics-toggle").click();
    const panel = page.getByTestId("metrics-panel");
    const spec = panel.getByTestId("fig-remote-speculation");
    await spec.waitFor({ state: "visible", timeout: 10_000 });
    const lines = await spec.getByTestId("remote-spec-line").allTextContents();
    const source = await spec.getByTestId("remote-spec-source").textContent();
    const drafted = Number(/^Drafted (\d+) tokens$/.exec(lines[0] ?? "")?.[1]);
    const kept = Number(/^Kept (\d+)/.exec(lines[1] ?? "")?.[1]);
    const delta = { drafted: counters.after.drafted - counters.before.drafted, accepted: counters.after.accepted - counters.before.accepted };
    console.log(`[e2e] panel: ${JSON.stringify(lines)} · ${source}; /metrics delta: drafted ${delta.drafted}, accepted ${delta.accepted}`);

    expect(source).toBe("Reported by llama-server timings");
    expect(drafted).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
    expect({ drafted, accepted: kept }).toEqual(delta);
    expect(lines[1]).toBe(`Kept ${kept} (${Math.round((kept / drafted) * 100)}%)`);
    expect(await panel.getByTestId("fig-remote-engine").textContent()).toBe(`${NAME} (llama.cpp server) · ${MODEL_ID}`);

    // What the host stored with the message is the same.
    const conversationId = (await app.call("listConversations", {}))[0]!.id;
    const stored = (await app.call("getConversation", { id: conversationId })).messages.at(-1)!;
    expect(stored.remote?.stats?.speculation).toMatchObject({ source: "llama-server timings", approximate: false, drafted, accepted: kept });
  });

  it("takes the README's screenshot of the panel with the remote reply", async () => {
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(screenshotDir(), "remote-metrics.png"), animations: "disabled" });
  });
});
