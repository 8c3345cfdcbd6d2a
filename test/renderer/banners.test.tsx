import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeClient, modelFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";
import { useEngineStore } from "../../renderer/src/stores/engine.js";

const crash = { reason: "killed" as const, exitCode: null, signal: "SIGKILL", processGone: null, at: 1, message: "The engine was killed" };

describe("banners", () => {
  it("engine crashed: shows the reason and restart state; Retry calls restartEngine; dismissable", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    await renderWithClient(fake);
    expect(screen.queryByTestId("banner-engine-crashed")).toBeNull();

    act(() => {
      fake.emit("engineCrashed", { crash, restarting: true });
      fake.setStatus({ state: "restarting", lastCrash: crash });
    });
    const banner = screen.getByTestId("banner-engine-crashed");
    expect(banner.textContent).toContain("The engine was killed (SIGKILL).");
    expect(banner.textContent).toContain("Restarting…");
    expect(screen.getByTestId("status-engine").textContent).toBe("Restarting engine…");
    expect(screen.getByTestId("composer-hint").textContent).toBe("The engine is starting…");

    await u.click(within(banner).getByRole("button", { name: "Retry" }));
    expect(fake.callsOf("restartEngine")).toHaveLength(1);

    act(() => fake.setStatus({ state: "ready" }));
    expect(screen.getByTestId("banner-engine-crashed").textContent).toContain("It was restarted.");
    await u.click(within(screen.getByTestId("banner-engine-crashed")).getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("banner-engine-crashed")).toBeNull();
  });

  it("engine failed for good: the crash screen shows the message, without a banner repeating it", async () => {
    const fake = new FakeClient();
    fake.status = { ...fake.status, state: "failed", lastCrash: { ...crash, reason: "launch-failed", message: "Could not start the engine: ENOENT" } };
    await renderWithClient(fake);
    const panel = await screen.findByTestId("crash-screen");
    expect(within(panel).getByTestId("crash-title").textContent).toBe("The engine couldn’t start");
    expect(within(panel).getByTestId("crash-message").textContent).toBe("Could not start the engine: ENOENT");
    expect(screen.queryByTestId("banner-engine-crashed")).toBeNull();
    expect(screen.queryAllByRole("button", { name: /Retry|Restart engine/ })).toHaveLength(1);
  });

  it("engine failed for good: a model load the crash cut short is not a second banner; it shows again once the engine runs", async () => {
    const fake = new FakeClient();
    fake.status = {
      ...fake.status,
      state: "failed",
      model: null,
      modelError: "The engine is not available.",
      lastCrash: { ...crash, reason: "killed", signal: "SIGKILL", processGone: null, message: "The engine was killed (SIGKILL)" },
    };
    await renderWithClient(fake);
    await screen.findByTestId("crash-screen");
    expect(screen.queryByTestId("banner-model-error")).toBeNull();
    expect(screen.queryAllByRole("button", { name: /Retry|Restart engine/ })).toHaveLength(1);
    act(() => fake.setStatus({ state: "ready" }));
    await waitFor(() => expect(screen.getByTestId("banner-model-error").textContent).toContain("The engine is not available."));
  });

  it("model failed to load: shows the message; Retry loads the same model again", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient({ model: null });
    fake.holdLoads = true;
    const h = await renderWithClient(fake);
    const path = modelFiles[1].path;

    const loading = h.actions.loadModel(path);
    await waitFor(() => expect(screen.getByTestId("model-picker").textContent).toContain("Loading llama-3.2-3b-instruct-q8_0.gguf… 0%"));
    act(() => fake.emit("modelLoadProgress", { modelPath: path, progress: 0.5 }));
    expect(screen.getByTestId("model-load-progress").getAttribute("aria-valuenow")).toBe("50");
    act(() => fake.finishLoad("Not enough memory to load the model"));
    await act(() => loading);

    const banner = screen.getByTestId("banner-model-error");
    expect(banner.textContent).toContain("Couldn’t load llama-3.2-3b-instruct-q8_0.gguf.");
    expect(banner.textContent).toContain("Not enough memory to load the model");
    expect(screen.queryByTestId("model-load-progress")).toBeNull();

    fake.holdLoads = false;
    await u.click(within(banner).getByRole("button", { name: "Retry" }));
    expect(fake.callsOf("loadModel")).toEqual([{ path }, { path }]);
    await waitFor(() => expect(screen.queryByTestId("banner-model-error")).toBeNull());
    expect(screen.getByTestId("model-picker").textContent).toContain("llama-3.2-3b-instruct-q8_0.gguf");
    expect(screen.getByTestId("status-model").textContent).toContain("llama-3.2-3b-instruct-q8_0.gguf");
  });

  it("connection lost (web mode): shows the reconnecting banner until connected", async () => {
    const fake = new FakeClient();
    await renderWithClient(fake);
    act(() => useEngineStore.getState().setConnection("reconnecting"));
    expect(screen.getByTestId("banner-connection").textContent).toContain("Connection lost — reconnecting");
    expect((screen.getByTestId("send-button") as HTMLButtonElement).disabled).toBe(true);
    act(() => useEngineStore.getState().setConnection("connected"));
    expect(screen.queryByTestId("banner-connection")).toBeNull();
  });
});
