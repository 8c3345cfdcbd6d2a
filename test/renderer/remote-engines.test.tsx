/**
 * Remote engines in the window, over the fake client: Settings → Remote engines (add and test a connection, Test
 * and Remove on its row), the model picker's server groups (choosing a server's model sets settings.chatEngine;
 * a local model switches back), what local-only controls say while a server writes the replies, and the metrics
 * panel's figures of a remote reply (the server's counters with their source, or why there are none).
 */
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Message, RemoteConnectionView, RemoteReply } from "../../contracts/window/index.js";
import { TandemApiError } from "../../contracts/window/index.js";
import { usePrefsStore } from "../../renderer/src/stores/prefs.js";
import { FakeClient, makeRemoteStats, modelFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

/** A saved connection whose last test listed `models` (a vLLM server). */
function connection(over: Partial<RemoteConnectionView> = {}, models = ["llama-70b", "qwen-32b"]): RemoteConnectionView {
  return {
    id: "conn-lab",
    name: "Lab server",
    baseUrl: "http://gpu-box:8000/v1",
    kindSetting: "auto",
    kind: "vllm",
    hasApiKey: false,
    createdAt: 1,
    test: { ok: true, kind: "vllm", version: "0.27.1", models, message: `Connected: ${models.length} models (vLLM 0.27.1)` },
    ...over,
  };
}

const remoteEngine = { kind: "remote", connectionId: "conn-lab", model: "llama-70b" } as const;

function withConnection(options: ConstructorParameters<typeof FakeClient>[0] = {}, over: Partial<RemoteConnectionView> = {}): FakeClient {
  const fake = new FakeClient(options);
  fake.connections = [connection(over)];
  return fake;
}

async function openSettings(fake: FakeClient) {
  const u = userEvent.setup();
  const h = await renderWithClient(fake);
  await u.click(screen.getByTestId("settings-button"));
  return { ...h, u, section: screen.getByTestId("remote-engines-section") };
}

const remoteReply = (stats: RemoteReply["stats"]): RemoteReply => ({
  connectionId: "conn-lab",
  connectionName: "Lab server",
  kind: "llama-server",
  baseUrl: "http://gpu-box:8080/v1",
  stats,
});

type Seed = Omit<Message, "id" | "conversationId" | "createdAt">;
const seed = (role: Message["role"], content: string, extra: Partial<Seed> = {}): Seed => ({
  role,
  content,
  status: "complete",
  error: null,
  model: null,
  settings: null,
  stats: null,
  ...extra,
});

/** A conversation whose last reply a remote server wrote, shown with the metrics panel open. */
async function remoteChat(remote: RemoteReply, fake = withConnection()) {
  usePrefsStore.getState().setMetricsOpen(true);
  const c = fake.addConversation("Psalm", [
    seed("user", "The LORD is my shepherd; I shall not want."),
    seed("assistant", "He maketh me to lie down in green pastures.", { model: "kjv-chat-6m.gguf", remote }),
  ]);
  const h = await renderWithClient(fake);
  await act(() => h.actions.selectConversation(c.id));
  return { ...h, conversation: c, panel: screen.getByTestId("metrics-panel") };
}

describe("Settings → Remote engines", () => {
  it("adds a connection with its key, tests it, and shows “Connected: N models” on its row", async () => {
    const { u, fake, section } = await openSettings(new FakeClient());
    const s = within(section);
    expect(s.queryByTestId("connection-list")).toBeNull();
    expect((s.getByTestId("connection-add") as HTMLButtonElement).disabled).toBe(true);

    await u.type(s.getByLabelText("Server URL"), "http://gpu-box:8000/v1");
    await u.type(s.getByLabelText("Name"), "Lab server");
    await u.type(s.getByLabelText("API key"), "sk-lab");
    await u.click(s.getByTestId("connection-add"));

    expect(fake.callsOf("addConnection")).toEqual([{ baseUrl: "http://gpu-box:8000/v1", name: "Lab server", kindSetting: "auto", apiKey: "sk-lab" }]);
    const result = await s.findByTestId("connection-add-result");
    expect(result.textContent).toBe("Added Lab server: Connected: 2 models (vLLM 0.27.1)");
    expect(result.getAttribute("role")).toBe("status");
    const row = s.getByTestId("connection-row");
    expect(within(row).getByTestId("connection-state").textContent).toBe("Connected: 2 models (vLLM 0.27.1)");
    expect(row.textContent).toContain("http://gpu-box:8000/v1");
    expect(row.textContent).toContain("API key set");
    // The key went to the host and is not kept in the form.
    expect((s.getByLabelText("API key") as HTMLInputElement).value).toBe("");
    expect(section.textContent).not.toContain("sk-lab");
  });

  it("uses the chosen server type, and the URL's host as the name when none is given", async () => {
    const { u, fake, section } = await openSettings(new FakeClient());
    const s = within(section);
    fake.remoteModels = ["only-model"];
    await u.type(s.getByLabelText("Server URL"), "http://10.0.0.5:1234/v1");
    await u.selectOptions(s.getByLabelText("Server type"), "LM Studio");
    await u.click(s.getByTestId("connection-add"));
    expect(fake.callsOf("addConnection")).toEqual([{ baseUrl: "http://10.0.0.5:1234/v1", kindSetting: "lmstudio" }]);
    expect((await s.findByTestId("connection-add-result")).textContent).toBe("Added 10.0.0.5:1234: Connected: 1 model (vLLM 0.27.1)");
  });

  it("a failed test: the reason in an alert next to the form, and the connection kept to test again", async () => {
    const fake = new FakeClient();
    fake.remoteTestFailure = { code: "unauthorized", message: "The server refused the API key (401)." };
    const { u, section } = await openSettings(fake);
    const s = within(section);
    await u.type(s.getByLabelText("Server URL"), "http://gpu-box:8000/v1");
    await u.click(s.getByTestId("connection-add"));

    const result = await s.findByTestId("connection-add-result");
    expect(result.getAttribute("role")).toBe("alert");
    expect(result.textContent).toBe("Added gpu-box:8000: The server refused the API key (401).");
    // Saved all the same: the row says why, and Test tries again.
    const row = s.getByTestId("connection-row");
    const state = within(row).getByTestId("connection-state");
    expect(state.textContent).toBe("The server refused the API key (401).");
    expect(state.getAttribute("role")).toBe("alert");
    expect(fake.connections).toHaveLength(1);

    fake.remoteTestFailure = null;
    await u.click(within(row).getByTestId("connection-test"));
    expect(fake.callsOf("testConnection")).toEqual([{ id: fake.connections[0].id }]);
    await waitFor(() => expect(within(row).getByTestId("connection-state").textContent).toBe("Connected: 2 models (vLLM 0.27.1)"));
    expect(within(row).getByTestId("connection-state").getAttribute("role")).toBeNull();
  });

  it("a refused add (bad URL): the host's message in an alert, and what was typed stays in the form", async () => {
    const fake = new FakeClient();
    fake.failures.set("addConnection", new TandemApiError("BAD_REQUEST", "“gpu-box” is not a URL: start it with http:// or https://."));
    const { u, section } = await openSettings(fake);
    const s = within(section);
    await u.type(s.getByLabelText("Server URL"), "gpu-box");
    await u.type(s.getByLabelText("Name"), "Lab");
    await u.type(s.getByLabelText("API key"), "sk-lab");
    await u.click(s.getByTestId("connection-add"));

    const result = await s.findByTestId("connection-add-result");
    expect(result.getAttribute("role")).toBe("alert");
    expect(result.textContent).toBe("“gpu-box” is not a URL: start it with http:// or https://.");
    expect((s.getByLabelText("Server URL") as HTMLInputElement).value).toBe("gpu-box");
    expect((s.getByLabelText("Name") as HTMLInputElement).value).toBe("Lab");
    expect((s.getByLabelText("API key") as HTMLInputElement).value).toBe("sk-lab");
    expect(s.queryByTestId("connection-row")).toBeNull();
  });

  it("Test on a row shows a failure in an alert on that row", async () => {
    const fake = withConnection();
    const { u, section } = await openSettings(fake);
    const row = within(section).getByTestId("connection-row");
    fake.remoteTestFailure = { code: "unreachable", message: "Could not reach http://gpu-box:8000/v1: connection refused." };
    await u.click(within(row).getByTestId("connection-test"));
    await waitFor(() => expect(within(row).getAllByRole("alert").map((a) => a.textContent)).toContain("Could not reach http://gpu-box:8000/v1: connection refused."));
    expect(within(row).getByTestId("connection-state").textContent).toBe("Could not reach http://gpu-box:8000/v1: connection refused.");
  });

  it("Remove deletes the row; removing the server used for chat brings chat back to this computer's model", async () => {
    const fake = withConnection({ settings: { chatEngine: remoteEngine } });
    const { u, section } = await openSettings(fake);
    const row = within(section).getByTestId("connection-row");
    expect(row.textContent).toContain("Used for chat");
    await u.click(within(row).getByRole("button", { name: "Remove Lab server" }));
    expect(fake.callsOf("removeConnection")).toEqual([{ id: "conn-lab" }]);
    await waitFor(() => expect(within(section).queryByTestId("connection-row")).toBeNull());
    await u.keyboard("{Escape}");
    await waitFor(() => expect(screen.getByTestId("model-picker").textContent).toContain(modelFiles[0].name));
  });

  it("shows a row's untested state until the host's test arrives", async () => {
    const fake = withConnection({}, { test: null, kind: null });
    const { section } = await openSettings(fake);
    expect(within(section).getByTestId("connection-state").textContent).toBe("Not tested yet");
    act(() => fake.emit("connectionsChanged", { connections: [connection()] }));
    expect(within(section).getByTestId("connection-state").textContent).toBe("Connected: 2 models (vLLM 0.27.1)");
  });
});

describe("model picker with remote engines", () => {
  it("lists each connection's models under its name; choosing one sets chatEngine and names model · server", async () => {
    const u = userEvent.setup();
    const fake = withConnection();
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    const menu = screen.getByTestId("model-menu");
    expect(within(menu).getByText("On this computer")).toBeTruthy();
    const group = within(menu).getByTestId("remote-model-group");
    expect(group.querySelector(".picker-section-title")!.textContent).toBe("Lab server · vLLM");
    const options = within(group).getAllByTestId("remote-model-option");
    expect(options.map((o) => o.querySelector(".model-option-name")!.textContent)).toEqual(["llama-70b", "qwen-32b"]);
    expect(options.every((o) => o.getAttribute("aria-current") === null)).toBe(true);

    await u.click(options[1]);
    expect(fake.callsOf("updateSettings")).toEqual([{ chatEngine: { kind: "remote", connectionId: "conn-lab", model: "qwen-32b" } }]);
    expect(fake.callsOf("loadModel")).toEqual([]);
    await waitFor(() => expect(screen.queryByTestId("model-menu")).toBeNull());
    const trigger = screen.getByTestId("model-picker");
    expect(trigger.querySelector(".picker-label")!.textContent).toBe("qwen-32b · Lab server");
    expect(trigger.getAttribute("title")).toBe("Replies come from Lab server");

    // Marked as chosen; this computer's loaded model no longer is.
    await u.click(trigger);
    const again = screen.getByTestId("model-menu");
    expect(within(again).getAllByTestId("remote-model-option")[1].getAttribute("aria-current")).toBe("true");
    expect(within(again).getAllByTestId("model-option").some((o) => o.getAttribute("aria-current") === "true")).toBe(false);
  });

  it("choosing a local model again switches back to this computer (loading it when it is not loaded)", async () => {
    const u = userEvent.setup();
    const fake = withConnection({ settings: { chatEngine: remoteEngine } });
    await renderWithClient(fake);
    expect(screen.getByTestId("model-picker").querySelector(".picker-label")!.textContent).toBe("llama-70b · Lab server");

    // The loaded model: back to local, nothing to load.
    await u.click(screen.getByTestId("model-picker"));
    const loaded = within(screen.getByTestId("model-menu"))
      .getAllByTestId("model-option")
      .find((o) => o.textContent!.startsWith(modelFiles[0].name))!;
    await u.click(loaded);
    expect(fake.callsOf("updateSettings")).toEqual([{ chatEngine: { kind: "local" } }]);
    expect(fake.callsOf("loadModel")).toEqual([]);
    await waitFor(() => expect(screen.getByTestId("model-picker").querySelector(".picker-label")!.textContent).toBe(modelFiles[0].name));

    // Remote again, then another local model: back to local and that model loaded.
    await u.click(screen.getByTestId("model-picker"));
    await u.click(within(screen.getByTestId("model-menu")).getAllByTestId("remote-model-option")[0]);
    await waitFor(() => expect(screen.getByTestId("model-picker").querySelector(".picker-label")!.textContent).toBe("llama-70b · Lab server"));
    await u.click(screen.getByTestId("model-picker"));
    const other = within(screen.getByTestId("model-menu"))
      .getAllByTestId("model-option")
      .find((o) => o.textContent!.startsWith(modelFiles[2].name))!;
    await u.click(other);
    expect(fake.callsOf("updateSettings").at(-1)).toEqual({ chatEngine: { kind: "local" } });
    await waitFor(() => expect(fake.callsOf("loadModel")).toEqual([{ path: modelFiles[2].path }]));
    await waitFor(() => expect(screen.getByTestId("model-picker").querySelector(".picker-label")!.textContent).toBe(modelFiles[2].name));
  });

  it("a connection whose test failed shows why, with Test again", async () => {
    const u = userEvent.setup();
    const fake = withConnection({}, { test: { ok: false, code: "unreachable", message: "Could not reach http://gpu-box:8000/v1." } });
    await renderWithClient(fake);
    await u.click(screen.getByTestId("model-picker"));
    const group = within(screen.getByTestId("model-menu")).getByTestId("remote-model-group");
    expect(within(group).queryAllByTestId("remote-model-option")).toEqual([]);
    const state = within(group).getByTestId("remote-group-state");
    expect(state.getAttribute("role")).toBe("alert");
    expect(state.textContent).toContain("Could not reach http://gpu-box:8000/v1.");
    await u.click(within(group).getByRole("button", { name: "Test again" }));
    expect(fake.callsOf("testConnection")).toEqual([{ id: "conn-lab" }]);
    await waitFor(() => expect(within(screen.getByTestId("remote-model-group")).getAllByTestId("remote-model-option")).toHaveLength(2));
  });
});

describe("local-only controls while a server writes the replies", () => {
  it("the chat's speculation control says “set on the server”", async () => {
    const fake = withConnection({ settings: { chatEngine: remoteEngine } });
    const c = fake.addConversation("Chat");
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    expect(screen.getByTestId("speculation-remote").textContent).toBe("Speculation: set on the server");
    expect(screen.queryByTestId("speculation-select")).toBeNull();
    // The status bar names the model that writes the replies, not this computer's.
    expect(screen.getByTestId("status-model").getAttribute("title")).toBe("Replies come from llama-70b on Lab server");
    expect(screen.getByTestId("status-model").textContent).toContain("llama-70b");

    // Back to this computer: the select returns.
    act(() => fake.emit("settingsChanged", { ...fake.settings, chatEngine: { kind: "local" } }));
    expect(screen.getByTestId("speculation-select")).toBeTruthy();
    expect(screen.queryByTestId("speculation-remote")).toBeNull();
    expect(screen.getByTestId("status-model").textContent).not.toContain("llama-70b");
  });

  it("the engine, speculation and cache settings carry a note naming the server; none with a local model", async () => {
    const { view } = await openSettings(withConnection({ settings: { chatEngine: remoteEngine } }));
    const notes = screen.getAllByTestId("local-only-note");
    expect(notes).toHaveLength(3);
    for (const note of notes) {
      expect(note.textContent).toBe("For models on this computer. Replies now come from Lab server, which uses its own settings (set on the server).");
    }
    expect(within(screen.getByTestId("speculation-settings")).getByTestId("local-only-note")).toBeTruthy();
    expect(within(screen.getByTestId("cache-settings")).getByTestId("local-only-note")).toBeTruthy();
    view.unmount();

    await openSettings(withConnection());
    expect(screen.queryAllByTestId("local-only-note")).toEqual([]);
  });

  it("no model on this computer: no welcome screen, and the composer sends to the server", async () => {
    const u = userEvent.setup();
    const fake = withConnection({ model: null, settings: { chatEngine: remoteEngine } });
    fake.files = [];
    const h = await renderWithClient(fake);
    expect(screen.queryByTestId("welcome-screen")).toBeNull();
    expect(screen.queryByTestId("empty-no-model")).toBeNull();
    expect(screen.getByTestId("empty-remote").textContent).toBe("Replies come from llama-70b on Lab server. Your chats stay on this computer.");
    expect(screen.getByTestId("composer-hint").textContent).toBe("Enter to send · Shift+Enter for a new line");

    await u.type(screen.getByTestId("composer-input"), "The LORD is my shepherd{Enter}");
    await waitFor(() => expect(fake.callsOf("sendMessage")).toHaveLength(1));
    const reply = await screen.findByTestId("message-assistant");
    expect(reply.getAttribute("data-status")).toBe("streaming");
    const c = [...fake.conversations.keys()][0];
    act(() => void fake.completeRemote(fake.messages.get(c)!.at(-1)!.id, "He maketh me to lie down.", makeRemoteStats({ tokens: 6, tokensPerSecond: 0 })));
    h.frame();
    await waitFor(() => expect(within(screen.getByTestId("message-assistant")).getByTestId("message-remote").textContent).toBe("llama-70b on Lab server6 tokens · server kept 31/52 drafted"));
  });

  it("a remote reply that failed: the partial text kept on the message, and the reason in the banner", async () => {
    const u = userEvent.setup();
    const fake = withConnection({ model: null, settings: { chatEngine: remoteEngine } });
    const h = await renderWithClient(fake);
    await u.type(screen.getByTestId("composer-input"), "The LORD is my shepherd{Enter}");
    await waitFor(() => expect(fake.callsOf("sendMessage")).toHaveLength(1));
    const c = [...fake.conversations.keys()][0];
    const reply = fake.messages.get(c)!.at(-1)!;
    const reason = "Lab server: The server at http://lab:8000 refused the API key (HTTP 401): check the key set for this connection";
    act(() => void fake.completeMessage(reply.id, { content: "He maketh", status: "interrupted", error: reason, stats: null, remote: { ...reply.remote!, stats: null } }));
    h.frame();
    await waitFor(() => expect(screen.getByTestId("banner-error").textContent).toContain("refused the API key"));
    const shown = screen.getByTestId("message-assistant");
    expect(shown.getAttribute("data-status")).toBe("interrupted");
    expect(shown.textContent).toContain("He maketh");
  });
});

describe("metrics panel: a remote reply", () => {
  it("shows the server's figures labelled with their source", async () => {
    const { panel } = await remoteChat(remoteReply(makeRemoteStats()));
    const last = within(panel).getByTestId("metrics-last");
    const figures = within(last).getByTestId("remote-figures");
    expect(within(figures).getByTestId("fig-remote-engine").textContent).toBe("Lab server (llama.cpp server) · kjv-chat-6m.gguf");
    expect(within(figures).getByTestId("fig-tps").textContent).toBe("61.5 tok/s");
    expect(within(figures).getByTestId("fig-tokens").textContent).toContain("40");
    const spec = within(figures).getByTestId("fig-remote-speculation");
    expect(within(spec).getAllByTestId("remote-spec-line").map((l) => l.textContent)).toEqual(["Drafted 52 tokens", "Kept 31 (60%)"]);
    expect(within(spec).getByTestId("remote-spec-source").textContent).toBe("Reported by llama-server timings");
    // Not the local figures (nothing of this machine's engine), and no per-token charts (a server sends none).
    expect(within(panel).queryByTestId("fig-proposed")).toBeNull();
    expect(panel.querySelector(".metrics-charts")).toBeNull();

    // Under the message too.
    const message = screen.getByTestId("message-assistant");
    expect(within(message).getByTestId("message-remote").textContent).toBe("kjv-chat-6m.gguf on Lab server40 tokens · 61.5 tok/s · server kept 31/52 drafted");
  });

  it("marks figures from server-wide counters as approximate, and shows vLLM's per-step figures", async () => {
    const stats = makeRemoteStats({
      speculation: { source: "vLLM /metrics counters", approximate: true, drafted: 90, accepted: 63, draftSteps: 30, acceptanceRate: 0.7, meanAcceptedLength: 3.1 },
    });
    const { panel } = await remoteChat({ ...remoteReply(stats), kind: "vllm" });
    const spec = within(panel).getByTestId("fig-remote-speculation");
    expect(within(spec).getAllByTestId("remote-spec-line").map((l) => l.textContent)).toEqual([
      "Drafted 90 tokens",
      "Kept 63 (70%)",
      "30 verify steps",
      "3.10 tokens per verify step",
    ]);
    expect(within(spec).getByTestId("remote-spec-source").textContent).toBe("Reported by vLLM /metrics counters (approximate: other requests ran at the same time)");
  });

  it("a server that reports only a rate (SGLang): the rate, no invented counts", async () => {
    const stats = makeRemoteStats({
      speculation: { source: "SGLang meta_info", approximate: false, drafted: null, accepted: null, draftSteps: 12, acceptanceRate: 0.62, meanAcceptedLength: 2.9 },
    });
    const { panel } = await remoteChat({ ...remoteReply(stats), kind: "sglang" });
    const spec = within(panel).getByTestId("fig-remote-speculation");
    expect(within(spec).getAllByTestId("remote-spec-line").map((l) => l.textContent)).toEqual(["Kept 62% of drafted tokens", "12 verify steps", "2.90 tokens per verify step"]);
    expect(spec.textContent).not.toMatch(/Drafted/);
  });

  it("a server that reports nothing: the reason, and no drafted or accepted numbers", async () => {
    const reason = "Ollama does not report speculative decoding.";
    const { panel } = await remoteChat({ ...remoteReply(makeRemoteStats({ speculation: { unavailable: reason } })), kind: "ollama" });
    const spec = within(panel).getByTestId("fig-remote-speculation");
    expect(within(spec).getByTestId("remote-spec-unavailable").textContent).toBe(reason);
    expect(within(spec).queryAllByTestId("remote-spec-line")).toEqual([]);
    expect(within(spec).queryByTestId("remote-spec-source")).toBeNull();
    expect(panel.textContent).not.toMatch(/Drafted|Kept|Reported by|proposed|accepted/);
    expect(within(screen.getByTestId("message-assistant")).getByTestId("message-remote").textContent).not.toContain("server kept");
  });

  it("a reply streamed from the server: a note while it streams, then the figures it reported", async () => {
    usePrefsStore.getState().setMetricsOpen(true);
    const u = userEvent.setup();
    const fake = withConnection({ settings: { chatEngine: remoteEngine } });
    const c = fake.addConversation("Chat");
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    await u.type(screen.getByTestId("composer-input"), "The LORD is my shepherd{Enter}");
    await waitFor(() => expect(fake.callsOf("sendMessage")).toHaveLength(1));
    const reply = fake.messages.get(c.id)!.at(-1)!;
    expect(reply.remote).toMatchObject({ connectionId: "conn-lab", connectionName: "Lab server", kind: "vllm", stats: null });

    const panel = screen.getByTestId("metrics-panel");
    await waitFor(() => expect(within(panel).getByTestId("remote-live-note").textContent).toBe("On Lab server (llama-70b): the server reports its figures when the reply ends."));
    act(() => fake.streamTokens(c.id, reply.id, ["He maketh", " me to lie down"]));
    h.frame();
    expect(screen.getByTestId("message-assistant").textContent).toContain("He maketh me to lie down");

    act(() => void fake.completeRemote(reply.id, "He maketh me to lie down in green pastures."));
    await waitFor(() => expect(within(panel).queryByTestId("metrics-live")).toBeNull());
    expect(within(panel).getByTestId("remote-spec-source").textContent).toBe("Reported by llama-server timings");
    expect(within(panel).getAllByTestId("remote-spec-line").map((l) => l.textContent)).toEqual(["Drafted 52 tokens", "Kept 31 (60%)"]);
  });
});
