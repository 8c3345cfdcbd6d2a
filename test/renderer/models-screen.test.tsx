import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { DraftCandidate } from "../../contracts/window/index.js";
import { FakeClient, libraryFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

const small: DraftCandidate = {
  path: libraryFiles[3].path,
  name: libraryFiles[3].name,
  sizeBytes: libraryFiles[3].sizeBytes,
  parameters: 4.94e8,
  compatible: true,
  reason: "The smallest compatible draft.",
  recommended: true,
};
const gemma: DraftCandidate = {
  path: libraryFiles[2].path,
  name: libraryFiles[2].name,
  sizeBytes: libraryFiles[2].sizeBytes,
  parameters: 1e9,
  compatible: false,
  reason: "The draft model has 262144 tokens in its vocabulary and the target has 152064.",
  recommended: false,
};

async function openScreen() {
  const u = userEvent.setup();
  const fake = new FakeClient();
  fake.files = [...libraryFiles];
  fake.draftCandidates = [small, gemma];
  const harness = await renderWithClient(fake);
  await u.click(screen.getByTestId("model-picker"));
  await u.click(screen.getByTestId("open-models-screen"));
  const dialog = await screen.findByTestId("models-screen");
  await waitFor(() => expect(within(dialog).getAllByTestId("models-row")).toHaveLength(5));
  return { u, fake, harness, dialog };
}

const row = (dialog: HTMLElement, name: string) => within(within(dialog).getByTestId("models-table")).getByRole("button", { name });
const names = (dialog: HTMLElement) => within(dialog).getAllByTestId("models-row").map((r) => r.querySelector("td button")?.textContent);

describe("Models screen", () => {
  it("opens from the model picker with the library table", async () => {
    const { dialog } = await openScreen();
    expect(screen.queryByTestId("model-menu")).toBeNull();
    const first = within(dialog).getAllByTestId("models-row")[0];
    expect(first.textContent).toContain("gemma-3-1b-it-q4_0.gguf");
    expect(first.textContent).toContain("gemma3");
    expect(first.textContent).toContain("1.0B");
    expect(first.textContent).toContain("Q4_0");
    expect(first.textContent).toContain("32768");
    const unreadable = within(dialog).getAllByTestId("models-row").find((r) => r.textContent?.includes("notes.gguf"));
    expect(unreadable?.textContent).toContain("unreadable");
  });

  it("sorts by a column (again: descending) and filters", async () => {
    const { u, dialog } = await openScreen();
    await u.click(within(dialog).getByTestId("sort-parameters"));
    expect(names(dialog)).toEqual([
      "qwen2.5-0.5b-instruct-q8_0.gguf",
      "gemma-3-1b-it-q4_0.gguf",
      "llama-3.2-3b-instruct-q8_0.gguf",
      "qwen2.5-7b-instruct-q4_k_m.gguf",
      "notes.gguf",
    ]);
    await u.click(within(dialog).getByTestId("sort-parameters"));
    expect(names(dialog)[0]).toBe("notes.gguf");
    expect(names(dialog)[1]).toBe("qwen2.5-7b-instruct-q4_k_m.gguf");
    await u.click(within(dialog).getByTestId("sort-sizeBytes"));
    expect(names(dialog)[0]).toBe("notes.gguf");

    await u.type(within(dialog).getByTestId("models-filter"), "qwen");
    expect(names(dialog)).toEqual(["qwen2.5-0.5b-instruct-q8_0.gguf", "qwen2.5-7b-instruct-q4_k_m.gguf"]);
    await u.clear(within(dialog).getByTestId("models-filter"));
    await u.type(within(dialog).getByTestId("models-filter"), "q8_0");
    expect(names(dialog)).toEqual(["qwen2.5-0.5b-instruct-q8_0.gguf", "llama-3.2-3b-instruct-q8_0.gguf"]); // by size
  });

  it("shows the details of the selected model and uses it as the model", async () => {
    const { u, fake, dialog } = await openScreen();
    await u.click(row(dialog, "llama-3.2-3b-instruct-q8_0.gguf"));
    const details = within(dialog).getByTestId("model-details");
    for (const text of ["llama", "3.2B", "Q8_0", "131,072 tokens", "gpt2, 128,256 tokens", "bos 128000, eos 128009, eot 128009", "Llama3_2Lightweight"]) {
      expect(details.textContent).toContain(text);
    }
    await u.click(within(details).getByTestId("use-as-model"));
    expect(fake.callsOf("loadModel")).toEqual([{ path: libraryFiles[1].path }]);
  });

  it("lists the loaded target's drafts, recommends the smallest, and offers only compatible ones", async () => {
    const { u, fake, dialog } = await openScreen();
    const drafts = within(dialog).getByTestId("compatible-drafts");
    await waitFor(() => expect(within(drafts).getAllByTestId("draft-candidate")).toHaveLength(2));
    expect(fake.callsOf("compatibleDrafts")[0]).toEqual({ targetPath: libraryFiles[0].path });
    expect(within(drafts).getByTestId("recommended-draft").textContent).toContain("qwen2.5-0.5b-instruct-q8_0.gguf");
    expect(drafts.textContent).toContain("262144 tokens in its vocabulary");

    await u.click(row(dialog, "gemma-3-1b-it-q4_0.gguf"));
    let details = within(dialog).getByTestId("model-details");
    expect((within(details).getByTestId("use-as-draft") as HTMLButtonElement).disabled).toBe(true);
    expect(within(details).getByTestId("draft-blocked").textContent).toContain("262144 tokens in its vocabulary");

    await u.click(row(dialog, "qwen2.5-0.5b-instruct-q8_0.gguf"));
    details = within(dialog).getByTestId("model-details");
    const useAsDraft = within(details).getByTestId("use-as-draft") as HTMLButtonElement;
    expect(useAsDraft.disabled).toBe(false);
    await u.click(useAsDraft);
    expect(fake.callsOf("setDraftModel")).toEqual([{ path: libraryFiles[3].path }]);
  });

  it("explains an unreadable file and offers neither button", async () => {
    const { u, dialog } = await openScreen();
    await u.click(row(dialog, "notes.gguf"));
    const details = within(dialog).getByTestId("model-details");
    expect(details.textContent).toContain("is not a GGUF model");
    expect((within(details).getByTestId("use-as-model") as HTMLButtonElement).disabled).toBe(true);
    expect((within(details).getByTestId("use-as-draft") as HTMLButtonElement).disabled).toBe(true);
  });

  it("names the main folder once (in Library folders), and speaks of the library, not one folder", async () => {
    const { dialog } = await openScreen();
    expect(within(dialog).getAllByText("/models")).toHaveLength(1);
    expect(within(within(dialog).getByTestId("library-folders")).getByText("/models")).toBeTruthy();
    const drafts = within(dialog).getByTestId("compatible-drafts");
    await waitFor(() => expect(within(drafts).getAllByTestId("draft-candidate")).toHaveLength(2));
  });

  it("an empty library, no other model, no compatible draft: worded for a library of several folders", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    fake.files = [];
    fake.draftCandidates = [];
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    expect((await screen.findByTestId("model-menu")).textContent).toContain("No GGUF models in your library.");
    await u.click(screen.getByTestId("open-models-screen"));
    const dialog = await screen.findByTestId("models-screen");
    expect(await within(dialog).findByText("No GGUF models in your library.")).toBeTruthy();
    expect(await within(dialog).findByText("No other models in your library.")).toBeTruthy();
    expect(dialog.textContent).not.toContain("this folder");
  });

  it("says so when none of the other models is a compatible draft", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    fake.files = [...libraryFiles];
    fake.draftCandidates = [gemma];
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    await u.click(screen.getByTestId("open-models-screen"));
    const drafts = within(await screen.findByTestId("models-screen")).getByTestId("compatible-drafts");
    await waitFor(() => expect(within(drafts).getAllByTestId("draft-candidate")).toHaveLength(1));
    expect(drafts.textContent).toContain("No compatible draft in your library.");
  });

  it("closes on Escape", async () => {
    const { u } = await openScreen();
    await u.keyboard("{Escape}");
    expect(screen.queryByTestId("models-screen")).toBeNull();
  });
});

describe("Models screen: import and delete", () => {
  it("imports a typed path (copy or link) and lists the new file", async () => {
    const { u, fake, dialog } = await openScreen();
    await u.type(within(dialog).getByTestId("import-path"), "/downloads/new-model.gguf");
    await u.selectOptions(within(dialog).getByTestId("import-mode"), "link");
    await u.click(within(dialog).getByTestId("import-submit"));
    expect((await within(dialog).findByTestId("import-result")).textContent).toContain("Imported new-model.gguf (linked).");
    expect(fake.callsOf("importModel")).toEqual([{ path: "/downloads/new-model.gguf", mode: "link" }]);
    await waitFor(() => expect(within(dialog).getAllByTestId("models-row")).toHaveLength(6));
    expect((within(dialog).getByTestId("import-path") as HTMLInputElement).value).toBe("");
  });

  it("shows the host's reason when a file is refused", async () => {
    const { u, dialog } = await openScreen();
    await u.type(within(dialog).getByTestId("import-path"), "/downloads/notes.txt");
    await u.click(within(dialog).getByTestId("import-submit"));
    const result = await within(dialog).findByTestId("import-result");
    expect((result).textContent).toMatch(/not a GGUF file/);
    expect(result.getAttribute("role")).toBe("alert");
    expect(within(dialog).getAllByTestId("models-row")).toHaveLength(5);
  });

  it("Import… uses the app's file chooser; web mode has only the path field", async () => {
    const { u, fake, dialog } = await openScreen();
    await u.click(within(dialog).getByTestId("import-choose"));
    expect((await within(dialog).findByTestId("import-result")).textContent).toContain("Imported picked.gguf (copied).");
    expect(fake.callsOf("importModel")).toEqual([{ path: "/downloads/picked.gguf", mode: "copy" }]);

    const web = new FakeClient({ mode: "web" });
    expect(web.appInfo.canPickFile).toBe(false);
  });

  it("imports a file dropped onto the window with a file:// URI, and explains a drop without a path", async () => {
    const { fake, dialog } = await openScreen();
    const drop = (data: Record<string, string>) => {
      const event = new Event("drop", { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown };
      event.dataTransfer = { getData: (type: string) => data[type] ?? "" };
      window.dispatchEvent(event);
    };
    drop({ "text/uri-list": "file:///home/me/My%20Models/dropped.gguf\r\n" });
    // The window's drop zone (App) imports it and says so; the library updates.
    expect((await screen.findByTestId("drop-result")).textContent).toContain("Imported dropped.gguf");
    expect(fake.callsOf("importModel")).toEqual([{ path: "/home/me/My Models/dropped.gguf", mode: "copy" }]);
    expect(within(dialog).getAllByTestId("models-row").some((r) => r.textContent?.includes("dropped.gguf"))).toBe(true);
    drop({});
    await waitFor(() => expect(screen.getByTestId("drop-result").textContent).toMatch(/type its path/));
  });

  it("deletes a row after confirmation; cancel keeps it; Delete is disabled on the loaded model, with the reason", async () => {
    const { u, fake, dialog } = await openScreen();
    const rowOf = (name: string) => within(dialog).getAllByTestId("models-row").find((r) => r.textContent?.includes(name))!;
    const victim = libraryFiles.find((f) => f.path !== fake.status.model?.modelPath && !f.error)!;
    await u.click(within(rowOf(victim.name)).getByTestId("delete-model"));
    const confirm = await screen.findByTestId("confirm-dialog");
    expect(confirm.textContent).toContain(`Delete ${victim.name}?`);
    expect(within(confirm).getByTestId("delete-confirm-text").textContent).toMatch(/^The file \(.+\) is removed from \/models, with its learned n-gram table/);
    await u.click(within(confirm).getByTestId("confirm-cancel"));
    expect(fake.callsOf("deleteModel")).toEqual([]);

    await u.click(within(rowOf(victim.name)).getByTestId("delete-model"));
    await u.click(within(await screen.findByTestId("confirm-dialog")).getByTestId("confirm-ok"));
    await waitFor(() => expect(within(dialog).getAllByTestId("models-row")).toHaveLength(4));
    expect(fake.callsOf("deleteModel")).toEqual([{ path: victim.path }]);

    // The loaded model: Delete is disabled before anything is confirmed, and says why (tooltip and description).
    const loaded = fake.files.find((f) => f.path === fake.status.model?.modelPath)!;
    const blocked = within(rowOf(loaded.name)).getByTestId("delete-model") as HTMLButtonElement;
    expect(blocked.disabled).toBe(true);
    expect(blocked.title).toMatch(/^This is the loaded chat model: load another model first/);
    expect(document.getElementById(blocked.getAttribute("aria-describedby")!)?.textContent).toBe(blocked.title);
    await u.click(blocked);
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(within(dialog).getAllByTestId("models-row")).toHaveLength(4);
  });

  it("disables Delete on the loaded draft too, and Use as model on it (it would draft for itself)", async () => {
    const { u, fake, dialog } = await openScreen();
    const draft = libraryFiles[3];
    await act(async () => void (await fake.setDraftModel({ path: draft.path })));
    const draftRow = within(dialog).getAllByTestId("models-row").find((r) => r.textContent?.includes(draft.name))!;
    const del = within(draftRow).getByTestId("delete-model") as HTMLButtonElement;
    expect(del.disabled).toBe(true);
    expect(del.title).toMatch(/^This is the loaded draft model/);
    await u.click(row(dialog, draft.name));
    const details = await within(dialog).findByTestId("model-details");
    expect((within(details).getByTestId("use-as-model") as HTMLButtonElement).disabled).toBe(true);
    expect(within(details).getByTestId("model-blocked").textContent).toMatch(/draft model: as the chat model it would draft for itself/);
  });

  it("shows which folder each file is in when two folders hold the same file name", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    const twin = { ...libraryFiles[3], folder: "/models" };
    fake.files = [libraryFiles[0], twin, { ...twin, path: "/mnt/big/qwen2.5-0.5b-instruct-q8_0.gguf", folder: "/mnt/big" }];
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    // The picker: both rows, told apart by their folder.
    await waitFor(() => expect(screen.getAllByTestId("model-option")).toHaveLength(3));
    expect(screen.getAllByTestId("model-option-folder").map((e) => e.textContent)).toEqual(["in /models", "in /mnt/big"]);
    await u.click(screen.getByTestId("open-models-screen"));
    const dialog = await screen.findByTestId("models-screen");
    await waitFor(() => expect(within(dialog).getAllByTestId("models-row")).toHaveLength(3));
    expect(within(dialog).getAllByTestId("model-folder").map((e) => e.textContent)).toEqual(["in /models", "in /mnt/big"]);
  });
});
