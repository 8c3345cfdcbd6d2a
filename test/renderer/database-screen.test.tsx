/** The database screen: a damaged database's explanation and choices, the recovery report, and an unopenable one. */
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { TandemApiError, type DatabaseStatus } from "../../contracts/window/index.js";
import { recoverySummary } from "../../renderer/src/components/DatabaseScreen.js";
import { FakeClient } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

const damaged: DatabaseStatus = {
  state: "damaged",
  path: "/home/user/.config/Tandem/tandem.db",
  problem: "corrupt",
  detail: "database disk image is malformed",
  foundWhile: "opening",
  lastRecovery: null,
};

/** A fake with three conversations (5 messages) in a damaged database; recovering keeps the first two (3 messages). */
function damagedFake(mode: "electron" | "web" = "web"): FakeClient {
  const fake = new FakeClient({ mode });
  const psalms = fake.addConversation("Psalms", [
    { role: "user", content: "The LORD is my shepherd", status: "complete", error: null, model: null, settings: null, stats: null },
    { role: "assistant", content: "I shall not want.", status: "complete", error: null, model: "m.gguf", settings: null, stats: null },
  ]);
  const proverbs = fake.addConversation("Proverbs", [
    { role: "user", content: "Wisdom crieth without", status: "complete", error: null, model: null, settings: null, stats: null },
  ]);
  fake.addConversation("Lost chapter", [
    { role: "user", content: "gone", status: "complete", error: null, model: null, settings: null, stats: null },
    { role: "assistant", content: "gone too", status: "complete", error: null, model: null, settings: null, stats: null },
  ]);
  fake.recoverKeeps = [psalms.id, proverbs.id];
  fake.database = damaged;
  return fake;
}

describe("the database screen", () => {
  it("a damaged database: says what happened in plain words and offers the two ways out, instead of the app", async () => {
    await renderWithClient(damagedFake());
    const panel = screen.getByTestId("database-screen");
    expect(panel.dataset.state).toBe("damaged");
    expect(within(panel).getByTestId("database-title").textContent).toBe("Tandem’s database is damaged");
    expect(within(panel).getByTestId("database-detail").textContent).toBe(
      "Parts of the file that holds your conversations and settings can’t be read, usually after a disk problem or the computer losing power while Tandem was writing. To keep the damage from growing, Tandem saves nothing until you choose what to do.",
    );
    expect(within(panel).getByTestId("database-message").textContent).toBe("database disk image is malformed");
    expect(panel.textContent).toContain("/home/user/.config/Tandem/tandem.db");
    expect(within(panel).getByRole("button", { name: "Back up and recover" })).toBeTruthy();
    expect(within(panel).getByRole("button", { name: "Start with an empty database" })).toBeTruthy();
    expect(panel.textContent).toContain("Moves the damaged file aside as a backup (it is never deleted)");
    expect(panel.textContent).toContain("Keeps the damaged file as a backup too");
    // Nothing that would read or write the database is offered meanwhile.
    expect(screen.queryByTestId("new-chat")).toBeNull();
    expect(screen.queryByTestId("composer-input")).toBeNull();
    expect(screen.queryAllByTestId("conversation-item")).toHaveLength(0);
  });

  it("a file that is not a database is worded as such", async () => {
    const fake = damagedFake();
    fake.database = { ...damaged, problem: "not-a-database", detail: "file is not a database" };
    await renderWithClient(fake);
    expect(screen.getByTestId("database-title").textContent).toBe("Tandem’s database can’t be read");
    expect(screen.getByTestId("database-detail").textContent).toContain("is no longer a database: something has written over it.");
    expect(screen.getByTestId("database-message").textContent).toBe("file is not a database");
  });

  it("Back up and recover: busy while it runs, then what came back and where the backup is; Continue shows the recovered chats", async () => {
    const u = userEvent.setup();
    const fake = damagedFake();
    fake.holdRecovery = true;
    await renderWithClient(fake);
    const listsBefore = fake.callsOf("listConversations").length;

    await u.click(screen.getByRole("button", { name: "Back up and recover" }));
    expect(fake.callsOf("recoverDatabase")).toEqual([{ mode: "recover" }]);
    expect((screen.getByTestId("database-recover") as HTMLButtonElement).textContent).toBe("Recovering…");
    expect((screen.getByTestId("database-recover") as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId("database-empty") as HTMLButtonElement).disabled).toBe(true);

    await act(async () => fake.finishRecovery());
    const panel = await screen.findByTestId("database-screen");
    await waitFor(() => expect(panel.dataset.state).toBe("recovered"));
    expect(within(panel).getByTestId("database-title").textContent).toBe("Recovered 2 conversations and 3 messages");
    expect(within(panel).getByTestId("database-detail").textContent).toBe(
      "Tandem copied everything it could read into a new database: 2 conversations, 3 messages and 4 settings. Some messages could not be read; they are only in the backup.",
    );
    expect(within(panel).getByTestId("database-backup-path").textContent).toBe("/home/user/.config/Tandem/tandem-damaged-20250115-120000.db");
    // Web mode can't open folders: the path is there to copy instead.
    expect(within(panel).queryByTestId("database-open-folder")).toBeNull();
    // Everything was fetched again from the recovered database.
    await waitFor(() => expect(fake.callsOf("listConversations").length).toBeGreaterThan(listsBefore));

    await u.click(within(panel).getByRole("button", { name: "Continue" }));
    expect(screen.queryByTestId("database-screen")).toBeNull();
    expect(screen.getAllByTestId("conversation-item").map((item) => item.textContent)).toEqual([expect.stringContaining("Proverbs"), expect.stringContaining("Psalms")]);
  });

  it("Start with an empty database: says so, and the app starts with no conversations", async () => {
    const u = userEvent.setup();
    const fake = damagedFake();
    await renderWithClient(fake);
    await u.click(screen.getByRole("button", { name: "Start with an empty database" }));
    expect(fake.callsOf("recoverDatabase")).toEqual([{ mode: "empty" }]);
    await waitFor(() => expect(screen.getByTestId("database-title").textContent).toBe("Tandem started with an empty database"));
    expect(screen.getByTestId("database-backup-path").textContent).toBe("/home/user/.config/Tandem/tandem-damaged-20250115-120000.db");
    await u.click(screen.getByRole("button", { name: "Continue" }));
    expect(screen.queryAllByTestId("conversation-item")).toHaveLength(0);
    expect(screen.getByTestId("new-chat")).toBeTruthy();
  });

  it("the app can show the backup's folder", async () => {
    const u = userEvent.setup();
    const fake = damagedFake("electron");
    await renderWithClient(fake);
    await u.click(screen.getByRole("button", { name: "Back up and recover" }));
    await u.click(await screen.findByRole("button", { name: "Show the backup’s folder" }));
    expect(fake.callsOf("openFolder")).toEqual([{ folder: "dataDir" }]);
    // The report stays until the user continues.
    expect(screen.getByTestId("database-screen").dataset.state).toBe("recovered");
  });

  it("a failed recovery is shown and both choices stay available", async () => {
    const u = userEvent.setup();
    const fake = damagedFake();
    fake.failures.set("recoverDatabase", new TandemApiError("RECOVERY_FAILED", "Tandem could not recover its database: EACCES: permission denied"));
    await renderWithClient(fake);
    await u.click(screen.getByRole("button", { name: "Back up and recover" }));
    expect((await screen.findByTestId("database-error")).textContent).toBe("Tandem could not recover its database: EACCES: permission denied");
    expect(screen.getByTestId("database-screen").dataset.state).toBe("damaged");
    expect((screen.getByTestId("database-recover") as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId("database-empty") as HTMLButtonElement).disabled).toBe(false);
  });

  it("damage found while Tandem runs switches the window to the screen", async () => {
    const fake = new FakeClient();
    fake.addConversation("Genesis");
    await renderWithClient(fake);
    expect(screen.queryByTestId("database-screen")).toBeNull();
    expect(screen.getAllByTestId("conversation-item")).toHaveLength(1);
    act(() => fake.emit("databaseStatus", { ...damaged, foundWhile: "running" }));
    expect(screen.getByTestId("database-detail").textContent).toMatch(/^Tandem noticed it while working\. Parts of the file/);
    expect(screen.queryByTestId("composer-input")).toBeNull();
  });

  it("a database that can't be opened: the host's reason, and what to do", async () => {
    const fake = new FakeClient();
    const message = "Tandem can't open its database /home/user/.config/Tandem/tandem.db: permission denied (Tandem needs to read and write it).";
    fake.failures.set("getDatabaseStatus", new TandemApiError("DATABASE_UNAVAILABLE", message));
    await renderWithClient(fake);
    const panel = screen.getByTestId("database-screen");
    expect(panel.dataset.state).toBe("unavailable");
    expect(within(panel).getByTestId("database-title").textContent).toBe("Tandem can’t open its database");
    expect(within(panel).getByTestId("database-message").textContent).toBe(message);
    expect(panel.textContent).toContain("Fix the cause below, then start Tandem again.");
    expect(within(panel).queryAllByRole("button")).toHaveLength(0);
  });

  it("a healthy database shows the app as usual", async () => {
    await renderWithClient(new FakeClient());
    expect(screen.queryByTestId("database-screen")).toBeNull();
    expect(screen.getByTestId("composer-input")).toBeTruthy();
  });
});

describe("recoverySummary", () => {
  it("words what came back, without a count of no settings", () => {
    const base = { mode: "recover" as const, backupPath: "/b.db", backupFiles: ["/b.db"], at: 1 };
    expect(recoverySummary({ ...base, conversations: 1, messages: 1, settings: 0, incompleteTables: [] })).toEqual({
      title: "Recovered 1 conversation and 1 message",
      detail: "Tandem copied everything it could read into a new database: 1 conversation and 1 message (the settings are back to their defaults).",
    });
    expect(recoverySummary({ ...base, conversations: 0, messages: 0, settings: 0, incompleteTables: ["conversations", "messages", "settings"] }).title).toBe(
      "Nothing could be recovered",
    );
  });
});
