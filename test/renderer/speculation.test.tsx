import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Message } from "../../contracts/window/index.js";
import { benchReport, draftInfo, FakeClient, makeSpecStats, makeStats, modelFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

type Seed = Omit<Message, "id" | "conversationId" | "createdAt">;
const base = { error: null, model: null, settings: null, stats: null } as const;
const user = (content: string): Seed => ({ ...base, role: "user", content, status: "complete" });
const assistant = (content: string, extra: Partial<Seed> = {}): Seed => ({ ...base, role: "assistant", content, status: "complete", ...extra });

async function openChat(fake: FakeClient, seeds: Seed[] = []) {
  const c = fake.addConversation("Chat", seeds);
  const h = await renderWithClient(fake);
  await act(() => h.actions.selectConversation(c.id));
  return { ...h, conversation: c, u: userEvent.setup() };
}

const optionTexts = (select: HTMLElement) => [...(select as HTMLSelectElement).options].map((o) => o.textContent);

describe("chat header speculation selector", () => {
  it("shows the effective default and sets the conversation's mode", async () => {
    const fake = new FakeClient({ settings: { speculation: "lookup" } });
    const { u, conversation } = await openChat(fake);
    const select = screen.getByTestId("speculation-select") as HTMLSelectElement;
    expect(select.value).toBe("");
    expect(optionTexts(select)).toEqual([
      "Default (Prompt lookup)",
      "Off",
      "Auto",
      "Draft model (none loaded)",
      "Prompt lookup",
      "Learned n-grams",
    ]);

    await u.selectOptions(select, "ngram");
    expect(fake.callsOf("setConversationSpeculation")).toEqual([{ id: conversation.id, mode: "ngram" }]);
    await waitFor(() => expect(select.value).toBe("ngram"));
    await u.selectOptions(select, "");
    expect(fake.callsOf("setConversationSpeculation").at(-1)).toEqual({ id: conversation.id, mode: null });
    await waitFor(() => expect(select.value).toBe(""));

    // The default's label follows the settings.
    act(() => fake.emit("settingsChanged", { ...fake.settings, speculation: "off" }));
    expect(select.options[0].textContent).toBe("Default (Off)");
  });

  it("offers Draft model only when a draft is loaded", async () => {
    const fake = new FakeClient();
    await openChat(fake);
    const select = screen.getByTestId("speculation-select") as HTMLSelectElement;
    const draftOption = () => [...select.options].find((o) => o.value === "draft")!;
    expect(draftOption().disabled).toBe(true);
    expect(draftOption().title).toMatch(/Settings/);
    act(() => fake.setStatus({ draftModel: draftInfo() }));
    expect(draftOption().disabled).toBe(false);
    expect(draftOption().textContent).toBe("Draft model");
  });

  it("sets the new chat's mode before it is stored, applied when its first message creates it", async () => {
    const fake = new FakeClient();
    const { actions } = await renderWithClient(fake);
    const u = userEvent.setup();
    const select = screen.getByTestId("speculation-select") as HTMLSelectElement;
    await u.selectOptions(select, "lookup");
    expect(select.value).toBe("lookup");
    expect(fake.callsOf("createConversation")).toHaveLength(0);
    await act(async () => void (await actions.send("Hello")));
    const [conversation] = [...fake.conversations.values()];
    expect(fake.callsOf("setConversationSpeculation")).toEqual([{ id: conversation!.id, mode: "lookup" }]);
    expect(fake.callsOf("sendMessage")).toHaveLength(1);
    await waitFor(() => expect((screen.getByTestId("speculation-select") as HTMLSelectElement).value).toBe("lookup"));
    // The next new chat starts from the default again.
    await act(() => actions.newChat());
    expect((screen.getByTestId("speculation-select") as HTMLSelectElement).value).toBe("");
  });
});

describe("settings: speculative decoding", () => {
  async function openSettings(fake: FakeClient) {
    const h = await openChat(fake);
    await h.u.click(screen.getByTestId("settings-button"));
    screen.getByRole("dialog", { name: "Settings" });
    return h;
  }

  it("does not offer the chat model's copy in another folder, and tells same-named files apart by folder", async () => {
    const fake = new FakeClient();
    const target = modelFiles[0];
    const copy = { ...target, path: `/mnt/other/${target.name}`, folder: "/mnt/other" };
    const gemma = { ...modelFiles[2], folder: "/models" };
    const gemmaElsewhere = { ...gemma, path: `/mnt/other/${gemma.name}`, folder: "/mnt/other", sizeBytes: 1 };
    fake.files = [target, copy, gemma, gemmaElsewhere];
    await openSettings(fake);
    const select = screen.getByTestId("draft-model-select") as HTMLSelectElement;
    expect(optionTexts(select)).toEqual(["None", `${gemma.name} — in /models`, `${gemma.name} — in /mnt/other`]);
  });

  it("lists the models folder except the chat model and shows a refused draft's error inline", async () => {
    const fake = new FakeClient();
    const incompatible = { path: "/models/phi-incompatible.gguf", name: "phi-incompatible.gguf", sizeBytes: 1e9, modifiedAt: 4 };
    fake.files = [...modelFiles, incompatible];
    const { u } = await openSettings(fake);
    const select = screen.getByTestId("draft-model-select") as HTMLSelectElement;
    expect(optionTexts(select)).toEqual(["None", "gemma-3-1b-it-q4_0.gguf", "llama-3.2-3b-instruct-q8_0.gguf", "phi-incompatible.gguf"]);
    expect(select.value).toBe("");

    await u.selectOptions(select, incompatible.path);
    const error = await screen.findByTestId("draft-model-error");
    expect(error.textContent).toBe(
      "phi-incompatible.gguf: The draft model's tokenizer differs from the target's: vocabulary size 32000 vs 151936",
    );
    expect(fake.callsOf("setDraftModel")).toEqual([{ path: incompatible.path }]);
    // Nothing changed: the menu is back on the saved choice.
    expect(select.value).toBe("");
    expect(fake.settings.draftModelPath).toBeNull();
    expect(screen.queryByTestId("status-draft")).toBeNull();

    await u.selectOptions(select, modelFiles[2].path);
    await waitFor(() => expect(screen.queryByTestId("draft-model-error")).toBeNull());
    expect(select.value).toBe(modelFiles[2].path);
    expect(screen.getByTestId("status-draft").textContent).toBe("Draft: gemma-3-1b-it-q4_0.gguf");

    await u.selectOptions(select, "");
    expect(fake.callsOf("setDraftModel").at(-1)).toEqual({ path: null });
    await waitFor(() => expect(screen.queryByTestId("status-draft")).toBeNull());
    // Applied at once: Save has nothing to send.
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect(fake.callsOf("updateSettings")).toEqual([]);
  });

  it("explains why no draft can be chosen without a chat model, and shows a saved draft's load error", async () => {
    const fake = new FakeClient({ model: null });
    const { u } = await openSettings(fake);
    const section = screen.getByTestId("speculation-settings");
    expect((screen.getByTestId("draft-model-select") as HTMLSelectElement).disabled).toBe(true);
    expect(section.textContent).toContain("Load a chat model first");
    await u.keyboard("{Escape}");

    act(() => {
      fake.settings = { ...fake.settings, draftModelPath: "/other/tiny.gguf" };
      fake.emit("settingsChanged", fake.settings);
      fake.setStatus({ model: null, draftError: "The draft model's tokenizer differs from the target's" });
    });
    await u.click(screen.getByTestId("settings-button"));
    const select = screen.getByTestId("draft-model-select") as HTMLSelectElement;
    expect(select.value).toBe("/other/tiny.gguf");
    expect(screen.getByTestId("draft-model-warning").textContent).toBe("Not loaded: The draft model's tokenizer differs from the target's");
  });

  it("says what the A/B benchmark measured for the loaded model instead of promising faster replies", async () => {
    const fake = new FakeClient();
    const model = fake.status.model!.name;
    fake.benchmarks = [
      { id: "b", createdAt: 1, model, draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup", model, speedup: 0.8 })] },
    ];
    await openSettings(fake);
    const section = screen.getByTestId("speculation-settings");
    expect(section.textContent).not.toMatch(/replies come faster/);
    expect((await within(section).findByTestId("speculation-measured")).textContent).toBe("Measured on this machine: Prompt lookup 20% slower.");
  });

  it("saves the default mode and max draft tokens with the form, within 1–32", async () => {
    const fake = new FakeClient();
    const { u } = await openSettings(fake);
    await u.selectOptions(screen.getByLabelText("Default mode"), "draft");
    await u.clear(screen.getByLabelText("Max draft tokens"));
    await u.type(screen.getByLabelText("Max draft tokens"), "33");
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByRole("alert").textContent).toBe("Max draft tokens must be between 1 and 32.");
    expect(fake.callsOf("updateSettings")).toEqual([]);

    await u.clear(screen.getByLabelText("Max draft tokens"));
    await u.type(screen.getByLabelText("Max draft tokens"), "12");
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect(fake.callsOf("updateSettings")).toEqual([{ speculation: "draft", maxDraftTokens: 12 }]);
  });
});

describe("speculation in the stats line and status bar", () => {
  it("renders acceptance, tokens per step and the speculators, with the raw counts in the tooltip", async () => {
    const spec = makeSpecStats({ stepsBySpeculator: { off: 45, draft: 30, lookup: 10 } });
    await openChat(new FakeClient(), [user("q"), assistant("a", { stats: makeStats({ targetDecodes: 85, speculation: spec }) })]);
    const line = screen.getByTestId("message-spec-stats");
    expect(line.textContent).toBe("63% accepted · +0.89 tokens/step · draft + prompt lookup");
    const tooltip = line.getAttribute("title")!;
    expect(tooltip).toContain("Mode: Draft model");
    expect(tooltip).toContain("Verify steps (the model checking guesses): 40 of 85 decodes · final draft length 4");
    expect(tooltip).toContain("Time: draft 210 ms guessing, verify 1.4 s checking");
    const counts = /(\d+) proposed = (\d+) accepted \+ (\d+) rejected/.exec(tooltip)!.slice(1).map(Number);
    expect(counts).toEqual([spec.proposed, spec.accepted, spec.rejected]);
    expect(counts[0]).toBe(counts[1] + counts[2]);
    // The acceptance shown is accepted / proposed of the same counts.
    expect(line.textContent).toContain(`${Math.round((counts[1] / counts[0]) * 100)}% accepted`);
  });

  it("says when nothing was drafted, and shows nothing for replies that did not speculate", async () => {
    const paused = makeSpecStats({ mode: "auto", proposed: 0, accepted: 0, rejected: 0, acceptanceRate: 0, meanAcceptedPerStep: 0, verifySteps: 0 });
    await openChat(new FakeClient(), [
      user("1"),
      assistant("paused", { stats: makeStats({ speculation: paused }) }),
      user("2"),
      assistant("plain", { stats: makeStats() }),
      user("3"),
      assistant("off", { stats: makeStats({ speculation: makeSpecStats({ mode: "off", proposed: 0, accepted: 0, rejected: 0 }) }) }),
    ]);
    const replies = screen.getAllByTestId("message-assistant");
    expect(within(replies[0]).getByTestId("message-spec-stats").textContent).toBe("nothing drafted");
    expect(within(replies[1]).queryByTestId("message-spec-stats")).toBeNull();
    expect(within(replies[2]).queryByTestId("message-spec-stats")).toBeNull();
  });

  it("shows the loaded draft in the status bar, and a draft error as a warning", async () => {
    const fake = new FakeClient({ draft: modelFiles[2].path });
    await renderWithClient(fake);
    expect(screen.getByTestId("status-draft").textContent).toBe("Draft: gemma-3-1b-it-q4_0.gguf");
    act(() => fake.setStatus({ draftModel: null, draftError: "The draft model file is damaged" }));
    expect(screen.queryByTestId("status-draft")).toBeNull();
    const warning = screen.getByTestId("status-draft-error");
    expect(warning.textContent).toContain("Draft model not loaded");
    expect(warning.getAttribute("title")).toBe("The draft model file is damaged");
  });
});
