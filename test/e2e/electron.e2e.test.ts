/**
 * The real app in real Electron, driven by Playwright: the window's security settings as Electron reports them,
 * what the page can and cannot reach, and one chat round with the real model.
 *
 * Electron's binary cannot be downloaded on this project's machines (node_modules/electron has no dist/), so the
 * suite skips itself, with a message, whenever the binary is absent. Needs a build (npm test builds first).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { _electron, type ElectronApplication, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineStatus, Message, TandemBridge } from "../../contracts/window/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const MODEL = "/work/shared/models/kjv-chat-6m.gguf";

/** The Electron executable, if installed (the same lookup node_modules/electron/index.js does, without throwing). */
function electronBinary(): string | null {
  const dir = path.join(root, "node_modules", "electron");
  const pathFile = path.join(dir, "path.txt");
  if (!fs.existsSync(pathFile)) return null;
  const binary = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(dir, "dist"), fs.readFileSync(pathFile, "utf8").trim());
  return fs.existsSync(binary) ? binary : null;
}

const binary = electronBinary();
if (!binary) {
  console.warn("Electron E2E skipped: no Electron binary (node_modules/electron/dist missing; its download is blocked on this machine)");
}

describe.skipIf(!binary)("Electron app", () => {
  let app: ElectronApplication | undefined;
  let page: Page;
  let userData: string;

  beforeAll(async () => {
    for (const file of ["dist/electron/main.js", "dist/electron/preload.cjs", "dist/renderer/index.html", "dist/engine/main.js"]) {
      if (!fs.existsSync(path.join(root, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
    }
    // The app's database needs better-sqlite3 built for Electron (a no-op when the cached build is current).
    execFileSync(process.execPath, [path.join(root, "electron", "prepare-native.mjs")], { cwd: root, stdio: "inherit" });
    userData = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-electron-e2e-"));
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    app = await _electron.launch({
      executablePath: binary ?? undefined,
      args: ["."],
      cwd: root,
      // A throwaway profile: its own database, settings and single-instance lock.
      env: { ...env, TANDEM_USER_DATA_DIR: userData },
    });
    page = await app.firstWindow();
    await page.waitForFunction(() => "tandem" in window);
  });

  afterAll(async () => {
    await app?.close();
    if (userData) fs.rmSync(userData, { recursive: true, force: true });
  });

  it("creates the window with the secure web preferences", async () => {
    const prefs = await app!.evaluate(({ BrowserWindow }) => {
      // getLastWebPreferences is real (Electron's own specs use it) but missing from electron.d.ts.
      type WithPrefs = { getLastWebPreferences(): Electron.WebPreferences | null };
      const p = (BrowserWindow.getAllWindows()[0].webContents as unknown as WithPrefs).getLastWebPreferences();
      return {
        contextIsolation: p?.contextIsolation,
        sandbox: p?.sandbox,
        nodeIntegration: p?.nodeIntegration,
        webviewTag: p?.webviewTag,
        webSecurity: p?.webSecurity,
        preload: p?.preload,
      };
    });
    expect(prefs).toEqual({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
      webSecurity: true,
      preload: path.join(root, "dist", "electron", "preload.cjs"),
    });
  });

  it("serves the page from tandem://app (a secure origin of its own), not file://, and the page cannot read local files", async () => {
    expect(page.url()).toBe("tandem://app/index.html");
    const probe = await page.evaluate(async () => ({
      origin: location.origin,
      secure: window.isSecureContext,
      // No supportFetchAPI and no file: privileges: fetch reaches neither the page's own scheme nor the disk.
      fileFetch: await fetch("file:///etc/hostname").then(
        () => "read",
        () => "refused",
      ),
    }));
    expect(probe).toEqual({ origin: "tandem://app", secure: true, fileFetch: "refused" });
  });

  it("gives the page window.tandem and nothing from Node", async () => {
    const probe = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      return { require: typeof w.require, process: typeof w.process, tandem: Object.keys(w.tandem as object).sort() };
    });
    expect(probe.require).toBe("undefined");
    expect(probe.process).toBe("undefined");
    expect(probe.tandem).toContain("on");
    expect(probe.tandem).toContain("sendMessage");
  });

  it("enforces the CSP (no inline script) and keeps the page from navigating away", async () => {
    const ran = await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.head.append(script);
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
    });
    expect(ran).toBe(false);
    const before = page.url();
    await page.evaluate(() => {
      window.location.href = "https://example.com/";
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
  });

  it("chats with the real model", async () => {
    const reply = await page.evaluate(
      async ({ modelPath }) => {
        const bridge = (window as unknown as { tandem: TandemBridge }).tandem;
        // The bridge returns ApiOutcomes (errors keep their code); unwrap them as the renderer's client does.
        const ok = async <T,>(outcome: Promise<{ ok: true; result: T } | { ok: false; error: { code: string; message: string } }>): Promise<T> => {
          const settled = await outcome;
          if (!settled.ok) throw new Error(`${settled.error.code}: ${settled.error.message}`);
          return settled.result;
        };
        const tandem = bridge;
        // The engine starts in the background; wait for it before loading the model.
        for (let i = 0; i < 600; i++) {
          const status: EngineStatus = await ok(tandem.getEngineStatus({}));
          if (status.state === "ready" || status.state === "failed") break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await ok(tandem.loadModel({ path: modelPath }));
        const conversation = await ok(tandem.createConversation({}));
        const completed = new Map<string, Message>();
        let tokenEvents = 0;
        let wake: () => void = () => {};
        const offCompleted = tandem.on("messageCompleted", ({ message }) => {
          completed.set(message.id, message);
          wake();
        });
        const offTokens = tandem.on("tokens", () => void tokenEvents++);
        const { assistantMessage } = await ok(tandem.sendMessage({ conversationId: conversation.id, content: "In the beginning" }));
        while (!completed.has(assistantMessage.id)) await new Promise<void>((resolve) => (wake = resolve));
        offCompleted();
        offTokens();
        return { message: completed.get(assistantMessage.id)!, tokenEvents };
      },
      { modelPath: MODEL },
    );
    expect(reply.message.status).toBe("complete");
    expect(reply.message.content.trim().length).toBeGreaterThan(0);
    expect(reply.message.model).toBe(path.basename(MODEL));
    expect(reply.tokenEvents).toBeGreaterThan(0);
  });
});
