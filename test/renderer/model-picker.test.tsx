import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeClient, modelFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

describe("model picker", () => {
  it("shows the loaded model, lists GGUF files with sizes, and loads the chosen one", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    await renderWithClient(fake);
    const trigger = screen.getByTestId("model-picker");
    expect(trigger.textContent).toContain("qwen2.5-7b-instruct-q4_k_m.gguf");

    await u.click(trigger);
    const menu = screen.getByTestId("model-menu");
    const options = within(menu).getAllByTestId("model-option");
    expect(options.map((o) => o.textContent)).toEqual([
      "gemma-3-1b-it-q4_0.gguf687 MB",
      "llama-3.2-3b-instruct-q8_0.gguf3.2 GB",
      "qwen2.5-7b-instruct-q4_k_m.gguf4.4 GB",
    ]);
    expect(options[2].getAttribute("aria-current")).toBe("true");
    expect(within(menu).getByText("/models")).toBeTruthy();

    await u.click(options[0]);
    expect(fake.callsOf("loadModel")).toEqual([{ path: modelFiles[2].path }]);
    await waitFor(() => expect(screen.getByTestId("model-picker").textContent).toContain("gemma-3-1b-it-q4_0.gguf"));
    expect(screen.queryByTestId("model-menu")).toBeNull();
  });

  it("does not offer the configured draft as the chat model (it would draft for itself), and says why", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient({ draft: modelFiles[2].path });
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    const draftOption = within(screen.getByTestId("model-menu")).getAllByTestId("model-option")[0] as HTMLButtonElement;
    expect(draftOption.textContent).toBe(`${modelFiles[2].name}draft`);
    expect(draftOption.disabled).toBe(true);
    expect(draftOption.title).toMatch(/draft model: as the chat model it would draft for itself/);
    expect(fake.callsOf("loadModel")).toEqual([]);
    // The host refuses it too (a load from elsewhere), with the reason.
    await expect(fake.loadModel({ path: modelFiles[2].path })).rejects.toMatchObject({ code: "DRAFT_AS_MODEL" });
  });

  it("app mode: Choose folder… opens the native chooser", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    await u.click(screen.getByRole("button", { name: "Choose folder…" }));
    expect(fake.callsOf("chooseModelsFolder")).toHaveLength(1);
    await waitFor(() => expect(within(screen.getByTestId("model-menu")).getByText("/picked")).toBeTruthy());
  });

  it("web mode: the folder path is typed, with errors shown", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient({ mode: "web" });
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    expect(screen.queryByRole("button", { name: "Choose folder…" })).toBeNull();
    const input = screen.getByLabelText("Models folder");
    await u.clear(input);
    await u.type(input, "/data/missing{Enter}");
    expect((await screen.findByRole("alert")).textContent).toBe("Folder not found: /data/missing");

    await u.clear(input);
    await u.type(input, "/data/gguf{Enter}");
    expect(fake.callsOf("setModelsFolder")).toEqual([{ path: "/data/missing" }, { path: "/data/gguf" }]);
    await waitFor(() => expect(within(screen.getByTestId("model-menu")).getByText("/data/gguf")).toBeTruthy());
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("closes on Escape", async () => {
    const u = userEvent.setup();
    await renderWithClient(new FakeClient());
    await u.click(screen.getByTestId("model-picker"));
    expect(screen.getByTestId("model-menu")).toBeTruthy();
    await u.keyboard("{Escape}");
    expect(screen.queryByTestId("model-menu")).toBeNull();
  });
});
