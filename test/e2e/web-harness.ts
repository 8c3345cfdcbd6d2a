import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import WebSocket from "ws";
import type { WebServerFrame, WindowMethod, WindowParams, WindowResult } from "../../contracts/window/index.js";
import { repoPath } from "../helpers/models.js";
// @ts-expect-error: a plain .mjs script (npm test runs it before anything is built), without type declarations
import { findBrowser } from "./browser.mjs";

/** The browser that `npm test`'s first step found or installed (test/e2e/browser.mjs). */
export function chromiumPath(): string {
  const found = findBrowser();
  if (!found) throw new Error("no Chromium or Chrome for the E2E tests: run `node test/e2e/browser.mjs` (npm test does) or set CHROMIUM_PATH");
  return found.path;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // Flags for a root, offline, GPU-less machine: no sandbox (root), and no background traffic to Google hosts.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/** The suites' common start: a browser on the app's page. */
export async function openPage(app: WebApp, viewport = { width: 1280, height: 800 }): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport });
  await page.goto(app.url);
  return { browser, page };
}

/** The suites' common end: the browser closed, then the app stopped. */
export async function closePage(browser: Browser | undefined, app: WebApp): Promise<void> {
  await browser?.close();
  await app.stop();
}

/** `npm run web` as a user runs it: the built host in plain Node, the real engine process, a fresh data folder. */
export class WebApp {
  readonly dataDir: string;
  private child: ChildProcess | undefined;
  url = "";
  port = 0;
  token = "";
  output = "";

  constructor(private readonly env: Record<string, string> = {}) {
    this.dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-"));
  }

  async start(): Promise<void> {
    this.output = "";
    const child = spawn(process.execPath, [repoPath("dist/web.js"), "--port", String(this.port)], {
      env: { ...process.env, TANDEM_DATA_DIR: this.dataDir, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`web mode did not print its URL:\n${this.output}`)), 30_000);
      child.stdout!.on("data", (chunk: Buffer) => {
        this.output += chunk.toString();
        const match = /Tandem web mode: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+))/.exec(this.output);
        if (match) {
          clearTimeout(timer);
          this.port = Number(match[2]);
          this.token = match[3]!;
          resolve(match[1]!);
        }
      });
      child.once("exit", (code) => reject(new Error(`web mode exited (${code}):\n${this.output}`)));
    });
  }

  get pid(): number {
    return this.child!.pid!;
  }

  /** The engine process(es) the host started (children of the web-mode process). */
  enginePids(): number[] {
    try {
      return execFileSync("ps", ["-o", "pid=", "--ppid", String(this.pid)], { encoding: "utf8" })
        .split("\n")
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
    } catch {
      return [];
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 8_000);
    await exited;
    clearTimeout(timer);
  }

  /** Calls the host API over the web socket, as the renderer does (used for test setup only). */
  async call<M extends WindowMethod>(method: M, params: WindowParams<M>): Promise<WindowResult<M>> {
    const socket = new WebSocket(`ws://127.0.0.1:${this.port}/api?token=${this.token}`, { origin: `http://127.0.0.1:${this.port}` });
    try {
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      socket.send(JSON.stringify({ kind: "call", id: 1, method, params }));
      const frame = await new Promise<WebServerFrame>((resolve) => {
        socket.on("message", (data: Buffer) => {
          const parsed = JSON.parse(data.toString()) as WebServerFrame;
          if (parsed.kind === "result" && parsed.id === 1) resolve(parsed);
        });
      });
      if (frame.kind === "result" && frame.ok) return frame.result as WindowResult<M>;
      throw new Error(`${method} failed: ${JSON.stringify(frame)}`);
    } finally {
      socket.close();
    }
  }
}

/** Opens the Settings dialog and waits until the section with `sectionTestId` shows. */
export async function openSettingsSection(page: Page, sectionTestId: string): Promise<void> {
  await page.getByTestId("settings-button").click();
  await page.getByTestId(sectionTestId).waitFor({ state: "visible", timeout: 10_000 });
}

/** Closes the Settings dialog (Escape; no unsaved edits) and waits until it is gone. */
export async function closeSettingsDialog(page: Page): Promise<void> {
  await page.keyboard.press("Escape");
  await page.getByTestId("settings-dialog").waitFor({ state: "detached", timeout: 10_000 });
}

/** Lengths of a locator's text each animation frame until it stops changing or `ms` pass (runs in the page). */
export async function recordTextGrowth(page: Page, selector: string, ms: number): Promise<number[]> {
  return page.evaluate(
    ({ selector, ms }) =>
      new Promise<number[]>((resolve) => {
        const lengths: number[] = [];
        const start = performance.now();
        const tick = () => {
          const nodes = document.querySelectorAll(selector);
          const el = nodes[nodes.length - 1];
          const length = el?.textContent?.length ?? 0;
          if (lengths.at(-1) !== length) lengths.push(length);
          if (performance.now() - start > ms) resolve(lengths);
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    { selector, ms },
  );
}

/**
 * Where E2E tests write the README's screenshots: `assets/screenshots` when TANDEM_UPDATE_SCREENSHOTS=1
 * (`npm run screenshots`), else a temp folder — the shots are still taken (the code path is exercised), but a plain
 * `npm test` never rewrites committed images with pixel noise.
 */
export function screenshotDir(): string {
  const dir = process.env.TANDEM_UPDATE_SCREENSHOTS === "1" ? repoPath("assets", "screenshots") : path.join(os.tmpdir(), "tandem-screenshots");
  mkdirSync(dir, { recursive: true });
  return dir;
}
