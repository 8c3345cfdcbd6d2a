/** The library in the window: live updates, upload (web mode), drag-and-drop import, library folders, origins, HF token. */
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ModelFile } from "../../contracts/window/index.js";
import { ImportModelButton } from "../../renderer/src/components/ImportModelButton.js";
import { FakeClient, libraryFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

const GGUF = new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);

async function openScreen(fake = new FakeClient()) {
  const u = userEvent.setup();
  fake.files = [...libraryFiles];
  const harness = await renderWithClient(fake);
  await u.click(screen.getByTestId("model-picker"));
  await u.click(screen.getByTestId("open-models-screen"));
  const dialog = await screen.findByTestId("models-screen");
  await waitFor(() => expect(within(dialog).getAllByTestId("models-row").length).toBeGreaterThan(0));
  return { u, fake, harness, dialog };
}

const rowNames = (dialog: HTMLElement) => within(dialog).queryAllByTestId("models-row").map((r) => r.querySelector("button")?.textContent);

/** Dispatches a drag event on the window carrying `files` (and text data). */
function drag(type: "dragenter" | "dragover" | "dragleave" | "drop", files: File[], data: Record<string, string> = {}) {
  const event = new Event(type, { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown };
  event.dataTransfer = {
    files,
    types: files.length > 0 ? ["Files"] : Object.keys(data),
    getData: (t: string) => data[t] ?? "",
    dropEffect: "none",
  };
  act(() => {
    window.dispatchEvent(event);
  });
}

afterEach(() => {
  delete window.tandem;
});

describe("live library", () => {
  it("modelsChanged updates the Models screen and the picker without a refresh", async () => {
    const { fake, dialog } = await openScreen();
    const before = fake.callsOf("listModels").length;
    const added: ModelFile = { path: "/models/new-arrival.gguf", name: "new-arrival.gguf", sizeBytes: 5e8, modifiedAt: 9, architecture: "llama", folder: "/models" };
    act(() => fake.emit("modelsChanged", { folder: "/models", folders: ["/models"], models: [...libraryFiles, added] }));
    await waitFor(() => expect(rowNames(dialog)).toContain("new-arrival.gguf"));
    act(() => fake.emit("modelsChanged", { folder: "/models", folders: ["/models"], models: libraryFiles.slice(1) }));
    await waitFor(() => expect(rowNames(dialog)).not.toContain("new-arrival.gguf"));
    expect(rowNames(dialog)).not.toContain(libraryFiles[0].name);
    expect(fake.callsOf("listModels").length).toBe(before);
  });

  it("shows where a file came from in its details", async () => {
    const fake = new FakeClient();
    const { u, dialog } = await openScreen(fake);
    const at = Date.UTC(2026, 10, 20, 12);
    act(() =>
      fake.emit("modelsChanged", {
        folder: "/models",
        folders: ["/models"],
        models: [
          { ...libraryFiles[0], origin: { kind: "downloaded", source: "hf:Qwen/Qwen2.5-7B-Instruct-GGUF:Q4_K_M", at } },
          { ...libraryFiles[1], origin: { kind: "imported", from: "/home/me/llama.gguf", method: "copied", at } },
          { ...libraryFiles[2], origin: { kind: "imported", from: "gemma.gguf", method: "uploaded", at } },
        ],
      }),
    );
    const details = async (name: string) => {
      await u.click(within(dialog).getByRole("button", { name }));
      return (await within(dialog).findByTestId("model-details")).textContent ?? "";
    };
    expect(await details(libraryFiles[0].name)).toContain("Downloaded from hf:Qwen/Qwen2.5-7B-Instruct-GGUF:Q4_K_M on Nov 20, 2026");
    expect(await details(libraryFiles[1].name)).toContain("Imported from /home/me/llama.gguf (copied)");
    expect(await details(libraryFiles[2].name)).toContain("Uploaded from the browser");
  });
});

describe("upload (web mode)", () => {
  it("Upload GGUF… sends the chosen file with progress and the new row appears", async () => {
    const { u, fake, dialog } = await openScreen(new FakeClient({ mode: "web" }));
    expect(within(dialog).queryByTestId("import-choose")).toBeNull();
    const input = within(dialog).getByTestId<HTMLInputElement>("upload-input");
    expect(input.accept).toBe(".gguf");
    await u.upload(input, new File([GGUF], "uploaded-model.gguf"));
    expect((await within(dialog).findByTestId("import-result")).textContent).toContain("Uploaded uploaded-model.gguf.");
    expect(fake.uploads).toEqual([{ name: "uploaded-model.gguf", size: GGUF.length }]);
    await waitFor(() => expect(rowNames(dialog)).toContain("uploaded-model.gguf"));
  });

  it("a file that is not a GGUF is refused with the host's reason", async () => {
    const { u, dialog } = await openScreen(new FakeClient({ mode: "web" }));
    await u.upload(within(dialog).getByTestId("upload-input"), new File(["plain text"], "plain-text.gguf"));
    const result = await within(dialog).findByTestId("import-result");
    expect(result.textContent).toMatch(/not a GGUF file/);
    expect(result.getAttribute("role")).toBe("alert");
    expect(rowNames(dialog)).not.toContain("plain-text.gguf");
  });

  it("the app shows Import… (native chooser) instead", async () => {
    const { dialog } = await openScreen(new FakeClient({ mode: "electron" }));
    expect(within(dialog).queryByTestId("upload-input")).toBeNull();
    expect(within(dialog).getByTestId("import-choose")).toBeTruthy();
  });

  it("ImportModelButton works on its own (for the welcome screen) and reports the new model", async () => {
    const fake = new FakeClient({ mode: "web" });
    const onImported = vi.fn();
    const u = userEvent.setup();
    await renderWithClient(fake, <ImportModelButton onImported={onImported} label="Add a model file" />);
    expect(screen.getByTestId("upload-button").textContent).toBe("Add a model file");
    await u.upload(screen.getByTestId("upload-input"), new File([GGUF], "first.gguf"));
    expect((await screen.findByTestId("import-button-result")).textContent).toContain("Uploaded first.gguf.");
    expect(onImported).toHaveBeenCalledWith(expect.objectContaining({ name: "first.gguf" }));
  });
});

describe("drag and drop", () => {
  it("shows the overlay while files are dragged over the window", async () => {
    await renderWithClient(new FakeClient());
    drag("dragenter", [new File([GGUF], "x.gguf")]);
    expect(screen.getByTestId("drop-overlay").textContent).toBe("Drop a GGUF file to import it");
    drag("dragleave", []);
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
  });

  it("in the app, imports a dropped file by its path (pathForFile)", async () => {
    const pathForFile = vi.fn((file: File) => `/home/me/Downloads/${file.name}`);
    window.tandem = { pathForFile } as unknown as typeof window.tandem;
    const fake = new FakeClient({ mode: "electron" });
    await renderWithClient(fake);
    const file = new File([GGUF], "dropped.gguf");
    drag("dragenter", [file]);
    drag("drop", [file]);
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("drop-result").textContent).toContain("Imported dropped.gguf (copied)."));
    expect(fake.callsOf("importModel")).toEqual([{ path: "/home/me/Downloads/dropped.gguf", mode: "copy" }]);
    expect(pathForFile).toHaveBeenCalledWith(file);
  });

  it("in web mode, uploads a dropped file", async () => {
    const fake = new FakeClient({ mode: "web" });
    await renderWithClient(fake);
    drag("drop", [new File([GGUF], "web-drop.gguf")]);
    await waitFor(() => expect(screen.getByTestId("drop-result").textContent).toContain("Uploaded web-drop.gguf."));
    expect(fake.uploads.map((f) => f.name)).toEqual(["web-drop.gguf"]);
    expect(fake.callsOf("importModel")).toEqual([]);
  });

  it("a file that is not .gguf gets a clear message and nothing is sent", async () => {
    window.tandem = { pathForFile: () => "/tmp/readme.txt" } as unknown as typeof window.tandem;
    const fake = new FakeClient({ mode: "electron" });
    await renderWithClient(fake);
    drag("drop", [new File(["hello"], "readme.txt")]);
    const result = await screen.findByTestId("drop-result");
    expect(result.textContent).toContain('"readme.txt" is not a GGUF model file (.gguf)');
    expect(result.getAttribute("role")).toBe("alert");
    expect(fake.callsOf("importModel")).toEqual([]);
    fireEvent.click(within(result).getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("drop-result")).toBeNull();
  });
});

describe("library folders", () => {
  it("adds a typed folder, lists it with its model count, and removes it; errors are shown", async () => {
    const { u, fake, dialog } = await openScreen(new FakeClient({ mode: "web" }));
    const section = within(dialog).getByTestId("library-folders");
    expect(within(section).getAllByTestId("library-folder").map((li) => li.textContent)).toEqual([expect.stringContaining("main: downloads and imports go here")]);
    expect(within(section).queryByTestId("choose-library-folder")).toBeNull();
    expect(within(section).queryByTestId("remove-library-folder")).toBeNull();

    await u.type(within(section).getByTestId("library-folder-path"), "/mnt/collection");
    await u.click(within(section).getByTestId("add-library-folder"));
    await waitFor(() => expect(within(section).getAllByTestId("library-folder")).toHaveLength(2));
    expect(fake.callsOf("addModelsFolder")).toEqual([{ path: "/mnt/collection" }]);
    expect(within(section).getAllByTestId("library-folder")[1].textContent).toContain("/mnt/collection");

    await u.type(within(section).getByTestId("library-folder-path"), "/missing/folder");
    await u.click(within(section).getByTestId("add-library-folder"));
    expect((await within(section).findByTestId("library-folders-error")).textContent).toContain("does not exist");

    await u.click(within(section).getByRole("button", { name: "Remove /mnt/collection from the library" }));
    await waitFor(() => expect(within(section).getAllByTestId("library-folder")).toHaveLength(1));
    expect(fake.callsOf("removeModelsFolder")).toEqual([{ path: "/mnt/collection" }]);
  });

  it("a file of another library folder: Delete names that folder", async () => {
    const fake = new FakeClient();
    fake.extraFolders = ["/mnt/collection"];
    const extra: ModelFile = { path: "/mnt/collection/big.gguf", name: "big.gguf", sizeBytes: 2e9, modifiedAt: 9, architecture: "llama", folder: "/mnt/collection" };
    const u = userEvent.setup();
    fake.files = [...libraryFiles, extra];
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    await u.click(screen.getByTestId("open-models-screen"));
    const dialog = await screen.findByTestId("models-screen");
    const row = await within(dialog).findByRole("button", { name: "Delete big.gguf" });
    await u.click(row);
    const confirm = await screen.findByTestId("confirm-dialog");
    expect(within(confirm).getByTestId("delete-confirm-text").textContent).toContain("is removed from /mnt/collection, with its learned n-gram table");
  });

  it("in the app, Add folder… opens the chooser", async () => {
    const fake = new FakeClient({ mode: "electron" });
    fake.pickedLibraryFolder = "/Volumes/Models";
    const { u, dialog } = await openScreen(fake);
    const section = within(dialog).getByTestId("library-folders");
    await u.click(within(section).getByTestId("choose-library-folder"));
    await waitFor(() => expect(within(section).getAllByTestId("library-folder")).toHaveLength(2));
    expect(fake.callsOf("chooseLibraryFolder")).toEqual([{}]);
  });
});

describe("Hugging Face token", () => {
  it("saves and removes the token without ever showing it, and says where it is kept", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient({ mode: "electron" });
    await renderWithClient(fake);
    await u.click(screen.getByTestId("settings-button"));
    const section = await screen.findByTestId("hf-token-section");
    expect((await within(section).findByTestId("hf-token-status")).textContent).toMatch(/Not set/);
    const input = within(section).getByTestId<HTMLInputElement>("hf-token-input");
    expect(input.type).toBe("password");
    await u.type(input, "hf_secretvalue");
    await u.click(within(section).getByTestId("hf-token-save"));
    await waitFor(() => expect(within(section).getByTestId("hf-token-status").textContent).toBe("Stored in the OS keychain"));
    expect(fake.callsOf("setHfToken")).toEqual([{ token: "hf_secretvalue" }]);
    expect(input.value).toBe("");
    expect(document.body.textContent).not.toContain("hf_secretvalue");

    await u.click(within(section).getByTestId("hf-token-remove"));
    await waitFor(() => expect(within(section).getByTestId("hf-token-status").textContent).toMatch(/Not set/));
    expect(fake.callsOf("setHfToken")).toEqual([{ token: "hf_secretvalue" }, { token: null }]);
  });

  it("keeps the focus in the dialog after Save and Remove (they turn disabled), so Escape still closes it", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient({ mode: "web" });
    await renderWithClient(fake);
    await u.click(screen.getByTestId("settings-button"));
    const section = await screen.findByTestId("hf-token-section");
    const input = within(section).getByTestId<HTMLInputElement>("hf-token-input");
    await u.type(input, "hf_secretvalue");
    await u.click(within(section).getByTestId("hf-token-save"));
    await waitFor(() => expect(within(section).getByTestId("hf-token-status").textContent).toBe("Stored in a file in the data folder"));
    expect(within(section).getByTestId<HTMLButtonElement>("hf-token-save").disabled).toBe(true);
    expect(document.activeElement).toBe(input);

    await u.click(within(section).getByTestId("hf-token-remove"));
    await waitFor(() => expect(within(section).getByTestId<HTMLButtonElement>("hf-token-remove").disabled).toBe(true));
    expect(document.activeElement).toBe(input);
    await u.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByTestId("hf-token-section")).toBeNull());
  });

  it("names the other places a token can come from", async () => {
    const fake = new FakeClient({ mode: "web" });
    fake.hfToken = { set: true, storage: "env" };
    const u = userEvent.setup();
    await renderWithClient(fake);
    await u.click(screen.getByTestId("settings-button"));
    const section = await screen.findByTestId("hf-token-section");
    expect((await within(section).findByTestId("hf-token-status")).textContent).toBe("From $HF_TOKEN");
    expect(within(section).getByTestId<HTMLButtonElement>("hf-token-remove").disabled).toBe(true);
    await u.type(within(section).getByTestId("hf-token-input"), "hf_x");
    await u.click(within(section).getByTestId("hf-token-save"));
    await waitFor(() => expect(within(section).getByTestId("hf-token-status").textContent).toBe("Stored in a file in the data folder"));
  });
});
