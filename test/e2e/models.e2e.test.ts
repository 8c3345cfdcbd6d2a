import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { sharedModel, targetModel, TEST_THREADS } from "../helpers/models.js";
import { formatBytes } from "../../renderer/src/format.js";
import { WebApp, launchBrowser, screenshotDir } from "./web-harness.js";

/**
 * The Models screen in a real browser, from a fresh, empty data folder: the shared KJV model uploaded through the
 * web-mode file chooser (and a text file refused), the shared draft downloaded from a local, throttled HTTP server
 * with a visible progress bar (paused and resumed once with a Range request), then paired with the loaded target
 * as its draft, and a reply speculated with it. Also the README's screenshot of the screen.
 */
const app = new WebApp();
let browser: Browser;
let page: Page;
let modelsFolder = "";

const TARGET = path.basename(targetModel());
const DRAFT = "kjv-chat-draft-1m.gguf";
const draftBytes = readFileSync(sharedModel(DRAFT));
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

// ---- a local model server: Range support, an ETag, sent slowly in chunks ------------------------------------------

/** The first (non-Range) request stops after this many bytes until `releaseGate` is called: pause happens mid-way. */
const GATE_AT = Math.floor(draftBytes.length * 0.4);
const CHUNK = 32 * 1024;
const CHUNK_DELAY_MS = 25;
let server: Server;
let serverUrl = "";
const requests: { range: string | null }[] = [];
let releaseGate: () => void = () => {};
const gate = new Promise<void>((resolve) => (releaseGate = resolve));

async function send(res: ServerResponse, body: Buffer, gated: boolean): Promise<void> {
  let closed = false;
  res.on("close", () => (closed = true));
  for (let offset = 0; offset < body.length && !closed; offset += CHUNK) {
    if (gated && offset >= GATE_AT) await gate;
    if (closed) break;
    res.write(body.subarray(offset, offset + CHUNK));
    await new Promise((resolve) => setTimeout(resolve, CHUNK_DELAY_MS));
  }
  if (!closed) res.end();
}

function startModelServer(): Promise<void> {
  server = createServer((req, res) => {
    const range = req.headers.range ?? null;
    requests.push({ range });
    if (req.url !== `/models/${DRAFT}`) {
      res.writeHead(404).end("not found");
      return;
    }
    const headers = { "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", ETag: `"${sha256(draftBytes).slice(0, 16)}"` };
    const match = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (match) {
      const start = Number(match[1]);
      const end = match[2] ? Math.min(Number(match[2]), draftBytes.length - 1) : draftBytes.length - 1;
      if (start >= draftBytes.length) {
        res.writeHead(416, { "Content-Range": `bytes */${draftBytes.length}` }).end();
        return;
      }
      const body = draftBytes.subarray(start, end + 1);
      res.writeHead(206, { ...headers, "Content-Length": body.length, "Content-Range": `bytes ${start}-${end}/${draftBytes.length}` });
      if (req.method === "HEAD") return void res.end();
      void send(res, body, false);
      return;
    }
    res.writeHead(200, { ...headers, "Content-Length": draftBytes.length });
    if (req.method === "HEAD") return void res.end();
    void send(res, draftBytes, true);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

// ---- helpers -------------------------------------------------------------------------------------------------------

const screen = () => page.getByTestId("models-screen");
const row = (name: string) => screen().getByTestId("models-row").filter({ hasText: name });
const details = () => screen().getByTestId("model-details");
const card = () => screen().getByTestId("download-card").filter({ hasText: DRAFT });
/** A fact of the details panel ("Architecture", "Source"…). */
const fact = (label: string) => details().locator(".fact").filter({ has: page.locator("dt", { hasText: label }) }).locator("dd");
const modelsOnDisk = () => readdirSync(modelsFolder).sort();

async function openModelsScreen(): Promise<void> {
  if ((await screen().count()) > 0) return;
  await page.getByTestId("model-picker").click();
  await page.getByTestId("open-models-screen").click();
  await screen().waitFor({ state: "visible", timeout: 10_000 });
}

beforeAll(async () => {
  await startModelServer();
  await app.start();
  await app.call("updateSettings", { threads: TEST_THREADS, temperature: 0, maxTokens: 80, theme: "light" });
  modelsFolder = (await app.call("getAppInfo", {})).paths.modelsFolder;
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(app.url);
  await page.getByTestId("model-picker").waitFor({ state: "visible", timeout: 30_000 });
});

afterAll(async () => {
  releaseGate();
  await browser?.close();
  await app.stop();
  await new Promise((resolve) => server?.close(resolve));
});

describe("the Models screen in the browser", () => {
  it("imports the shared model through the file chooser, with its facts and origin, byte for byte", async () => {
    expect(modelsFolder.startsWith(app.dataDir)).toBe(true);
    await openModelsScreen();
    await expect.poll(() => screen().getByTestId("models-table").textContent(), { timeout: 15_000 }).toContain("No GGUF models");

    await screen().getByTestId("upload-input").setInputFiles(targetModel());
    const result = screen().getByTestId("import-result");
    await expect.poll(() => result.textContent(), { timeout: 60_000 }).toBe(`Uploaded ${TARGET}.`);
    await expect.poll(() => row(TARGET).count(), { timeout: 15_000 }).toBe(1);
    const cells = await row(TARGET).locator("td").allTextContents();
    expect(cells[1]).toBe("llama");
    expect(cells[4]).toBe("256");

    await row(TARGET).locator(".link-button").click();
    await expect.poll(() => fact("Architecture").textContent()).toBe("llama");
    expect(await fact("Trained context").textContent()).toBe("256 tokens");
    expect(await fact("Source").textContent()).toMatch(new RegExp(`^Uploaded from the browser \\(${TARGET.replaceAll(".", "\\.")}\\) on `));
    expect(await fact("Path").textContent()).toBe(path.join(modelsFolder, TARGET));

    // The same bytes in the data folder's models folder, and nothing else there (no temp file left).
    expect(modelsOnDisk()).toEqual([TARGET]);
    const copied = readFileSync(path.join(modelsFolder, TARGET));
    expect(copied.length).toBe(statSync(targetModel()).size);
    expect(sha256(copied)).toBe(sha256(readFileSync(targetModel())));
  });

  it("refuses a text file through the same chooser with a clear message and writes nothing", async () => {
    const input = screen().getByTestId("upload-input");
    const result = screen().getByTestId("import-result");
    const text = Buffer.from("In the beginning God created the heaven and the earth.\n".repeat(200));

    // Not named .gguf: refused in the page before anything is sent.
    await input.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: text });
    await expect.poll(() => result.textContent(), { timeout: 15_000 }).toBe('"notes.txt" is not a GGUF model file (.gguf).');
    expect(await result.getAttribute("role")).toBe("alert");

    // Named .gguf but text inside: uploaded, checked by the host, refused, and its temp file removed.
    await input.setInputFiles({ name: "psalms.gguf", mimeType: "application/octet-stream", buffer: text });
    await expect.poll(() => result.textContent(), { timeout: 30_000 }).toMatch(/psalms\.gguf/);
    const message = (await result.textContent()) ?? "";
    console.log(`[e2e] text file named .gguf: ${message}`);
    expect(message).toMatch(/not a GGUF/i);
    expect(await result.getAttribute("role")).toBe("alert");
    expect(modelsOnDisk()).toEqual([TARGET]);
    expect(await screen().getByTestId("models-row").count()).toBe(1);
  });

  it("downloads the draft from a local server with a visible progress bar, paused and resumed once", async () => {
    // Records every value the card's progress bar and details take, each animation frame, in the page.
    await page.evaluate(() => {
      const w = window as unknown as { __progress: { value: number | null; details: string; state: string }[] };
      w.__progress = [];
      const tick = () => {
        const el = document.querySelector('[data-testid="download-card"]');
        if (el) {
          const bar = el.querySelector("progress");
          const sample = {
            value: bar && bar.hasAttribute("value") ? bar.value : null,
            details: el.querySelector('[data-testid="download-details"]')?.textContent ?? "",
            state: el.getAttribute("data-state") ?? "",
          };
          const last = w.__progress.at(-1);
          if (!last || last.value !== sample.value || last.details !== sample.details || last.state !== sample.state) w.__progress.push(sample);
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });

    const url = `${serverUrl}/models/${DRAFT}`;
    await screen().getByTestId("download-source").fill(url);
    await screen().getByTestId("download-start").click();
    await expect.poll(() => card().count(), { timeout: 15_000 }).toBe(1);

    // The server holds the transfer at 40%: the bar is visibly part-way, with bytes and a speed.
    const bar = card().locator("progress");
    await expect
      .poll(async () => Number((await bar.getAttribute("value")) ?? "0"), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(0.1);
    expect(await bar.isVisible()).toBe(true);
    const value = Number(await bar.getAttribute("value"));
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThan(1);
    expect(await card().getByTestId("download-state").textContent()).toMatch(/^Downloading · \d+%$/);
    await expect.poll(() => card().getByTestId("download-details").textContent()).toMatch(/^[\d.]+ (KB|MB) of 3\.6 MB · [\d.]+ (B|KB|MB)\/s/);
    expect(modelsOnDisk()).not.toContain(DRAFT); // only the .part while it downloads
    // Held by the server, the card stops showing its last speed: it says it is waiting (long before the stall timeout).
    await expect.poll(() => card().getByTestId("download-details").textContent(), { timeout: 15_000 }).toMatch(/^[\d.]+ (KB|MB) of 3\.6 MB · Waiting for the server…$/);
    expect(await card().getByTestId("download-state").textContent()).toMatch(/^Downloading · 4\d%$/);

    // Pause keeps the partial file; resume continues it with a Range request.
    await card().getByTestId("download-pause").click();
    await expect.poll(() => card().getAttribute("data-state"), { timeout: 15_000 }).toBe("paused");
    expect(await card().getByTestId("download-state").textContent()).toMatch(/^Paused · \d+%$/);
    expect(modelsOnDisk()).toContain(`${DRAFT}.part`);
    // The card says what the .part holds (where the download resumes from).
    const kept = statSync(path.join(modelsFolder, `${DRAFT}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect((await app.call("listDownloads", {}))[0]).toMatchObject({ state: "paused", receivedBytes: kept });
    expect(await card().getByTestId("download-details").textContent()).toBe(`${formatBytes(kept)} of ${formatBytes(draftBytes.length)}`);
    releaseGate();
    await card().getByTestId("download-resume").click();
    await expect.poll(() => card().getAttribute("data-state"), { timeout: 60_000 }).toBe("done");
    expect(await card().getByTestId("download-state").textContent()).toBe("Done");
    expect(await bar.getAttribute("value")).toBe("1");

    const samples = await page.evaluate(() => (window as unknown as { __progress: { value: number | null; details: string; state: string }[] }).__progress);
    const partWay = samples.filter((s) => s.value !== null && s.value > 0 && s.value < 1);
    console.log(`[e2e] download: ${samples.length} distinct card states, ${partWay.length} part-way; requests ${JSON.stringify(requests)}`);
    expect(partWay.length).toBeGreaterThanOrEqual(2);
    // The bar only moves forward, also across the pause.
    const values = samples.map((s) => s.value).filter((v): v is number => v !== null);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(samples.some((s) => s.state === "downloading" && /\/s/.test(s.details))).toBe(true);
    expect(requests.map((r) => r.range)).toEqual([null, `bytes=${kept}-`]);

    // Identical bytes, no partial files left, and in the library without a manual refresh, with its origin.
    const downloaded = readFileSync(path.join(modelsFolder, DRAFT));
    expect(downloaded.length).toBe(draftBytes.length);
    expect(sha256(downloaded)).toBe(sha256(draftBytes));
    expect(modelsOnDisk()).toEqual([DRAFT, TARGET].sort());
    await expect.poll(() => row(DRAFT).count(), { timeout: 15_000 }).toBe(1);
    await row(DRAFT).locator(".link-button").click();
    await expect.poll(() => fact("Source").textContent(), { timeout: 10_000 }).toMatch(new RegExp(`^Downloaded from ${url.replaceAll(".", "\\.")} on `));
  });

  it("loads the target, lists the draft as compatible and recommended, and uses it as the draft", async () => {
    await row(TARGET).locator(".link-button").click();
    await expect.poll(() => details().locator("h3").textContent()).toBe(TARGET);
    await details().getByTestId("use-as-model").click();
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 90_000 }).toContain("kjv-chat-6m");
    await expect.poll(() => details().getByTestId("use-as-model").textContent(), { timeout: 10_000 }).toBe("Loaded");

    const candidate = screen().getByTestId("draft-candidate").filter({ hasText: DRAFT });
    await expect.poll(() => candidate.locator(".draft-reason").textContent(), { timeout: 30_000 }).toBe("Compatible, recommended");
    expect(await screen().getByTestId("recommended-draft").textContent()).toContain(DRAFT);

    await row(DRAFT).locator(".link-button").click();
    const useAsDraft = details().getByTestId("use-as-draft");
    await expect.poll(() => useAsDraft.isEnabled(), { timeout: 30_000 }).toBe(true);
    await useAsDraft.click();
    await expect.poll(() => page.getByTestId("status-draft").textContent(), { timeout: 60_000 }).toContain("kjv-chat-draft-1m");
    await expect.poll(() => useAsDraft.textContent(), { timeout: 10_000 }).toBe("Draft in use");
    expect(await row(DRAFT).locator(".badge").textContent()).toBe("draft");
    expect(await row(TARGET).locator(".badge").textContent()).toBe("loaded");
    expect((await app.call("getSettings", {})).draftModelPath).toBe(path.join(modelsFolder, DRAFT));

    // The README's screenshot: the library (target + draft), the target's details with its fit estimate, the
    // finished download card. After a reload (no leftover import message): the card comes back from the host.
    await page.reload();
    await expect.poll(() => page.getByTestId("status-draft").textContent(), { timeout: 30_000 }).toContain("kjv-chat-draft-1m");
    await openModelsScreen();
    await expect.poll(() => card().getAttribute("data-state"), { timeout: 15_000 }).toBe("done");
    await row(TARGET).locator(".link-button").click();
    await expect.poll(() => details().getByTestId("fit-verdict").textContent(), { timeout: 30_000 }).toMatch(/Fits|Tight fit|Won't fit/);
    expect(await details().getByTestId("fit-parts").textContent()).toContain("Draft weights");
    await expect.poll(() => candidate.locator(".draft-reason").textContent(), { timeout: 30_000 }).toBe("Compatible, recommended");
    const dir = screenshotDir();
    await screenshotModelsScreen(path.join(dir, "models.png"));
  });

  it("speculates a reply with the paired draft", async () => {
    await screen().getByRole("button", { name: "Close" }).first().click();
    await expect.poll(() => screen().count(), { timeout: 10_000 }).toBe(0);
    await page.getByTestId("new-chat").click();
    await page.getByTestId("speculation-select").selectOption("draft");
    await page.getByTestId("composer-input").fill("The LORD is my shepherd; I shall not want.");
    await page.getByTestId("composer-input").press("Enter");
    const reply = page.getByTestId("message-assistant").last();
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
    expect(((await reply.textContent()) ?? "").trim().length).toBeGreaterThan(0);
    const footer = reply.getByTestId("message-spec-stats");
    await expect.poll(() => footer.textContent(), { timeout: 10_000 }).toMatch(/\d+% accepted · \+[\d.]+ tokens\/step/);

    const conversation = (await app.call("listConversations", {}))[0]!;
    const { messages } = await app.call("getConversation", { id: conversation.id });
    const spec = messages.at(-1)!.stats!.speculation!;
    console.log(`[e2e] speculated reply: ${JSON.stringify({ mode: spec.mode, proposed: spec.proposed, accepted: spec.accepted })}`);
    expect(spec.mode).toBe("draft");
    expect(spec.proposed).toBeGreaterThan(0);
    expect(spec.accepted).toBeGreaterThan(0);
    expect(spec.proposed).toBe(spec.accepted + spec.rejected);
    expect(await footer.getAttribute("title")).toContain(`${spec.proposed} proposed = ${spec.accepted} accepted + ${spec.rejected} rejected`);
    expect(await page.locator(".tok-draft").count()).toBeGreaterThan(0);
  });
});

/**
 * The Models screen from its title down to the download cards (the Hub search and the catalog below are left out):
 * the window is made tall enough for the whole dialog, which otherwise scrolls, then set back.
 */
async function screenshotModelsScreen(file: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = await screen().evaluate((el) => el.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: height + 80 });
  try {
    await page.mouse.move(0, 0);
    await expect.poll(() => screen().evaluate((el) => el.scrollHeight <= el.clientHeight)).toBe(true);
    const dialog = (await screen().boundingBox())!;
    const cards = (await screen().locator(".download-cards").boundingBox())!;
    await page.screenshot({ path: file, clip: { x: dialog.x, y: dialog.y, width: dialog.width, height: cards.y + cards.height + 16 - dialog.y } });
  } finally {
    await page.setViewportSize(viewport);
  }
}
