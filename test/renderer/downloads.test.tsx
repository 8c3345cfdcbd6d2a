import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { TandemApiError } from "../../contracts/window/index.js";
import { MODEL_CATALOG } from "../../renderer/src/model-catalog.js";
import { FakeClient, libraryFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

async function openScreen(fake = new FakeClient()) {
  const u = userEvent.setup();
  fake.files = [...libraryFiles];
  const h = await renderWithClient(fake);
  await u.click(screen.getByTestId("model-picker"));
  await u.click(screen.getByTestId("open-models-screen"));
  const dialog = await screen.findByTestId("models-screen");
  const section = within(dialog).getByTestId("downloads-section");
  return { u, fake, dialog, section, actions: h.actions };
}

const MB = 1024 ** 2;

describe("Models screen downloads", () => {
  it("starts a download from the field and shows its progress (bytes, speed, ETA)", async () => {
    const { u, fake, section } = await openScreen();
    expect(fake.callsOf("listDownloads")).toHaveLength(1);
    expect((within(section).getByTestId("download-start") as HTMLButtonElement).disabled).toBe(true);
    await u.type(within(section).getByTestId("download-source"), "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0");
    await u.click(within(section).getByTestId("download-start"));
    expect(fake.callsOf("startDownload")).toEqual([{ source: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0" }]);
    expect((within(section).getByTestId("download-source") as HTMLInputElement).value).toBe("");
    const card = await within(section).findByTestId("download-card");
    const id = [...fake.downloads.keys()][0];

    act(() => {
      fake.progressDownload(id, { receivedBytes: 100 * MB, totalBytes: 400 * MB, bytesPerSecond: 10 * MB, etaSeconds: 90 });
    });
    expect(within(card).getByTestId("download-state").textContent).toBe("Downloading · 25%");
    expect(within(card).getByTestId("download-details").textContent).toBe("100 MB of 400 MB · 10.0 MB/s · 1 min 30 s left");
    expect(within(card).getByRole("progressbar").getAttribute("value")).toBe("0.25");
  });

  it("says it is waiting for the server while no bytes arrive (speed 0), and shows the speed again when they do", async () => {
    const { u, fake, section } = await openScreen();
    await u.type(within(section).getByTestId("download-source"), "https://example.com/m.gguf");
    await u.click(within(section).getByTestId("download-start"));
    const card = await within(section).findByTestId("download-card");
    const id = [...fake.downloads.keys()][0];
    act(() => {
      fake.progressDownload(id, { receivedBytes: 100 * MB, totalBytes: 400 * MB, bytesPerSecond: 10 * MB, etaSeconds: 30 });
    });
    expect(within(card).getByTestId("download-details").textContent).toBe("100 MB of 400 MB · 10.0 MB/s · 30 s left");
    act(() => {
      fake.progressDownload(id, { bytesPerSecond: 0, etaSeconds: null });
    });
    expect(within(card).getByTestId("download-details").textContent).toBe("100 MB of 400 MB · Waiting for the server…");
    expect(within(card).getByTestId("download-state").textContent).toBe("Downloading · 25%");
    act(() => {
      fake.progressDownload(id, { receivedBytes: 200 * MB, bytesPerSecond: 5 * MB, etaSeconds: 40 });
    });
    expect(within(card).getByTestId("download-details").textContent).toBe("200 MB of 400 MB · 5.0 MB/s · 40 s left");
    act(() => {
      fake.progressDownload(id, { state: "paused", bytesPerSecond: 0, etaSeconds: null });
    });
    expect(within(card).getByTestId("download-details").textContent).toBe("200 MB of 400 MB"); // paused: not waiting
  });

  it("after a lost connection comes back, the host's list replaces missed progress, and a later event wins over it", async () => {
    const { u, fake, dialog, section, actions } = await openScreen();
    await u.type(within(section).getByTestId("download-source"), "https://example.com/m.gguf");
    await u.click(within(section).getByTestId("download-start"));
    const id = [...fake.downloads.keys()][0];
    act(() => {
      fake.progressDownload(id, { receivedBytes: 100 * MB, totalBytes: 400 * MB, bytesPerSecond: 10 * MB, etaSeconds: 30 });
    });
    expect(within(await within(section).findByTestId("download-card")).getByTestId("download-state").textContent).toBe("Downloading · 25%");
    await u.click(within(dialog).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByTestId("models-screen")).toBeNull());
    // Events missed (a lost connection): the host moved on without the window hearing of it. When the connection
    // comes back, the window fetches everything again (the subscriber's onReconnected runs loadInitial).
    fake.downloads.set(id, { ...fake.downloads.get(id)!, state: "paused", receivedBytes: 300 * MB, bytesPerSecond: 0, etaSeconds: null });
    await act(() => actions.loadInitial());

    await u.click(screen.getByTestId("model-picker"));
    await u.click(screen.getByTestId("open-models-screen"));
    const reopened = within(await screen.findByTestId("models-screen")).getByTestId("downloads-section");
    const card = await within(reopened).findByTestId("download-card");
    await waitFor(() => expect(card.dataset.state).toBe("paused"));
    expect(within(card).getByTestId("download-state").textContent).toBe("Paused · 75%");
    expect(within(card).getByTestId("download-details").textContent).toBe("300 MB of 400 MB");
    expect(within(reopened).getAllByTestId("download-card")).toHaveLength(1);

    act(() => {
      fake.progressDownload(id, { state: "downloading", receivedBytes: 320 * MB, bytesPerSecond: 8 * MB, etaSeconds: 10 });
    });
    expect(within(card).getByTestId("download-state").textContent).toBe("Downloading · 80%");
  });

  it("shows the host's refusal", async () => {
    const { u, section } = await openScreen();
    await u.type(within(section).getByTestId("download-source"), "models/x.gguf");
    await u.click(within(section).getByTestId("download-start"));
    expect((await within(section).findByTestId("download-error")).textContent).toContain("neither an hf: reference");
    expect(within(section).queryByTestId("download-card")).toBeNull();
  });

  it("pauses, resumes and cancels", async () => {
    const { u, fake, section } = await openScreen();
    await u.type(within(section).getByTestId("download-source"), "https://example.com/m.gguf");
    await u.click(within(section).getByTestId("download-start"));
    const card = await within(section).findByTestId("download-card");
    const id = [...fake.downloads.keys()][0];
    await u.click(within(card).getByTestId("download-pause"));
    expect(fake.callsOf("pauseDownload")).toEqual([{ id }]);
    await waitFor(() => expect(card.dataset.state).toBe("paused"));
    await u.click(within(card).getByTestId("download-resume"));
    expect(fake.callsOf("resumeDownload")).toEqual([{ id }]);
    await waitFor(() => expect(card.dataset.state).toBe("downloading"));
    await u.click(within(card).getByTestId("download-cancel"));
    expect(fake.callsOf("cancelDownload")).toEqual([{ id }]);
    await waitFor(() => expect(card.dataset.state).toBe("cancelled"));
    expect(within(card).queryByRole("button")).toBeNull();
  });

  it("a catalog pair starts both downloads", async () => {
    const { u, fake, section } = await openScreen();
    const pairs = within(section).getAllByTestId("catalog-pair");
    expect(pairs).toHaveLength(MODEL_CATALOG.length);
    expect(section.textContent).toContain("Size shown when the download starts");
    await u.click(within(pairs[0]).getByTestId("catalog-download"));
    expect(fake.callsOf("startDownload")).toEqual([
      { source: "hf:Qwen/Qwen2.5-7B-Instruct-GGUF:Q4_K_M" },
      { source: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0" },
    ]);
    expect(await within(section).findAllByTestId("download-card")).toHaveLength(2);
  });

  it("a catalog pair's error shows next to its button, and focus stays in the dialog (Escape, Tab trap)", async () => {
    const { u, fake, dialog, section } = await openScreen();
    fake.failures.set(
      "startDownload",
      new TandemApiError("DOWNLOAD_FAILED", "Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve (offline?). Check the internet connection."),
    );
    const pair = within(section).getAllByTestId("catalog-pair")[1];
    const button = within(pair).getByTestId("catalog-download");
    await u.click(button);
    // Under the pair whose button was pressed, not under the URL field.
    const error = await within(pair).findByTestId("download-error");
    expect(error.textContent).toMatch(/^Can't reach the Hugging Face Hub .*Check the internet connection\.$/);
    expect(within(section).getAllByTestId("download-error")).toHaveLength(1);
    expect(section.querySelector(".download-form + [data-testid=download-error]")).toBeNull();
    // The button kept focus while it worked: Tab moves within the dialog, Escape still closes it.
    expect(document.activeElement).toBe(button);
    await u.tab();
    expect(dialog.contains(document.activeElement)).toBe(true);
    await u.keyboard("{Escape}");
    expect(screen.queryByTestId("models-screen")).toBeNull();
  });

  it("Escape and Tab still reach the dialog when focus fell to the page", async () => {
    const { u, dialog } = await openScreen();
    (document.activeElement as HTMLElement).blur();
    expect(document.activeElement).toBe(document.body);
    await u.tab();
    expect(dialog.contains(document.activeElement)).toBe(true);
    (document.activeElement as HTMLElement).blur();
    await u.keyboard("{Escape}");
    expect(screen.queryByTestId("models-screen")).toBeNull();
  });

  it("lists downloads the host already has, and a finished one reaches the library through the host's push", async () => {
    const fake = new FakeClient();
    fake.folder = "/models";
    fake.downloads.set("dl-old", {
      id: "dl-old",
      source: "https://example.com/new.gguf",
      fileName: "new.gguf",
      destPath: "/models/new.gguf",
      state: "paused",
      receivedBytes: 5 * MB,
      totalBytes: 10 * MB,
      bytesPerSecond: 0,
      etaSeconds: null,
      error: null,
    });
    const { dialog, section } = await openScreen(fake);
    const card = await within(section).findByTestId("download-card");
    expect(card.dataset.state).toBe("paused");
    expect(within(card).getByTestId("download-resume").textContent).toBe("Resume");
    const listed = fake.callsOf("listModels").length;
    fake.files = [...libraryFiles, { path: "/models/new.gguf", name: "new.gguf", sizeBytes: 10 * MB, modifiedAt: 9 }];
    act(() => {
      fake.progressDownload("dl-old", { state: "done", receivedBytes: 10 * MB });
    });
    await waitFor(() => expect(within(dialog).getAllByTestId("models-row")).toHaveLength(6));
    // One route: the pushed listing, no second fetch.
    expect(fake.callsOf("listModels").length).toBe(listed);
  });
});
