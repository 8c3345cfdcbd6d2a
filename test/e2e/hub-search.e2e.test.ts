import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { formatBytes } from "../../renderer/src/format.js";
import { sharedModel, targetModel, TEST_THREADS } from "../helpers/models.js";
import { FakeHub, sha256, type FakeHubFile } from "./fake-hub.js";
import { WebApp, launchBrowser, screenshotDir } from "./web-harness.js";

/**
 * The Models screen's Hugging Face search in web mode, from a fresh data folder, against the local fake Hub
 * (HF_ENDPOINT): search "kjv" → the matching GGUF repos with downloads, likes and a lock on the gated one → a repo's
 * GGUF files with size and quantization (a split set as one entry with its parts, the mmproj file left out) → each
 * file's memory-fit pill, estimated from the remote header read with ranged requests (no full download) → Download
 * → the progress card → done → the file in the library (pushed by the folder watcher) with its `hf:` origin and the
 * tree's SHA-256, which the download verified (a file whose bytes don't match the tree's SHA-256 fails and is
 * removed). A gated repo's files: 401 → a message pointing at the token in Settings; once a token is saved there,
 * the Hub gets `Authorization: Bearer <token>` and lists the files. Also the README's screenshot of the search.
 */

const TOKEN = "hf_e2eGatedAccessToken0123456789";
const targetBytes = readFileSync(targetModel());
const draftBytes = readFileSync(sharedModel("kjv-chat-draft-1m.gguf"));

const TARGET_REPO = "kjv-labs/KJV-Chat-6M-GGUF";
const DRAFT_REPO = "kjv-labs/KJV-Chat-Draft-1M-GGUF";
const GATED_REPO = "kjv-labs/KJV-Chat-6M-Instruct-GGUF";

/** The file the test downloads. */
const q8: FakeHubFile = { path: "kjv-chat-6m-Q8_0.gguf", bytes: targetBytes };
/**
 * A split set, one entry in the app: the KJV model as its first part, and a second part holding no tensors (so the
 * spliced header is the model's and its fit estimate reads both parts' headers).
 */
const splitParts: FakeHubFile[] = [
  { path: "F16/kjv-chat-6m-F16-00001-of-00002.gguf", bytes: targetBytes },
  { path: "F16/kjv-chat-6m-F16-00002-of-00002.gguf", bytes: emptySplitPart(2, 2) },
];
const draftQ8: FakeHubFile = { path: "kjv-chat-draft-1m-Q8_0.gguf", bytes: draftBytes };
/** Served with the draft's bytes, but the tree's SHA-256 is another file's: the download must refuse it. */
const corrupt: FakeHubFile = { path: "kjv-chat-draft-1m-Q4_0.gguf", bytes: Buffer.concat([draftBytes.subarray(0, draftBytes.length - 1), Buffer.from([7])]), sha: sha256(draftBytes) };
const gatedFile: FakeHubFile = { path: "kjv-chat-6m-instruct-Q4_K_M.gguf", bytes: targetBytes };

const hub = new FakeHub(
  [
    {
      repo: TARGET_REPO,
      files: [q8, ...splitParts],
      listedOnly: [{ path: "mmproj-kjv-chat-6m-f16.gguf", size: 12_345_678 }],
      downloads: 48_210,
      likes: 312,
      lastModified: "2025-03-14T09:26:53.000Z",
      gated: false,
    },
    { repo: DRAFT_REPO, files: [draftQ8, corrupt], downloads: 9_120, likes: 41, lastModified: "2025-02-01T12:00:00.000Z", gated: false },
    { repo: GATED_REPO, files: [gatedFile], downloads: 1_530, likes: 27, lastModified: "2025-04-02T08:00:00.000Z", gated: "manual" },
    { repo: "someone/Llama-3.2-1B-Instruct-GGUF", files: [], downloads: 900_000, likes: 900, gated: false },
  ],
  { chunks: 40, chunkDelayMs: 60, acceptedToken: TOKEN },
);

let app: WebApp;
let browser: Browser;
let page: Page;
let modelsFolder = "";

const screen = () => page.getByTestId("models-screen");
const search = () => screen().getByTestId("hub-search");
const result = (repo: string) => search().getByTestId("hub-result").filter({ has: page.locator(".hub-repo-name", { hasText: new RegExp(`^${repo}$`) }) });
const hubFile = (name: string) => search().getByTestId("hub-file").filter({ has: page.locator(".hub-file-name", { hasText: new RegExp(`^${name.replaceAll(".", "\\.")}$`) }) });
const card = (name: string) => screen().getByTestId("download-card").filter({ hasText: name });
const row = (name: string) => screen().getByTestId("models-row").filter({ hasText: name });
const details = () => screen().getByTestId("model-details");
const fact = (label: string) => details().locator(".fact").filter({ has: page.locator("dt", { hasText: label }) }).locator("dd");

async function openModelsScreen(): Promise<void> {
  if ((await screen().count()) > 0) return;
  await page.getByTestId("model-picker").click();
  await page.getByTestId("open-models-screen").click();
  await screen().waitFor({ state: "visible", timeout: 10_000 });
}

async function searchFor(text: string): Promise<void> {
  await search().getByTestId("hub-query").fill(text);
  await search().getByTestId("hub-search-button").click();
}

/** Opens a result's file list (a click on the repo's row, which toggles it). */
async function openRepo(repo: string): Promise<void> {
  const button = result(repo).locator("button.hub-repo");
  if ((await button.getAttribute("aria-expanded")) !== "true") await button.click();
  await expect.poll(() => button.getAttribute("aria-expanded")).toBe("true");
}

beforeAll(async () => {
  await hub.start();
  // No $HF_TOKEN from the environment: the token comes only from Settings.
  app = new WebApp({ HF_ENDPOINT: hub.url, HF_TOKEN: "" });
  await app.start();
  await app.call("updateSettings", { threads: TEST_THREADS, theme: "light" });
  modelsFolder = (await app.call("getAppInfo", {})).paths.modelsFolder;
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(app.url);
  await page.getByTestId("model-picker").waitFor({ state: "visible", timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await hub.stop();
});

describe("Hugging Face search on the Models screen", () => {
  it("finds the KJV repos with downloads, likes and a lock on the gated one", async () => {
    await openModelsScreen();
    await search().scrollIntoViewIfNeeded();
    await searchFor("kjv");
    const results = search().getByTestId("hub-result");
    await expect.poll(() => results.count(), { timeout: 15_000 }).toBe(3);
    // Most downloaded first; the Llama repo doesn't match.
    expect(await results.locator(".hub-repo-name").allTextContents()).toEqual([TARGET_REPO, DRAFT_REPO, GATED_REPO]);
    expect(await result(TARGET_REPO).getByTestId("hub-meta").textContent()).toBe("48.2K downloads · 312 likes · updated 2025-03-14");
    expect(await result(DRAFT_REPO).getByTestId("hub-meta").textContent()).toBe("9.1K downloads · 41 likes · updated 2025-02-01");
    expect(await result(GATED_REPO).getByTestId("hub-meta").textContent()).toBe("1.5K downloads · 27 likes · updated 2025-04-02");
    expect(await result(GATED_REPO).getByTestId("hub-gated").count()).toBe(1);
    expect(await result(GATED_REPO).getByTestId("hub-gated").getAttribute("aria-label")).toBe("gated");
    expect(await result(TARGET_REPO).getByTestId("hub-gated").count()).toBe(0);
    expect(await result(DRAFT_REPO).getByTestId("hub-gated").count()).toBe(0);

    // One search request, in the Hub's shape: GGUF repos, most downloaded first, with the fields the list shows.
    const searches = hub.requests.filter((r) => r.pathname === "/api/models");
    expect(searches).toHaveLength(1);
    const params = new URL(searches[0]!.url, hub.url).searchParams;
    expect(params.get("search")).toBe("kjv");
    expect(params.get("filter")).toBe("gguf");
    expect(params.get("sort")).toBe("downloads");
    expect(params.getAll("expand")).toEqual(expect.arrayContaining(["downloads", "likes", "lastModified", "gated"]));
    expect(searches[0]!.authorization).toBeNull(); // no token yet
  });

  it("lists a repo's GGUF files with size and quantization: a split set as one entry, no mmproj", async () => {
    await openRepo(TARGET_REPO);
    const files = result(TARGET_REPO).getByTestId("hub-file");
    await expect.poll(() => files.count(), { timeout: 15_000 }).toBe(2);
    expect(await files.locator(".hub-file-name").allTextContents()).toEqual(["kjv-chat-6m-F16-00001-of-00002.gguf", "kjv-chat-6m-Q8_0.gguf"]);
    expect(await result(TARGET_REPO).textContent()).not.toContain("mmproj");

    const split = hubFile("kjv-chat-6m-F16-00001-of-00002.gguf");
    expect(await split.getByTestId("hub-quant").textContent()).toBe("F16");
    expect(await split.getByTestId("hub-size").textContent()).toBe(`${formatBytes(targetBytes.length + splitParts[1]!.bytes.length)} · 2 parts`);
    expect(await split.locator(".hub-file-name").getAttribute("title")).toBe(splitParts[0]!.path);
    const single = hubFile(q8.path);
    expect(await single.getByTestId("hub-quant").textContent()).toBe("Q8_0");
    expect(await single.getByTestId("hub-size").textContent()).toBe(formatBytes(targetBytes.length));
    expect(hub.lines).toContain(`GET /api/models/${TARGET_REPO}/tree/main?recursive=true`);
  });

  it("shows each file's fit pill from the remote header, read with ranged requests only", async () => {
    const pills = result(TARGET_REPO).getByTestId("hub-fit");
    const verdicts = async () => (await pills.evaluateAll((els) => els.map((el) => el.getAttribute("data-verdict")))).join(",");
    await expect.poll(verdicts, { timeout: 90_000 }).not.toMatch(/checking/);
    console.log(`[e2e] fit pills: ${JSON.stringify(await pills.evaluateAll((els) => els.map((el) => el.getAttribute("title"))))}`);
    expect(await verdicts()).toBe("fits,fits");
    expect(await hubFile(q8.path).getByTestId("hub-fit").textContent()).toMatch(/^Fits: /);

    // Nothing was downloaded whole: every CDN request was a bounded Range (a header read), and far less than the file.
    for (const file of [q8, splitParts[0]!]) {
      const cdn = hub.cdnRequests(file);
      expect(cdn.length, file.path).toBeGreaterThan(0);
      for (const r of cdn) expect(r.range, JSON.stringify(r)).toMatch(/^bytes=\d+-\d+$/);
      const sent = cdn.reduce((n, r) => n + r.bytesSent, 0);
      expect(sent).toBeLessThan(file.bytes.length / 2);
    }
    // The header reads went through the resolve URLs (and their redirect), like a download.
    expect(hub.lines).toContain(`GET /${TARGET_REPO}/resolve/main/${q8.path}`);
    expect(hub.requests.some((r) => r.pathname === `/${TARGET_REPO}/resolve/main/${splitParts[0]!.path}`)).toBe(true);
    expect(existsSync(modelsFolder) ? readdirSync(modelsFolder) : []).toEqual([]);

    await screenshotHubSearch(path.join(screenshotDir(), "hub-search.png"));
  });

  it("downloads a file with a progress card into the library, verified against the tree's SHA-256", async () => {
    const before = hub.requests.length;
    await hubFile(q8.path).getByTestId("hub-download").click();
    await expect.poll(() => card(q8.path).count(), { timeout: 15_000 }).toBe(1);
    // The button says the file is in the downloads while it runs.
    await expect.poll(() => hubFile(q8.path).getByTestId("hub-download").textContent(), { timeout: 10_000 }).toBe("In downloads");
    expect(await hubFile(q8.path).getByTestId("hub-download").isDisabled()).toBe(true);
    const bar = card(q8.path).locator("progress");
    await expect.poll(async () => Number((await bar.getAttribute("value")) ?? "0"), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(Number(await bar.getAttribute("value"))).toBeLessThan(1);
    expect(await card(q8.path).getByTestId("download-state").textContent()).toMatch(/^Downloading · \d+%$/);
    expect(await card(q8.path).getByTestId("download-details").textContent()).toContain(`of ${formatBytes(targetBytes.length)}`);

    await expect.poll(() => card(q8.path).getAttribute("data-state"), { timeout: 60_000 }).toBe("done");
    expect(await hubFile(q8.path).getByTestId("hub-download").textContent()).toBe("Download");
    // A whole-file fetch this time (after the resolve redirect).
    const fetched = hub.requests.slice(before);
    expect(fetched.map((r) => r.line)).toContain(`GET /${TARGET_REPO}/resolve/main/${q8.path}`);
    expect(fetched.some((r) => r.pathname === `/cdn/${sha256(targetBytes)}` && r.range === null)).toBe(true);

    // The same bytes on disk, and the library lists it (modelsChanged) with where it came from.
    const onDisk = readFileSync(path.join(modelsFolder, q8.path));
    expect(sha256(onDisk)).toBe(sha256(targetBytes));
    expect(readdirSync(modelsFolder).filter((f) => !f.startsWith("."))).toEqual([q8.path]);
    await expect.poll(() => row(q8.path).count(), { timeout: 15_000 }).toBe(1);
    await row(q8.path).locator(".link-button").click();
    await expect
      .poll(() => fact("Source").textContent(), { timeout: 10_000 })
      .toMatch(new RegExp(`^Downloaded from hf:${TARGET_REPO}/${q8.path.replaceAll(".", "\\.")} on `));
    const listing = await app.call("listModels", {});
    expect(listing.models.find((f) => f.path === path.join(modelsFolder, q8.path))?.origin).toMatchObject({ kind: "downloaded", source: `hf:${TARGET_REPO}/${q8.path}` });
  });

  it("refuses a download whose bytes don't match the tree's SHA-256 and removes it", async () => {
    await openRepo(DRAFT_REPO);
    await expect.poll(() => hubFile(corrupt.path).count(), { timeout: 15_000 }).toBe(1);
    await hubFile(corrupt.path).getByTestId("hub-download").click();
    await expect.poll(() => card(corrupt.path).getAttribute("data-state"), { timeout: 60_000 }).toBe("failed");
    expect(await card(corrupt.path).locator(".field-error").textContent()).toMatch(/SHA-256 mismatch/);
    expect(readdirSync(modelsFolder).filter((f) => f.includes("Q4_0"))).toEqual([]);
    expect(await row(corrupt.path).count()).toBe(0);
  });

  it("says a gated repo needs the token in Settings, then lists its files with the saved token", async () => {
    await openRepo(GATED_REPO);
    const error = result(GATED_REPO).getByTestId("hub-files-error");
    await expect.poll(() => error.textContent(), { timeout: 15_000 }).toMatch(/gated or private \(HTTP 401\).*Hugging Face token.*Settings/);
    const message = (await error.textContent()) ?? "";
    console.log(`[e2e] gated repo without a token: ${message}`);
    expect(await error.getAttribute("role")).toBe("alert");
    const denied = hub.requests.filter((r) => r.pathname === `/api/models/${GATED_REPO}/tree/main`);
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((r) => r.authorization === null)).toBe(true);

    // Settings → Hugging Face token: type it, Save.
    await screen().getByRole("button", { name: "Close" }).first().click();
    await expect.poll(() => screen().count()).toBe(0);
    await page.getByTestId("settings-button").click();
    const section = page.getByTestId("hf-token-section");
    await section.waitFor({ state: "visible", timeout: 10_000 });
    await expect.poll(() => section.getByTestId("hf-token-status").textContent()).toMatch(/^Not set/);
    await section.getByTestId("hf-token-input").fill(TOKEN);
    await section.getByTestId("hf-token-save").click();
    await expect.poll(() => section.getByTestId("hf-token-status").textContent(), { timeout: 10_000 }).toBe("Stored in a file in the data folder");
    expect(await section.getByTestId("hf-token-input").inputValue()).toBe("");
    await page.keyboard.press("Escape");
    await expect.poll(() => section.count()).toBe(0);

    // Back to the search: the gated repo's files are listed now, asked for with the token.
    const sinceToken = hub.requests.length;
    await openModelsScreen();
    await searchFor("kjv");
    await expect.poll(() => search().getByTestId("hub-result").count(), { timeout: 15_000 }).toBe(3);
    await openRepo(GATED_REPO);
    await expect.poll(() => hubFile(gatedFile.path).count(), { timeout: 15_000 }).toBe(1);
    expect(await result(GATED_REPO).getByTestId("hub-files-error").count()).toBe(0);
    expect(await hubFile(gatedFile.path).getByTestId("hub-quant").textContent()).toBe("Q4_K_M");
    const trees = hub.requests.slice(sinceToken).filter((r) => r.pathname === `/api/models/${GATED_REPO}/tree/main`);
    expect(trees.length).toBeGreaterThan(0);
    expect(trees.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // The search carries it too, and the fit estimate's header reads of the gated file do.
    expect(hub.requests.slice(sinceToken).find((r) => r.pathname === "/api/models")?.authorization).toBe(`Bearer ${TOKEN}`);
    await expect.poll(() => hubFile(gatedFile.path).getByTestId("hub-fit").getAttribute("data-verdict"), { timeout: 90_000 }).toBe("fits");
    const reads = hub.requests.slice(sinceToken).filter((r) => r.pathname === `/${GATED_REPO}/resolve/main/${gatedFile.path}`);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.authorization === `Bearer ${TOKEN}` && r.range !== null)).toBe(true);
  });
});

/** A GGUF (v3) split part without tensors: the architecture and the split keys (split.no counts from 0). */
function emptySplitPart(no: number, count: number): Buffer {
  const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
  const u64 = (n: number) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  const kv: [string, Buffer][] = [
    ["general.architecture", Buffer.concat([u32(8), str("llama")])],
    ["split.no", Buffer.concat([u32(2), Buffer.from([no - 1, 0])])],
    ["split.count", Buffer.concat([u32(2), Buffer.from([count, 0])])],
    ["split.tensors.count", Buffer.concat([u32(5), u32(0)])],
  ];
  // Magic, version 3, no tensors, the key-value count, the pairs; padded to the default alignment.
  const body = Buffer.concat([Buffer.from("GGUF"), u32(3), u64(0), u64(kv.length), ...kv.flatMap(([key, value]) => [str(key), value])]);
  return Buffer.concat([body, Buffer.alloc((32 - (body.length % 32)) % 32)]);
}

/**
 * The Hub search part of the Models screen, with the open repo's files and their fit pills: the window is made tall
 * enough for the whole dialog (which otherwise scrolls), then set back.
 */
async function screenshotHubSearch(file: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = await screen().evaluate((el) => el.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: height + 80 });
  try {
    await page.mouse.move(0, 0);
    await expect.poll(() => screen().evaluate((el) => el.scrollHeight <= el.clientHeight)).toBe(true);
    const dialog = (await screen().boundingBox())!;
    const box = (await search().boundingBox())!;
    await page.screenshot({ path: file, clip: { x: dialog.x, y: box.y - 12, width: dialog.width, height: box.height + 24 } });
  } finally {
    await page.setViewportSize(viewport);
  }
}
