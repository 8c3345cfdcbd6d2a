/** The memory-fit estimate in the Models screen and the won't-fit question before a load. */
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { WindowResult } from "../../contracts/window/index.js";
import { FakeClient, libraryFiles, modelFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

const wontFit: WindowResult<"estimateFit"> = {
  verdict: "wont-fit",
  message: "Needs about 9.8 GB of RAM but 6.1 GB is free. A 4096-token context would fit.",
  modelName: "llama-3.2-3b-instruct-q8_0.gguf",
  gpuLayers: 0,
  totalLayers: 29,
  contextSize: 16384,
  cacheSlots: 2,
  parts: [
    { part: "target-weights", ramBytes: 3.4e9, vramBytes: 0 },
    { part: "target-context", ramBytes: 5.9e9, vramBytes: 0 },
    { part: "draft-weights", ramBytes: 0.4e9, vramBytes: 0 },
    { part: "draft-context", ramBytes: 0.1e9, vramBytes: 0 },
  ],
  ramBytes: 9.8e9,
  vramBytes: 0,
  available: { ramBytes: 6.1e9, vramBytes: 0 },
  suggestion: { contextSize: 4096 },
};

async function openDetails(fake: FakeClient, name: string) {
  const u = userEvent.setup();
  fake.files = [...libraryFiles];
  await renderWithClient(fake);
  await u.click(screen.getByTestId("model-picker"));
  await u.click(screen.getByTestId("open-models-screen"));
  const dialog = await screen.findByTestId("models-screen");
  await u.click(await within(within(dialog).getByTestId("models-table")).findByRole("button", { name }));
  const details = within(dialog).getByTestId("model-details");
  return { u, dialog, details };
}

describe("memory-fit estimate", () => {
  it("shows a fitting model's pill, RAM against free, and its breakdown, for the selected file", async () => {
    const fake = new FakeClient();
    const { details } = await openDetails(fake, libraryFiles[1].name);
    const estimate = await within(details).findByTestId("fit-estimate");
    expect(within(estimate).getByTestId("fit-verdict").textContent).toBe("Fits");
    expect(within(estimate).getByTestId("fit-figures").textContent).toBe("RAM 5.2 GB of 20.0 GB free · VRAM 0 KB of 10.0 GB free");
    expect(within(estimate).getByTestId("fit-message").textContent).toBe(fake.fitEstimate.message);
    expect(within(estimate).getByTestId("fit-parts").textContent).toContain("Model weights4.7 GB");
    expect(within(estimate).queryByTestId("fit-use-context")).toBeNull();
    expect(fake.callsOf("estimateFit").at(-1)).toEqual({ source: libraryFiles[1].path });
  });

  it("shows a won't-fit verdict with the draft's parts, and its suggestion button saves the context size", async () => {
    const fake = new FakeClient();
    fake.fitEstimate = wontFit;
    const { u, details } = await openDetails(fake, libraryFiles[1].name);
    const estimate = await within(details).findByTestId("fit-estimate");
    expect(estimate.getAttribute("data-verdict")).toBe("wont-fit");
    expect(within(estimate).getByTestId("fit-verdict").textContent).toBe("Won't fit");
    expect(within(estimate).getByTestId("fit-figures").textContent).toBe("RAM 9.8 GB of 6.1 GB free");
    expect(within(estimate).getByTestId("fit-parts").textContent).toContain("Draft context100 MB");
    expect(within(estimate).getByTestId("fit-message").textContent).toBe(wontFit.message);

    const asked = fake.callsOf("estimateFit").length;
    await u.click(within(estimate).getByTestId("fit-use-context"));
    expect(fake.callsOf("updateSettings")).toEqual([{ contextSize: 4096 }]);
    // The new context size is the estimate's default: it is asked again.
    await waitFor(() => expect(fake.callsOf("estimateFit").length).toBeGreaterThan(asked));
  });

  it("estimates the configured draft alone, without a draft of its own", async () => {
    const fake = new FakeClient();
    fake.status = { ...fake.status, draftModel: { modelPath: libraryFiles[3].path, name: libraryFiles[3].name, sizeBytes: 1, threads: 1, contextSize: 4096, loadMs: 1 } };
    const { details } = await openDetails(fake, libraryFiles[3].name);
    await within(details).findByTestId("fit-estimate");
    expect(fake.callsOf("estimateFit").at(-1)).toEqual({ source: libraryFiles[3].path, draftSource: null });
  });

  it("shows the estimate's error", async () => {
    const fake = new FakeClient();
    fake.estimateFit = async () => {
      throw Object.assign(new Error("The engine is not running, so the memory estimate cannot be made."), { code: "ENGINE_UNAVAILABLE" });
    };
    const { details } = await openDetails(fake, libraryFiles[1].name);
    expect((await within(details).findByTestId("fit-error")).textContent).toContain("memory estimate cannot be made");
  });

  it("use as model: asks before loading a model that won't fit, and loads only on confirm", async () => {
    const fake = new FakeClient();
    fake.fitEstimate = wontFit;
    const { u, details } = await openDetails(fake, libraryFiles[1].name);
    await u.click(within(details).getByTestId("use-as-model"));
    const confirm = await screen.findByTestId("confirm-dialog");
    expect(confirm.textContent).toContain("This model probably won't fit");
    expect(within(confirm).getByTestId("fit-confirm-message").textContent).toBe(`${wontFit.modelName}: ${wontFit.message}`);
    expect(fake.callsOf("loadModel")).toEqual([]);

    await u.click(within(confirm).getByTestId("confirm-cancel"));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(fake.callsOf("loadModel")).toEqual([]);

    await u.click(within(details).getByTestId("use-as-model"));
    await u.click(within(await screen.findByTestId("confirm-dialog")).getByTestId("confirm-ok"));
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: libraryFiles[1].path }]));
  });

  it("model picker: a model that won't fit is loaded only after the question; one that fits loads at once", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    fake.fitEstimate = wontFit;
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    await u.click(within(screen.getByTestId("model-menu")).getAllByTestId("model-option")[1]);
    const confirm = await screen.findByTestId("confirm-dialog");
    expect(fake.callsOf("estimateFit")).toEqual([{ source: modelFiles[1].path }]);
    expect(fake.callsOf("loadModel")).toEqual([]);
    await u.click(within(confirm).getByTestId("confirm-ok"));
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: modelFiles[1].path }]));

    fake.fitEstimate = { ...wontFit, verdict: "tight", suggestion: { contextSize: 8192 } };
    await u.click(screen.getByTestId("model-picker"));
    await u.click(within(screen.getByTestId("model-menu")).getAllByTestId("model-option")[0]);
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: modelFiles[1].path }, { path: modelFiles[2].path }]));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });
});
