/** First run (welcome screen), the crash report screen, About and Settings → Folders, over the fake client. */
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TandemApiError } from "../../contracts/window/index.js";
import { useFirstRunStore } from "../../renderer/src/flows/first-run.js";
import { MODEL_CATALOG, RECOMMENDED_CPU_PAIR } from "../../renderer/src/model-catalog.js";
import { FakeClient, benchReport, libraryFiles, modelFiles, systemInfo } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";
import { useModelsStore } from "../../renderer/src/stores/models.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A first run: no model configured or loaded, and an empty library. */
function firstRun(mode: "electron" | "web" = "electron"): FakeClient {
  const fake = new FakeClient({ model: null, mode });
  fake.files = [];
  return fake;
}

function stubClipboard() {
  const writeText = vi.fn(async (_text: string) => {});
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
  return writeText;
}

describe("welcome screen", () => {
  it("is shown only with no configured model and no usable model in the library", async () => {
    await renderWithClient(firstRun());
    const welcome = await screen.findByTestId("welcome-screen");
    expect(within(welcome).getByTestId("welcome-intro").textContent).toMatch(/target.*draft.*faster/s);
    expect(screen.queryByTestId("empty-no-model")).toBeNull();
  });

  it("promises no speed: says what the A/B benchmark measured when every mode was slower", async () => {
    const fake = firstRun();
    fake.benchmarks = [
      {
        id: "b",
        createdAt: Date.UTC(2026, 11, 1),
        model: "m.gguf",
        draft: "d.gguf",
        promptSet: "free-chat",
        reports: [benchReport({ mode: "draft", speedup: 0.7 }), benchReport({ mode: "auto", speedup: 0.9 })],
      },
    ];
    await renderWithClient(fake);
    const welcome = await screen.findByTestId("welcome-screen");
    expect(within(welcome).getByTestId("welcome-intro").textContent).not.toMatch(/replies come faster/);
    expect((await within(welcome).findByTestId("welcome-measured")).textContent).toBe(
      "Measured on this machine: Draft model 30% slower, Auto 10% slower.",
    );
  });

  it("is not shown when a model is configured, or when the library has a usable model", async () => {
    const configured = await renderWithClient(new FakeClient());
    expect(screen.queryByTestId("welcome-screen")).toBeNull();
    configured.view.unmount();

    const withLibrary = new FakeClient({ model: null });
    await renderWithClient(withLibrary);
    expect(screen.queryByTestId("welcome-screen")).toBeNull();
    expect(screen.getByTestId("empty-no-model")).toBeTruthy();
  });

  it("is shown when the library holds only unreadable files", async () => {
    const fake = new FakeClient({ model: null });
    fake.files = libraryFiles.filter((f) => f.error);
    await renderWithClient(fake);
    expect(await screen.findByTestId("welcome-screen")).toBeTruthy();
  });

  it("Download both starts the recommended CPU pair, loads the target when done, then sets the draft", async () => {
    const u = userEvent.setup();
    const fake = firstRun();
    await renderWithClient(fake);
    const pair = MODEL_CATALOG.find((p) => p.recommendedForCpu)!;
    expect(pair).toBe(RECOMMENDED_CPU_PAIR);
    const card = screen.getByTestId("welcome-pair");
    expect(card.textContent).toContain(pair.title);
    await u.click(within(card).getByTestId("welcome-download-both"));
    expect(fake.callsOf("startDownload")).toEqual([{ source: pair.target.source }, { source: pair.draft.source }]);

    const [targetId, draftId] = [...fake.downloads.keys()];
    act(() => {
      fake.progressDownload(targetId, { receivedBytes: 250, totalBytes: 1000 });
    });
    const rows = within(card).getAllByTestId("welcome-pair-row");
    expect(rows[0].textContent).toContain("Downloading · 25%");

    // The draft finishes first: it joins the library, but the screen stays until the target is in.
    act(() => {
      fake.progressDownload(draftId, { state: "done", receivedBytes: 500, totalBytes: 500 });
    });
    await waitFor(() => expect(useModelsStore.getState().files.some((f) => f.path === fake.downloads.get(draftId)!.destPath)).toBe(true));
    expect(screen.getByTestId("welcome-screen")).toBeTruthy();
    expect(fake.callsOf("loadModel")).toEqual([]);

    const target = fake.downloads.get(targetId)!;
    const draft = fake.downloads.get(draftId)!;
    const button = within(card).getByTestId("welcome-download-both");
    expect(button.textContent).toBe("Downloading…");
    fake.holdLoads = true;
    act(() => {
      fake.progressDownload(targetId, { state: "done", receivedBytes: 1000 });
    });
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: target.destPath }]));
    // Both are in while the target loads: the button no longer claims to be downloading.
    expect(button.textContent).toBe("Loading the model…");
    expect((button as HTMLButtonElement).disabled).toBe(true);
    act(() => fake.finishLoad());
    await waitFor(() => expect(fake.callsOf("setDraftModel")).toEqual([{ path: draft.destPath }]));
    // The normal chat appears.
    await waitFor(() => expect(screen.queryByTestId("welcome-screen")).toBeNull());
    expect(useFirstRunStore.getState()).toMatchObject({ importing: false, pair: null });
  });

  it("imports a GGUF by path and loads it; then the chat appears", async () => {
    const u = userEvent.setup();
    const fake = firstRun("web");
    await renderWithClient(fake);
    await u.type(screen.getByTestId("welcome-import-path"), "/downloads/tiny.gguf");
    await u.click(screen.getByTestId("welcome-import-submit"));
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: "/models/tiny.gguf" }]));
    expect(fake.callsOf("importModel")).toEqual([{ path: "/downloads/tiny.gguf", mode: "copy" }]);
    await waitFor(() => expect(screen.queryByTestId("welcome-screen")).toBeNull());
    expect(screen.getByTestId("composer-input")).toBeTruthy();
  });

  it("uploads a GGUF from the browser in web mode and loads it", async () => {
    const u = userEvent.setup();
    const fake = firstRun("web");
    await renderWithClient(fake);
    const card = screen.getByTestId("welcome-import");
    expect(within(card).getByRole("button", { name: "Upload a GGUF file…" })).toBeTruthy();
    await u.upload(within(card).getByTestId("upload-input"), new File(["GGUF and the rest"], "tiny.gguf"));
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: "/models/tiny.gguf" }]));
    expect(fake.uploads).toEqual([{ name: "tiny.gguf", size: 17 }]);
    await waitFor(() => expect(screen.queryByTestId("welcome-screen")).toBeNull());
  });

  it("offline Download both shows that it is starting, then its error in its own card in the Hub search's words", async () => {
    const u = userEvent.setup();
    const fake = firstRun();
    let fail!: (error: unknown) => void;
    vi.spyOn(fake, "startDownload").mockImplementation(() => new Promise((_, reject) => (fail = reject)));
    await renderWithClient(fake);
    const button = screen.getByTestId("welcome-download-both");
    await u.click(button);
    expect(button.textContent).toBe("Starting the downloads…");
    expect(button.getAttribute("aria-busy")).toBe("true");
    expect(button.getAttribute("aria-disabled")).toBe("true");
    // Busy, yet it keeps focus.
    expect(document.activeElement).toBe(button);
    const message = "Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve (offline?). Check the internet connection.";
    await act(async () => fail(new TandemApiError("DOWNLOAD_FAILED", message)));
    const error = await within(screen.getByTestId("welcome-pair")).findByTestId("welcome-error");
    expect(error.textContent).toBe(message);
    // Only there: not under the last card.
    expect(screen.getAllByTestId("welcome-error")).toHaveLength(1);
    expect(button.textContent).toBe("Download both");
    expect(button.getAttribute("aria-disabled")).toBe("false");
  });

  it("shows an import refusal and stays", async () => {
    const u = userEvent.setup();
    const fake = firstRun("web");
    await renderWithClient(fake);
    await u.type(screen.getByTestId("welcome-import-path"), "/downloads/notes.txt");
    await u.click(screen.getByTestId("welcome-import-submit"));
    expect((await within(screen.getByTestId("welcome-import")).findByTestId("welcome-error")).textContent).toContain("not a GGUF file");
    expect(fake.callsOf("loadModel")).toEqual([]);
    expect(screen.getByTestId("welcome-screen")).toBeTruthy();
  });

  it("imports with the file chooser in the app, and uses an existing folder (chooser in the app, typed path on the web)", async () => {
    const u = userEvent.setup();
    const app = firstRun("electron");
    const harness = await renderWithClient(app);
    await u.click(within(screen.getByTestId("welcome-import")).getByRole("button", { name: "Choose a GGUF file…" }));
    await waitFor(() => expect(app.callsOf("loadModel")).toEqual([{ path: "/models/picked.gguf" }]));
    expect(app.callsOf("importModel")).toEqual([{ path: "/downloads/picked.gguf", mode: "copy" }]);
    harness.view.unmount();

    const app2 = firstRun("electron");
    const h2 = await renderWithClient(app2);
    app2.files = [...modelFiles];
    await u.click(screen.getByTestId("welcome-choose-folder"));
    expect(app2.callsOf("chooseModelsFolder")).toHaveLength(1);
    await waitFor(() => expect(screen.queryByTestId("welcome-screen")).toBeNull());
    h2.view.unmount();

    const web = firstRun("web");
    await renderWithClient(web);
    expect(screen.queryByTestId("welcome-choose-folder")).toBeNull();
    expect(screen.queryByRole("button", { name: "Choose a GGUF file…" })).toBeNull();
    web.files = [...modelFiles];
    await u.type(screen.getByTestId("welcome-folder-path"), "/srv/models");
    await u.click(screen.getByTestId("welcome-folder-submit"));
    expect(web.callsOf("setModelsFolder")).toEqual([{ path: "/srv/models" }]);
    await waitFor(() => expect(screen.queryByTestId("welcome-screen")).toBeNull());
  });
});

describe("crash report screen", () => {
  const crash = { reason: "exited" as const, exitCode: 134, signal: null, processGone: null, at: 5, message: "The engine process exited unexpectedly (exit code 134)" };

  it("shows the reason, the message and the end of engine.log; Restart engine calls restartEngine", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    fake.logLines = Array.from({ length: 40 }, (_, i) => `line ${i}`).concat("GGML_ASSERT(n_tokens <= n_batch) failed");
    await renderWithClient(fake);
    expect(screen.queryByTestId("crash-screen")).toBeNull();
    act(() => {
      fake.emit("engineCrashed", { crash, restarting: false });
      fake.setStatus({ state: "failed", lastCrash: crash, system: null });
    });
    const panel = await screen.findByTestId("crash-screen");
    expect(within(panel).getByTestId("crash-title").textContent).toBe("The engine quit unexpectedly (exit code 134)");
    expect(within(panel).getByTestId("crash-message").textContent).toBe(crash.message);
    await waitFor(() => expect(within(panel).getByTestId("crash-log").textContent).toContain("GGML_ASSERT(n_tokens <= n_batch) failed"));
    expect(fake.callsOf("readLogTail")).toEqual([{ log: "engine", lines: 30 }]);
    const shown = within(panel).getByTestId("crash-log").textContent!.split("\n");
    expect(shown).toHaveLength(30);

    await u.click(within(panel).getByTestId("crash-open-logs"));
    expect(fake.callsOf("openFolder")).toEqual([{ folder: "logs" }]);

    // The screen stands in for the crash banner, which must not come back once the engine is up again.
    expect(screen.queryByTestId("banner-engine-crashed")).toBeNull();
    await u.click(within(panel).getByTestId("crash-restart"));
    expect(fake.callsOf("restartEngine")).toHaveLength(1);
    await waitFor(() => expect(screen.queryByTestId("crash-screen")).toBeNull());
    act(() => fake.setStatus({ state: "ready" }));
    expect(screen.queryByTestId("banner-engine-crashed")).toBeNull();
  });

  it("words each reason plainly, and shows the logs path in web mode", async () => {
    const fake = new FakeClient({ mode: "web" });
    await renderWithClient(fake);
    const cases = [
      [{ ...crash, reason: "killed" as const, exitCode: null, signal: "SIGKILL", processGone: null, at: 6 }, "The engine was killed (SIGKILL)"],
      [{ ...crash, reason: "launch-failed" as const, at: 7 }, "The engine couldn’t start"],
      [{ ...crash, reason: "unresponsive" as const, exitCode: null, at: 8 }, "The engine stopped answering"],
      // Electron's own reason (child-process-gone), when the app knows it, says more than the exit code.
      [{ ...crash, reason: "killed" as const, exitCode: 137, processGone: { reason: "oom" as const, exitCode: 137 }, at: 9 }, "The engine ran out of memory"],
      [{ ...crash, reason: "killed" as const, exitCode: 11, processGone: { reason: "crashed" as const, exitCode: 11 }, at: 10 }, "The engine crashed (exit code 11)"],
      [{ ...crash, reason: "launch-failed" as const, processGone: { reason: "integrity-failure" as const, exitCode: 1 }, at: 11 }, "The engine failed its code integrity check"],
      [{ ...crash, reason: "exited" as const, processGone: { reason: "abnormal-exit" as const, exitCode: 134 }, at: 12 }, "The engine quit unexpectedly (exit code 134)"],
    ] as const;
    for (const [c, title] of cases) {
      act(() => fake.setStatus({ state: "failed", lastCrash: c }));
      expect((await screen.findByTestId("crash-title")).textContent).toBe(title);
    }
    expect(screen.queryByTestId("crash-open-logs")).toBeNull();
    expect(screen.getByTestId("crash-logs-path").textContent).toBe("/home/user/.config/Tandem/logs");
    expect(screen.getByTestId("crash-log").textContent).toBe("(the engine log is empty)");
  });

  it("is not shown while the engine restarts (the banner says so)", async () => {
    const fake = new FakeClient();
    await renderWithClient(fake);
    act(() => {
      fake.emit("engineCrashed", { crash, restarting: true });
      fake.setStatus({ state: "restarting", lastCrash: crash });
    });
    expect(screen.getByTestId("banner-engine-crashed")).toBeTruthy();
    expect(screen.queryByTestId("crash-screen")).toBeNull();
  });
});

describe("About dialog", () => {
  it("opens from the menu command and shows the versions; Copy copies them as text", async () => {
    const u = userEvent.setup();
    const writeText = stubClipboard();
    const fake = new FakeClient();
    await renderWithClient(fake);
    act(() => fake.emit("menuCommand", { command: "about" }));
    const dialog = await screen.findByTestId("about-dialog");
    const text = within(dialog).getByTestId("about-versions").textContent!;
    for (const value of ["0.1.0", "39.2.0", "22.20.0", systemInfo.nodeLlamaCppVersion, systemInfo.llamaCppRelease, "cuda", "NVIDIA GeForce RTX 4070"]) {
      expect(text).toContain(value);
    }
    await u.click(within(dialog).getByTestId("about-copy"));
    expect(writeText).toHaveBeenCalledOnce();
    const copied = writeText.mock.calls[0][0];
    expect(copied).toContain("Tandem: 0.1.0");
    expect(copied).toContain("Electron: 39.2.0");
    expect(copied).toContain(`llama.cpp: ${systemInfo.llamaCppRelease}`);
    expect(copied).toContain("Backend: cuda");
    expect(within(dialog).getByRole("status").textContent).toBe("Copied");
    await u.keyboard("{Escape}");
    expect(screen.queryByTestId("about-dialog")).toBeNull();
  });

  it("opens from Settings; other menu commands open Settings and the Models screen", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient({ mode: "web" });
    await renderWithClient(fake);
    act(() => fake.emit("menuCommand", { command: "open-settings" }));
    const settings = await screen.findByTestId("settings-dialog");
    await u.click(within(settings).getByTestId("settings-about"));
    const about = await screen.findByTestId("about-dialog");
    expect(screen.queryByTestId("settings-dialog")).toBeNull();
    // Web mode: no Electron version row.
    expect(within(about).getByTestId("about-versions").textContent).not.toContain("Electron");
    act(() => fake.emit("menuCommand", { command: "open-models" }));
    expect(await screen.findByTestId("models-screen")).toBeTruthy();
  });
});

describe("Settings → Folders", () => {
  it("opens each folder in the app", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    await renderWithClient(fake);
    await u.click(screen.getByTestId("settings-button"));
    const section = await screen.findByTestId("folders-section");
    expect((within(section).getByLabelText("Logs folder") as HTMLInputElement).value).toBe("/home/user/.config/Tandem/logs");
    await u.click(within(section).getByRole("button", { name: "Open the logs folder" }));
    await u.click(within(section).getByRole("button", { name: "Open the models folder" }));
    expect(fake.callsOf("openFolder")).toEqual([{ folder: "logs" }, { folder: "modelsFolder" }]);
  });

  it("shows the open failure", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    fake.failures.set("openFolder", new TandemApiError("NOT_FOUND", "Couldn't create the folder /x"));
    await renderWithClient(fake);
    await u.click(screen.getByTestId("settings-button"));
    const section = await screen.findByTestId("folders-section");
    await u.click(within(section).getByRole("button", { name: "Open the cache folder" }));
    // In the row of the folder that failed, under its button.
    expect((await within(within(section).getByTestId("folder-cache")).findByTestId("folders-error")).textContent).toContain("Couldn't create the folder /x");
  });

  it("offers the paths to copy in web mode", async () => {
    const u = userEvent.setup();
    const writeText = stubClipboard();
    const fake = new FakeClient({ mode: "web" });
    await renderWithClient(fake);
    await u.click(screen.getByTestId("settings-button"));
    const section = await screen.findByTestId("folders-section");
    expect(within(section).queryByRole("button", { name: /^Open/ })).toBeNull();
    const field = within(section).getByLabelText("App data folder") as HTMLInputElement;
    expect(field.readOnly).toBe(true);
    await u.click(within(section).getByRole("button", { name: "Copy the app data folder's path" }));
    expect(writeText).toHaveBeenCalledWith("/home/user/.config/Tandem");
    expect(fake.callsOf("openFolder")).toEqual([]);
  });
});
