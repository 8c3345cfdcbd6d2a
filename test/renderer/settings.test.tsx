import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { TandemApiError } from "../../contracts/window/index.js";
import { FakeClient } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

async function openSettings(fake = new FakeClient()) {
  const u = userEvent.setup();
  const h = await renderWithClient(fake);
  await u.click(screen.getByTestId("settings-button"));
  screen.getByRole("dialog", { name: "Settings" });
  return { ...h, u };
}

describe("settings dialog", () => {
  it("shows the current settings and saves only what changed", async () => {
    const { u, fake } = await openSettings();
    expect((screen.getByLabelText("System prompt") as HTMLTextAreaElement).value).toBe("You are a helpful assistant.");
    expect((screen.getByLabelText("Temperature") as HTMLInputElement).value).toBe("0.7");
    expect((screen.getByLabelText("Context size: automatic") as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText("Context size (tokens)") as HTMLInputElement).disabled).toBe(true);

    await u.clear(screen.getByLabelText("System prompt"));
    await u.type(screen.getByLabelText("System prompt"), "Be brief.");
    await u.clear(screen.getByLabelText("Temperature"));
    await u.type(screen.getByLabelText("Temperature"), "0.2");
    await u.click(screen.getByLabelText("Threads: automatic"));
    await u.clear(screen.getByLabelText("Threads (threads)"));
    await u.type(screen.getByLabelText("Threads (threads)"), "6");
    await u.selectOptions(screen.getByLabelText("GPU backend"), "vulkan");
    await u.selectOptions(screen.getByLabelText("Theme"), "dark");
    await u.click(screen.getByRole("button", { name: "Save" }));

    expect(fake.callsOf("updateSettings")).toEqual([{ systemPrompt: "Be brief.", temperature: 0.2, threads: 6, gpu: "vulkan", theme: "dark" }]);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    // The theme applies at once.
    expect(document.documentElement.dataset.theme).toBe("dark");
  });

  it("shows validation errors and does not save invalid values", async () => {
    const { u, fake } = await openSettings();
    await u.clear(screen.getByLabelText("Temperature"));
    await u.type(screen.getByLabelText("Temperature"), "3");
    await u.clear(screen.getByLabelText("Max tokens"));
    await u.type(screen.getByLabelText("Max tokens"), "0");
    await u.click(screen.getByLabelText("Context size: automatic"));
    await u.clear(screen.getByLabelText("Context size (tokens)"));
    await u.type(screen.getByLabelText("Context size (tokens)"), "8");
    await u.click(screen.getByRole("button", { name: "Save" }));

    const errors = screen.getAllByRole("alert").map((a) => a.textContent);
    expect(errors).toEqual([
      "Temperature must be between 0 and 2.",
      "Max tokens must be between 1 and 32,768.",
      "Context size must be between 16 and 1,048,576.",
    ]);
    expect(fake.callsOf("updateSettings")).toEqual([]);
    expect(screen.getByRole("dialog", { name: "Settings" })).toBeTruthy();
  });

  it("shows the host's error when saving fails and stays open", async () => {
    const { u, fake } = await openSettings();
    fake.failures.set("updateSettings", new TandemApiError("BAD_REQUEST", "maxTokens: too big for this model"));
    await u.clear(screen.getByLabelText("Max tokens"));
    await u.type(screen.getByLabelText("Max tokens"), "4096");
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByTestId("settings-error")).textContent).toBe("maxTokens: too big for this model");
    expect(screen.getByRole("dialog", { name: "Settings" })).toBeTruthy();
  });

  it("closes on Escape without saving", async () => {
    const { u, fake } = await openSettings();
    await u.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(fake.callsOf("updateSettings")).toEqual([]);
  });

  it("asks before Escape or a click outside discards unsaved edits", async () => {
    const { u, fake } = await openSettings();
    await u.type(screen.getByLabelText("System prompt"), " extra");
    await u.keyboard("{Escape}");
    const confirm = screen.getByRole("alertdialog", { name: "Discard changes?" });
    // Keep editing: the edit is still there.
    await u.click(within(confirm).getByRole("button", { name: "Keep editing" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect((screen.getByLabelText("System prompt") as HTMLTextAreaElement).value).toBe("You are a helpful assistant. extra");
    // A click on the backdrop asks too; Discard closes without saving.
    await u.pointer({ keys: "[MouseLeft]", target: document.querySelector(".modal-backdrop")! });
    await u.click(within(screen.getByRole("alertdialog", { name: "Discard changes?" })).getByRole("button", { name: "Discard" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(fake.callsOf("updateSettings")).toEqual([]);
  });

  it("moves focus to the first invalid field when Save fails validation", async () => {
    const { u } = await openSettings();
    await u.clear(screen.getByLabelText("Max tokens"));
    await u.type(screen.getByLabelText("Max tokens"), "0");
    await u.click(screen.getByLabelText("Slots: automatic"));
    await u.clear(screen.getByLabelText("Slots (slots)"));
    await u.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText("Max tokens")));
  });

  it("moves focus to the host's error when saving fails", async () => {
    const { u, fake } = await openSettings();
    fake.failures.set("updateSettings", new TandemApiError("BAD_REQUEST", "maxTokens: too big for this model"));
    await u.clear(screen.getByLabelText("Max tokens"));
    await u.type(screen.getByLabelText("Max tokens"), "4096");
    await u.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("settings-error")));
  });

  it("shows what Auto came to for the loaded model, not made-up numbers, and has one Save button", async () => {
    const { u } = await openSettings();
    const ctx = screen.getByLabelText<HTMLInputElement>("Context size (tokens)");
    const threads = screen.getByLabelText<HTMLInputElement>("Threads (threads)");
    const slots = screen.getByLabelText<HTMLInputElement>("Slots (slots)");
    // The fake engine's loaded model: 8192 context, 8 threads, 4 cache slots.
    expect([ctx.placeholder, threads.placeholder, slots.placeholder]).toEqual(["8192", "8", "4"]);
    expect([ctx.value, threads.value, slots.value]).toEqual(["", "", ""]);
    // Auto off starts from that value.
    await u.click(screen.getByLabelText("Threads: automatic"));
    expect(threads.value).toBe("8");
    expect(screen.getAllByRole("button", { name: /save/i }).map((b) => b.textContent)).toEqual(["Save"]);
  });

  it("says Auto without a loaded model", async () => {
    await openSettings(new FakeClient({ model: null }));
    expect(screen.getByLabelText<HTMLInputElement>("Context size (tokens)").placeholder).toBe("Auto");
    expect(screen.getByLabelText<HTMLInputElement>("Slots (slots)").placeholder).toBe("Auto");
  });
});
