import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MissingToken } from "../../renderer/src/components/App.js";
import { FakeClient } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

describe("status bar", () => {
  it("shows the engine state, backend and devices, model and threads", async () => {
    await renderWithClient(new FakeClient());
    const bar = screen.getByTestId("status-bar");
    expect(screen.getByTestId("status-engine").textContent).toBe("Ready");
    expect(screen.getByTestId("status-backend").textContent).toBe("CUDA · NVIDIA GeForce RTX 4070");
    expect(screen.getByTestId("status-model").textContent).toBe("qwen2.5-7b-instruct-q4_k_m.gguf");
    expect(screen.getByTestId("status-threads").textContent).toBe("8 threads · 8,192 ctx");
    expect(bar.textContent).not.toContain("tok/s");
  });

  it("says when no model is loaded", async () => {
    await renderWithClient(new FakeClient({ model: null }));
    expect(screen.getByTestId("status-model").textContent).toBe("No model");
    expect(screen.queryByTestId("status-threads")).toBeNull();
  });
});

describe("missing token", () => {
  it("tells the user which URL to open", () => {
    render(<MissingToken />);
    expect(screen.getByTestId("missing-token").textContent).toContain("Open the URL printed by npm run web (it contains the access token)");
  });
});
