import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { TandemApiError } from "../../contracts/window/index.js";
import { cacheTurnSummary } from "../../renderer/src/cache-format.js";
import { useEngineStore } from "../../renderer/src/stores/engine.js";
import { useMessagesStore } from "../../renderer/src/stores/messages.js";
import { startSubscriber } from "../../renderer/src/subscriber.js";
import { FakeClient, makeCacheInfo, makeStats } from "./fake-client.js";
import { ManualFrames, renderWithClient } from "./helpers.js";

const MB = 1024 ** 2;

describe("cache outcome wording", () => {
  it("names each outcome with the figure that matters", () => {
    expect(cacheTurnSummary({ outcome: "slot-hit", restoredTokens: 300, evaluatedTokens: 9, ms: 12 })).toBe("⚡ slot hit · 12 ms");
    expect(cacheTurnSummary({ outcome: "disk-restore", restoredTokens: 300, evaluatedTokens: 9, ms: 7.4 })).toBe("disk restore · 7 ms");
    expect(cacheTurnSummary({ outcome: "prefix-reuse", restoredTokens: 40, evaluatedTokens: 60, ms: 30 })).toBe("prefix reuse · 40 tokens");
    expect(cacheTurnSummary({ outcome: "cold", restoredTokens: 0, evaluatedTokens: 180, ms: 95 })).toBe("re-prefill · 180 tokens · 95 ms");
    expect(cacheTurnSummary({ outcome: "cold", restoredTokens: 0, evaluatedTokens: 2048, ms: 8100 })).toBe("re-prefill · 2,048 tokens · 8.1 s");
  });
});

describe("subscriber and the cache outcome", () => {
  it("stores each cacheOutcome event at once, outside the per-frame token batching", () => {
    const fake = new FakeClient();
    const frames = new ManualFrames();
    const stop = startSubscriber(fake, { frames, fallbackMs: 0 });
    const event = { conversationId: "c-1", messageId: "m-1", outcome: "disk-restore" as const, restoredTokens: 120, evaluatedTokens: 8, ms: 9 };
    fake.emit("cacheOutcome", event);
    expect(useEngineStore.getState().lastCacheOutcome).toEqual(event);
    expect(frames.queue.size).toBe(0);
    // Tokens are still batched per frame.
    fake.streamTokens("c-1", "m-1", ["a", "b"]);
    expect(frames.queue.size).toBe(1);
    expect(useMessagesStore.getState().streaming["m-1"]).toBeUndefined();
    stop();
    fake.emit("cacheOutcome", { ...event, outcome: "cold" });
    expect(useEngineStore.getState().lastCacheOutcome?.outcome).toBe("disk-restore");
  });
});

describe("status bar cache", () => {
  it("shows the live outcome of the reply being written, then the next one's, and the cache size on disk", async () => {
    const fake = new FakeClient();
    const conversation = fake.addConversation("Psalms");
    const h = await renderWithClient(fake);
    expect(screen.queryByTestId("status-cache")).toBeNull();
    expect(screen.getByTestId("status-cache-disk").textContent).toBe("cache 96.0 MB");
    expect(screen.getByTestId("status-cache-disk").title).toBe(
      "Conversation cache: 3 saved conversations, 96.0 MB of 2.0 GB on disk\n4 slots in memory (2 in use), about 1.5 GB",
    );

    const { assistantMessage } = await act(() => h.fake.sendMessage({ conversationId: conversation.id, content: "The LORD is my shepherd" }));
    act(() => fake.emit("cacheOutcome", { conversationId: conversation.id, messageId: assistantMessage.id, outcome: "cold", restoredTokens: 0, evaluatedTokens: 180, ms: 95 }));
    // Before any token of the reply.
    const item = screen.getByTestId("status-cache");
    expect(item.textContent).toBe("re-prefill · 180 tokens · 95 ms");
    expect(item.title).toBe("Conversation cache: the conversation was read again from its text\n0 tokens of the prompt reused, 180 tokens evaluated\nPrompt ready in 95 ms");

    act(() => fake.emit("cacheOutcome", { conversationId: conversation.id, messageId: "m-next", outcome: "slot-hit", restoredTokens: 200, evaluatedTokens: 6, ms: 12 }));
    expect(screen.getByTestId("status-cache").textContent).toBe("⚡ slot hit · 12 ms");
    expect(screen.getByTestId("status-cache").className).toContain("slot-hit");

    act(() => fake.setStatus({ cache: makeCacheInfo({ diskBytes: 250 * MB, diskStates: 5 }) }));
    expect(screen.getByTestId("status-cache-disk").textContent).toBe("cache 250 MB");
  });

  it("before any reply this session, shows how the open conversation's last reply was served", async () => {
    const fake = new FakeClient();
    const stats = makeStats({ evaluatedPromptTokens: 7, timeToFirstTokenMs: 7.2, cache: { outcome: "disk-restore", restoredTokens: 310, restoreMs: 4 } });
    const conversation = fake.addConversation("Genesis", [
      { role: "user", content: "In the beginning", status: "complete", error: null, model: null, settings: null, stats: null },
      { role: "assistant", content: "God created", status: "complete", error: null, model: "m.gguf", settings: null, stats },
    ]);
    const u = userEvent.setup();
    await renderWithClient(fake);
    await u.click(screen.getByText(conversation.title));
    await waitFor(() => expect(screen.getByTestId("status-cache").textContent).toBe("disk restore · 7 ms"));
  });

  it("shows no cache figures without a model", async () => {
    await renderWithClient(new FakeClient({ model: null }));
    expect(screen.queryByTestId("status-cache")).toBeNull();
    expect(screen.queryByTestId("status-cache-disk")).toBeNull();
  });
});

async function openSettings(fake = new FakeClient()) {
  const u = userEvent.setup();
  const h = await renderWithClient(fake);
  await u.click(screen.getByTestId("settings-button"));
  return { ...h, u, section: screen.getByTestId("cache-settings") };
}

describe("settings: conversation cache", () => {
  it("shows the slots now, the memory estimate and the disk usage", async () => {
    const { section } = await openSettings();
    expect(screen.getByRole("group", { name: "Conversation cache" })).toBe(section);
    expect((within(section).getByLabelText("Slots: automatic") as HTMLInputElement).checked).toBe(true);
    expect((within(section).getByLabelText("Slots (slots)") as HTMLInputElement).disabled).toBe(true);
    expect((within(section).getByLabelText("Disk budget (GB)") as HTMLInputElement).value).toBe("2");
    expect(screen.getByTestId("cache-slots-now").textContent).toBe("Now: 4 slots (2 in use) · about 1.5 GB of memory");
    expect(screen.getByTestId("cache-disk-usage").textContent).toBe("On disk: 96.0 MB in 3 saved conversations (budget 2.0 GB)");
  });

  it("saves a fixed slot count and a disk budget, and refuses values out of range", async () => {
    const { u, fake } = await openSettings();
    await u.click(screen.getByLabelText("Slots: automatic"));
    await u.clear(screen.getByLabelText("Slots (slots)"));
    await u.type(screen.getByLabelText("Slots (slots)"), "17");
    await u.clear(screen.getByLabelText("Disk budget (GB)"));
    await u.type(screen.getByLabelText("Disk budget (GB)"), "0.05");
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByText("Slots must be between 1 and 16.")).toBeTruthy();
    expect(screen.getByText("The disk budget must be between 0.1 and 1,000 GB.")).toBeTruthy();
    expect(fake.callsOf("updateSettings")).toEqual([]);

    await u.clear(screen.getByLabelText("Slots (slots)"));
    await u.type(screen.getByLabelText("Slots (slots)"), "3");
    await u.clear(screen.getByLabelText("Disk budget (GB)"));
    await u.type(screen.getByLabelText("Disk budget (GB)"), "0.5");
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect(fake.callsOf("updateSettings")).toEqual([{ cacheSlots: 3, cacheDiskBudgetGB: 0.5 }]);
  });

  it("Clear cache asks first, then clears and shows the emptied disk", async () => {
    const { u, fake } = await openSettings();
    await u.click(screen.getByTestId("clear-cache"));
    const confirm = screen.getByRole("alertdialog", { name: "Clear the conversation cache?" });
    await u.click(within(confirm).getByTestId("confirm-cancel"));
    expect(fake.callsOf("clearCache")).toEqual([]);

    await u.click(screen.getByTestId("clear-cache"));
    await u.click(within(screen.getByRole("alertdialog")).getByTestId("confirm-ok"));
    await waitFor(() => expect(screen.getByTestId("clear-cache-done").textContent).toBe("Cache cleared."));
    expect(fake.callsOf("clearCache")).toEqual([{}]);
    expect(screen.getByTestId("cache-disk-usage").textContent).toBe("On disk: 0 B in 0 saved conversations (budget 2.0 GB)");
    expect(screen.getByTestId("status-cache-disk").textContent).toBe("cache 0 B");
    // The settings dialog stays open: clearing is not part of Save.
    expect(screen.getByRole("dialog", { name: "Settings" })).toBeTruthy();
  });

  it("shows why clearing was refused (a reply is being written)", async () => {
    const fake = new FakeClient();
    fake.failures.set("clearCache", new TandemApiError("BUSY", "A reply is still being written. Wait for it to finish or press Stop, then try again."));
    const { u } = await openSettings(fake);
    await u.click(screen.getByTestId("clear-cache"));
    await u.click(within(screen.getByRole("alertdialog")).getByTestId("confirm-ok"));
    await waitFor(() => expect(screen.getByTestId("clear-cache-error").textContent).toMatch(/A reply is still being written/));
    expect(screen.getByTestId("cache-disk-usage").textContent).toContain("96.0 MB");
  });
});
