import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { MissingToken } from "../../renderer/src/components/App.js";
import { FakeClient, makeStats } from "./fake-client.js";
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

describe("status bar while a reply is being written", () => {
  it("says a reply is being written, not Ready with the last reply's speed, and shows the speed again when it ends", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    const c = fake.addConversation("Chat");
    fake.messages.get(c.id)!.push(fake.message(c.id, "user", "q"), fake.message(c.id, "assistant", "a", { stats: makeStats({ tokensPerSecond: 38.25 }) }));
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    expect(screen.getByTestId("status-engine").textContent).toBe("Ready");
    expect(screen.getByTestId("status-speed").textContent).toBe("38.3 tok/s");

    await u.type(screen.getByTestId("composer-input"), "another{Enter}");
    await waitFor(() => expect(screen.getByTestId("status-engine").textContent).toBe("Writing a reply…"));
    expect(screen.getByTestId("status-engine").querySelector(".status-dot")!.className).toContain("busy");
    expect(screen.queryByTestId("status-speed")).toBeNull();

    const reply = fake.messages.get(c.id)!.at(-1)!;
    act(() => {
      fake.completeMessage(reply.id, { stats: makeStats({ tokensPerSecond: 41 }) });
    });
    await waitFor(() => expect(screen.getByTestId("status-engine").textContent).toBe("Ready"));
    expect(screen.getByTestId("status-speed").textContent).toBe("41.0 tok/s");
  });
});

describe("the conversation list in a narrow window", () => {
  it("opens from the header's button and closes on a chat chosen, a click beside it, or Escape", async () => {
    const u = userEvent.setup();
    const fake = new FakeClient();
    const a = fake.addConversation("First");
    fake.addConversation("Second");
    const h = await renderWithClient(fake);
    const app = h.view.container.querySelector(".app")!;
    const toggle = screen.getByTestId("sidebar-toggle");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(app.classList.contains("sidebar-open")).toBe(false);

    await u.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(app.classList.contains("sidebar-open")).toBe(true);
    await act(() => h.actions.selectConversation(a.id));
    expect(app.classList.contains("sidebar-open")).toBe(false);

    await u.click(toggle);
    await u.click(h.view.container.querySelector(".sidebar-scrim")!);
    expect(app.classList.contains("sidebar-open")).toBe(false);

    await u.click(toggle);
    await u.keyboard("{Escape}");
    expect(app.classList.contains("sidebar-open")).toBe(false);
    expect(toggle.getAttribute("aria-controls")).toBe("sidebar");
    expect(document.getElementById("sidebar")).toBeTruthy();
  });
});

describe("missing token", () => {
  it("tells the user which URL to open", () => {
    render(<MissingToken />);
    expect(screen.getByTestId("missing-token").textContent).toContain("Open the URL printed by npm run web (it contains the access token)");
  });
});
