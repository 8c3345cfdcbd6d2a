import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { AppDatabase } from "../../electron/host/store/app-database.js";
import { fillDatabase, pagesOf, randomPages, sha256, writeRandomPages, type Filled } from "../electron/host/store/damaged-db.js";
import { repoPath, targetModel, TEST_THREADS } from "../helpers/models.js";
import { WebApp, closePage, openPage } from "./web-harness.js";

/**
 * A damaged database in web mode, as a user meets it: the data folder's tandem.db holds real conversations, with
 * random pages written over its messages. Web mode starts (and prints its URL), the page shows the recovery screen
 * instead of the chats, "Back up and recover" moves the damaged file aside untouched and brings back what was
 * readable, and the chat list then shows the recovered conversations; Tandem works on from there.
 */
const app = new WebApp();
const file = path.join(app.dataDir, "tandem.db");
let filled: Filled;
let damagedHash: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  filled = fillDatabase(file, app.dataDir, 12, 10);
  // A user's settings, with a chat model: they are among what is recovered.
  const store = new AppDatabase(file, { dataDir: app.dataDir });
  store.updateSettings({ modelPath: targetModel(), threads: TEST_THREADS, temperature: 0, maxTokens: 24 });
  store.close();
  writeRandomPages(file, randomPages(file, 2, 99, pagesOf(file, "messages")), 99);
  damagedHash = sha256(file);
  await app.start();
  ({ browser, page } = await openPage(app));
});

afterAll(() => closePage(browser, app));

describe("a damaged database in web mode", () => {
  it("shows the recovery screen instead of the chats, and nothing has been written to the file", async () => {
    const screen = page.getByTestId("database-screen");
    await screen.waitFor({ state: "visible", timeout: 30_000 });
    expect(await screen.getAttribute("data-state")).toBe("damaged");
    expect(await screen.getByTestId("database-title").textContent()).toBe("Tandem’s database is damaged");
    expect(await screen.getByTestId("database-detail").textContent()).toContain("Tandem saves nothing until you choose what to do.");
    expect(await screen.getByTestId("database-message").textContent()).toMatch(/malformed|corrupt|page|tree/i);
    expect(await page.getByTestId("conversation-item").count()).toBe(0);
    expect(await page.getByTestId("composer-input").count()).toBe(0);
    expect((await app.call("getDatabaseStatus", {})).state).toBe("damaged");
    expect(sha256(file)).toBe(damagedHash);
    // The server prints its URL, then the damage on stderr.
    expect(app.output).toMatch(/The database .*tandem\.db is damaged/);
  });

  it("Back up and recover: reports what came back and where the backup is; the backup is the damaged file, byte for byte", async () => {
    await page.getByTestId("database-recover").click();
    const screen = page.getByTestId("database-screen");
    await expect.poll(() => screen.getAttribute("data-state"), { timeout: 30_000 }).toBe("recovered");
    const title = (await screen.getByTestId("database-title").textContent()) ?? "";
    const [, conversations, messages] = /^Recovered (\d+) conversations and (\d+) messages$/.exec(title) ?? [];
    expect(Number(conversations)).toBe(12);
    expect(Number(messages)).toBeGreaterThan(120 - 2 * 30);
    expect(Number(messages)).toBeLessThan(120);
    expect(await screen.getByTestId("database-detail").textContent()).toContain("Some messages could not be read; they are only in the backup.");

    const backup = (await screen.getByTestId("database-backup-path").textContent()) ?? "";
    expect(path.dirname(backup)).toBe(app.dataDir);
    expect(path.basename(backup)).toMatch(/^tandem-damaged-\d{8}-\d{6}\.db$/);
    expect(sha256(backup)).toBe(damagedHash);
    expect((await app.call("getDatabaseStatus", {})).state).toBe("ok");
  });

  it("Continue: the chat list shows the recovered conversations, and Tandem stores new ones again", async () => {
    await page.getByTestId("database-continue").click();
    await expect.poll(() => page.getByTestId("database-screen").count()).toBe(0);
    const items = page.getByTestId("conversation-item");
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(12);
    const shown = await items.allTextContents();
    for (const conversation of filled.conversations) expect(shown.some((text) => text.includes(conversation.title))).toBe(true);

    // A recovered conversation opens with its messages: one the damaged pages did not take them all from.
    const listed = await app.call("listConversations", {});
    const opened = await Promise.all(listed.map((c) => app.call("getConversation", { id: c.id })));
    const kept = opened.find((c) => c.messages.length > 0)!;
    await page.locator(`[data-testid="conversation-item"][data-id="${kept.conversation.id}"] .conversation-select`).click();
    await expect.poll(() => page.locator('[data-testid="message-user"], [data-testid="message-assistant"]').count(), { timeout: 10_000 }).toBe(kept.messages.length);
    // Each message that came back is the one that was written, word for word.
    const original = new Map(filled.messages.get(kept.conversation.id)!.map((m) => [m.id, m.content]));
    for (const message of kept.messages) expect(message.content).toBe(original.get(message.id));

    // The recovered settings brought the chat model back: a new chat gets a reply, and both are stored.
    await expect.poll(() => page.getByTestId("status-model").textContent(), { timeout: 60_000 }).toContain("kjv-chat-6m");
    await page.getByTestId("new-chat").click();
    await page.getByTestId("composer-input").fill("The LORD is my shepherd; I shall not want.");
    await page.getByTestId("composer-input").press("Enter");
    const reply = page.getByTestId("message-assistant").last();
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 60_000 }).toBe("complete");
    const conversations = await app.call("listConversations", {});
    expect(conversations).toHaveLength(13);
    const fresh = await app.call("getConversation", { id: conversations[0]!.id });
    expect(fresh.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
  });
});

describe("web mode and a database that can't be opened", () => {
  it("prints no URL: one line on stderr and exit code 1", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-unopenable-"));
    // A folder where the database file should be: SQLite can't open it, and there is nothing to recover.
    mkdirSync(path.join(dataDir, "tandem.db"));
    const child = spawn(process.execPath, [repoPath("dist/web.js"), "--port", "0"], {
      env: { ...process.env, TANDEM_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `Tandem web mode could not start. Tandem can't open its database ${path.join(dataDir, "tandem.db")}: that path is a folder, not a database file.\n`,
    );
    // No engine was started for it either (nothing but the logs folder was made).
    expect(existsSync(path.join(dataDir, "cache"))).toBe(false);
  });
});
