import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { parseHfRef } from "../../electron/host/downloads/hf.js";
import { RECOMMENDED_CPU_PAIR } from "../../renderer/src/model-catalog.js";
import { sharedModel, targetModel, TEST_THREADS } from "../helpers/models.js";
import { formatBytes } from "../../renderer/src/format.js";
import { FakeHub, sha256 } from "./fake-hub.js";
import { WebApp, launchBrowser } from "./web-harness.js";

/**
 * First run's "Download both" in web mode: from a fresh data folder, the welcome screen's CPU-friendly catalog pair
 * is downloaded through its `hf:` references from a local fake Hugging Face Hub (HF_ENDPOINT) that serves the
 * shared KJV target and draft under the pair's repo and file names: the tree API answers the quantization lookup
 * (with the real sizes and SHA-256s, so the downloads are verified), and the resolve URLs redirect to a throttled
 * "CDN" route, as the Hub does. Both progress rows advance; the target is loaded when it arrives, then the draft
 * is set; the chat appears and a speculated reply comes back.
 */

interface HubFile {
  repo: string;
  /** The file name the tree lists (what the download is saved as). */
  name: string;
  bytes: Buffer;
  sha: string;
}

/** One file per catalog reference, named as the real repos name their GGUFs, holding a KJV model's bytes. */
function hubFile(source: string, bytes: Buffer): HubFile {
  const { repo, quant } = parseHfRef(source);
  const name = `${repo.split("/")[1]!.replace(/-GGUF$/i, "").toLowerCase()}-${quant!.toLowerCase()}.gguf`;
  return { repo, name, bytes, sha: sha256(bytes) };
}

const target = hubFile(RECOMMENDED_CPU_PAIR.target.source, readFileSync(targetModel()));
const draft = hubFile(RECOMMENDED_CPU_PAIR.draft.source, readFileSync(sharedModel("kjv-chat-draft-1m.gguf")));
const files = [target, draft];

/**
 * The fake Hub: each repo's tree lists its file, a sibling quant (never fetched) and extras; each file is sent in 40
 * chunks, one per 80 ms: a few seconds each, whatever its size.
 */
const hub = new FakeHub(
  files.map((file) => ({
    repo: file.repo,
    files: [{ path: file.name, bytes: file.bytes }],
    listedOnly: [{ path: file.name.replace(/-(q\w+)\.gguf$/, (_, q: string) => (q === "q8_0" ? "-q4_k_m.gguf" : "-q8_0.gguf")), size: 987_654_321 }],
  })),
  { chunks: 40, chunkDelayMs: 80 },
);

// ---- the app ---------------------------------------------------------------------------------------------------

let app: WebApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await hub.start();
  app = new WebApp({ HF_ENDPOINT: hub.url, HF_TOKEN: "" });
  await app.start();
  // Threads only: modelPath stays unset, so this is a first run.
  await app.call("updateSettings", { threads: TEST_THREADS, temperature: 0, maxTokens: 60 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(app.url);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await hub.stop();
});

interface RowSample {
  /** performance.now() when seen. */
  t: number;
  state: string;
  value: number | null;
  text: string;
}

/** Each welcome pair row's state, progress value and text, every animation frame, until both are done or gone. */
function recordPairRows(ms: number): Promise<RowSample[][]> {
  return page.evaluate(
    (ms) =>
      new Promise<RowSample[][]>((resolve) => {
        const rows: RowSample[][] = [[], []];
        const start = performance.now();
        const tick = () => {
          const elements = [...document.querySelectorAll<HTMLElement>('[data-testid="welcome-pair-row"]')];
          elements.slice(0, 2).forEach((el, i) => {
            const bar = el.querySelector("progress");
            const sample = { t: performance.now(), state: el.dataset.state ?? "", value: bar?.hasAttribute("value") ? bar.value : null, text: el.textContent ?? "" };
            const last = rows[i]!.at(-1);
            if (!last || last.state !== sample.state || last.value !== sample.value || last.text !== sample.text) rows[i]!.push(sample);
          });
          const finished = elements.length === 0 || elements.every((el) => el.dataset.state === "done");
          if (finished || performance.now() - start > ms) resolve(rows);
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    ms,
  );
}

describe("first run: Download both in web mode", () => {
  it("offers the catalog's CPU-friendly pair on the welcome screen", async () => {
    const welcome = page.getByTestId("welcome-screen");
    await expect.poll(() => welcome.count(), { timeout: 15_000 }).toBe(1);
    const pair = welcome.getByTestId("welcome-pair");
    expect(await pair.textContent()).toContain(RECOMMENDED_CPU_PAIR.title);
    const rows = pair.getByTestId("welcome-pair-row");
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain(RECOMMENDED_CPU_PAIR.target.label);
    expect(await rows.nth(1).textContent()).toContain(RECOMMENDED_CPU_PAIR.draft.label);
    expect(await rows.nth(0).getAttribute("data-state")).toBe("none");
  });

  it("downloads both from the Hub with two advancing progress rows", async () => {
    const recording = recordPairRows(120_000);
    await page.getByTestId("welcome-download-both").click();
    const [targetRow, draftRow] = await recording;

    for (const [samples, file] of [
      [targetRow!, target],
      [draftRow!, draft],
    ] as const) {
      const values = samples.map((s) => s.value).filter((v): v is number => v !== null);
      // Moved through several values between empty and full, only forward, and ended full.
      expect(values.filter((v) => v > 0 && v < 1).length, `${file.name}: ${JSON.stringify(samples)}`).toBeGreaterThanOrEqual(2);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(samples.at(-1)!.state).toBe("done");
      expect(samples.some((s) => s.state === "downloading" && /Downloading · \d+%/.test(s.text))).toBe(true);
      // The size the tree listed is shown while it downloads.
      expect(samples.some((s) => s.state === "downloading" && s.text.includes(formatBytes(file.bytes.length)))).toBe(true);
    }
    // Both ran at once: the draft was under way before the target finished.
    const targetDoneAt = targetRow!.find((s) => s.state === "done")!.t;
    expect(draftRow!.find((s) => s.state === "downloading")!.t).toBeLessThan(targetDoneAt);

    // Each reference was resolved through the tree API, then fetched through its resolve URL and the redirect.
    for (const file of files) {
      expect(hub.lines).toContain(`GET /api/models/${file.repo}/tree/main?recursive=true`);
      expect(hub.lines).toContain(`GET /${file.repo}/resolve/main/${file.name}`);
      expect(hub.lines).toContain(`GET /cdn/${file.sha}`);
    }
  });

  it("loads the target, then sets the draft, and the chat appears", async () => {
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 90_000 }).toContain(target.name);
    await expect.poll(() => page.getByTestId("status-draft").textContent(), { timeout: 90_000 }).toContain(draft.name);
    await expect.poll(() => page.getByTestId("welcome-screen").count(), { timeout: 15_000 }).toBe(0);
    await page.getByTestId("composer-input").waitFor({ state: "visible", timeout: 15_000 });

    // The verified bytes are in the fresh data folder's models folder, under the Hub's names, and in the settings.
    const modelsFolder = (await app.call("getAppInfo", {})).paths.modelsFolder;
    expect(modelsFolder.startsWith(app.dataDir)).toBe(true);
    expect(readdirSync(modelsFolder).filter((f) => f.endsWith(".gguf")).sort()).toEqual([draft.name, target.name].sort());
    for (const file of files) expect(sha256(readFileSync(path.join(modelsFolder, file.name)))).toBe(file.sha);
    const settings = await app.call("getSettings", {});
    expect(settings.modelPath).toBe(path.join(modelsFolder, target.name));
    expect(settings.draftModelPath).toBe(path.join(modelsFolder, draft.name));
  });

  it("replies to a message with speculation stats from the downloaded draft", async () => {
    // A new conversation, told to speculate with the draft model (Auto may judge the tiny model not worth it).
    await page.getByTestId("new-chat").click();
    await page.getByTestId("speculation-select").selectOption("draft");
    await page.getByTestId("composer-input").fill("The LORD is my shepherd; I shall not want.");
    await page.getByTestId("composer-input").press("Enter");
    const reply = page.getByTestId("message-assistant").last();
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
    expect(((await reply.textContent()) ?? "").trim().length).toBeGreaterThan(0);
    await expect.poll(() => reply.getByTestId("message-spec-stats").textContent(), { timeout: 10_000 }).toMatch(/\d+% accepted · \+[\d.]+ tokens\/step/);

    const conversation = (await app.call("listConversations", {}))[0]!;
    const { messages } = await app.call("getConversation", { id: conversation.id });
    const spec = messages.at(-1)!.stats!.speculation!;
    expect(spec.mode).toBe("draft");
    expect(spec.proposed).toBeGreaterThan(0);
    expect(spec.proposed).toBe(spec.accepted + spec.rejected);
  });
});
