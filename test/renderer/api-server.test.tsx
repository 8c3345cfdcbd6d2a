import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { ApiServerStatus } from "../../contracts/window/index.js";
import { TandemApiError } from "../../contracts/window/index.js";
import { apiServerParts, curlExample } from "../../renderer/src/api-server-format.js";
import { fitCandidates, textsThatFit } from "../../renderer/src/components/FitParts.js";
import { useApiServerStore } from "../../renderer/src/stores/api-server.js";
import { startSubscriber } from "../../renderer/src/subscriber.js";
import { FakeClient } from "./fake-client.js";
import { ManualFrames, renderWithClient } from "./helpers.js";

const running = (over: Partial<ApiServerStatus> = {}): ApiServerStatus => ({
  state: "running",
  baseUrl: "http://127.0.0.1:11435/v1",
  host: "127.0.0.1",
  port: 11435,
  error: null,
  requests: 0,
  running: 0,
  waiting: 0,
  keySet: false,
  modelId: "qwen2.5-7b-instruct-q4_k_m.gguf",
  ...over,
});

async function openSettings(fake = new FakeClient()) {
  const u = userEvent.setup();
  const h = await renderWithClient(fake);
  await u.click(screen.getByTestId("settings-button"));
  const section = screen.getByTestId("api-server-settings");
  return { ...h, u, section };
}

describe("API server store", () => {
  it("holds the status fetched at start, then follows the apiServerStatus event", async () => {
    const fake = new FakeClient();
    fake.apiServer = { ...fake.apiServer, keySet: true };
    await renderWithClient(fake);
    expect(fake.callsOf("getApiServerStatus")).toHaveLength(1);
    expect(useApiServerStore.getState().status).toEqual(fake.apiServer);

    act(() => fake.emit("apiServerStatus", running({ requests: 3 })));
    expect(useApiServerStore.getState().status).toEqual(running({ requests: 3 }));
    act(() => fake.emit("apiServerStatus", { ...running(), state: "off", baseUrl: null }));
    expect(useApiServerStore.getState().status?.state).toBe("off");
  });

  it("is fed by the subscriber alone (no client call)", () => {
    const fake = new FakeClient();
    const stop = startSubscriber(fake, { frames: new ManualFrames(), fallbackMs: 0 });
    fake.emit("apiServerStatus", running({ requests: 1, running: 1 }));
    expect(useApiServerStore.getState().status).toEqual(running({ requests: 1, running: 1 }));
    stop();
    fake.emit("apiServerStatus", running({ requests: 2 }));
    expect(useApiServerStore.getState().status?.requests).toBe(1);
    expect(fake.calls).toEqual([]);
  });
});

describe("Settings → API server", () => {
  it("shows the saved settings, explains itself, and saves the whole apiServer object with the form", async () => {
    const { u, fake, section } = await openSettings();
    expect(section.textContent).toContain("Lets other apps on this computer — editors, Open WebUI, scripts — use the loaded model through the OpenAI API");
    const s = within(section);
    expect((s.getByTestId("api-server-enabled") as HTMLInputElement).checked).toBe(false);
    expect((s.getByLabelText("Address") as HTMLInputElement).value).toBe("127.0.0.1");
    expect((s.getByLabelText("Port") as HTMLInputElement).value).toBe("11435");
    expect((s.getByLabelText("Max queue") as HTMLInputElement).value).toBe("16");
    expect(s.getByTestId("api-server-state").textContent).toBe("Off");
    expect(s.queryByTestId("api-server-exposed")).toBeNull();
    expect(s.queryByTestId("api-server-connection")).toBeNull();

    await u.click(s.getByTestId("api-server-enabled"));
    await u.clear(s.getByLabelText("Port"));
    await u.type(s.getByLabelText("Port"), "0");
    await u.type(s.getByTestId("api-server-cors"), "http://localhost:3000/\nhttp://localhost:8080, http://localhost:3000");
    await u.click(s.getByTestId("api-server-keep"));
    await u.clear(s.getByLabelText("Max queue"));
    await u.type(s.getByLabelText("Max queue"), "4");
    await u.click(screen.getByRole("button", { name: "Save" }));

    // Only apiServer changed, and it goes whole (a partial one is refused by the host).
    expect(fake.callsOf("updateSettings")).toEqual([
      {
        apiServer: {
          enabled: true,
          host: "127.0.0.1",
          port: 0,
          corsOrigins: ["http://localhost:3000", "http://localhost:8080"],
          keepConversations: true,
          maxQueue: 4,
        },
      },
    ]);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });

  it("leaves apiServer out of the patch when it did not change", async () => {
    const { u, fake } = await openSettings(new FakeClient({ settings: { apiServer: { enabled: true, host: "127.0.0.1", port: 8080, corsOrigins: ["*"], keepConversations: false, maxQueue: 16 } } }));
    await u.clear(screen.getByLabelText("Max tokens"));
    await u.type(screen.getByLabelText("Max tokens"), "512");
    await u.click(screen.getByRole("button", { name: "Save" }));
    expect(fake.callsOf("updateSettings")).toEqual([{ maxTokens: 512 }]);
  });

  it("warns in plain words that another address exposes the server and needs a key", async () => {
    const { u, section } = await openSettings();
    const s = within(section);
    await u.clear(s.getByLabelText("Address"));
    await u.type(s.getByLabelText("Address"), "localhost");
    expect(s.queryByTestId("api-server-exposed")).toBeNull();
    await u.clear(s.getByLabelText("Address"));
    await u.type(s.getByLabelText("Address"), "0.0.0.0");
    const warning = s.getByTestId("api-server-exposed").textContent;
    expect(warning).toContain("Any address other than 127.0.0.1 or localhost exposes the server to your network");
    expect(warning).toContain("needs an API key");
  });

  it("shows validation errors next to the fields and saves nothing", async () => {
    const { u, fake, section } = await openSettings();
    const s = within(section);
    await u.clear(s.getByLabelText("Address"));
    await u.type(s.getByLabelText("Address"), "http://0.0.0.0/");
    await u.clear(s.getByLabelText("Port"));
    await u.type(s.getByLabelText("Port"), "70000");
    await u.type(s.getByTestId("api-server-cors"), "localhost:3000");
    await u.clear(s.getByLabelText("Max queue"));
    await u.type(s.getByLabelText("Max queue"), "2000");
    await u.click(screen.getByRole("button", { name: "Save" }));

    expect(s.getAllByRole("alert").map((a) => a.textContent)).toEqual([
      "Enter only an address, e.g. 127.0.0.1 or 0.0.0.0 (no http:// and no path).",
      "The port must be between 0 and 65,535.",
      '"localhost:3000" is not an origin: write it like http://localhost:3000 (no path), or * for any page.',
      "The queue length must be between 0 and 1,024.",
    ]);
    expect(s.getByLabelText("Port").getAttribute("aria-invalid")).toBe("true");
    expect(fake.callsOf("updateSettings")).toEqual([]);
    expect(screen.getByRole("dialog", { name: "Settings" })).toBeTruthy();
  });

  it("sets and clears the key at once through setApiServerKey, showing only whether one is set", async () => {
    const { u, fake, section } = await openSettings();
    const s = within(section);
    const input = s.getByTestId("api-server-key") as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(s.getByTestId("api-server-key-status").textContent).toContain("No key is set");
    expect((s.getByTestId("api-server-key-clear") as HTMLButtonElement).disabled).toBe(true);

    // Too short: said before asking the host.
    await u.type(input, "short");
    await u.click(s.getByTestId("api-server-key-set"));
    expect(s.getByTestId("api-server-key-error").textContent).toBe("The key must be 8 to 500 characters long.");
    expect(fake.callsOf("setApiServerKey")).toEqual([]);

    // Enter sets it (without submitting the settings form).
    await u.clear(input);
    await u.type(input, "s3cret-key-for-tests{Enter}");
    expect(fake.callsOf("setApiServerKey")).toEqual([{ key: "s3cret-key-for-tests" }]);
    expect(fake.callsOf("updateSettings")).toEqual([]);
    await waitFor(() => expect(s.getByTestId("api-server-key-status").textContent).toContain("A key is set"));
    expect(input.value).toBe("");
    expect(section.textContent).not.toContain("s3cret");
    expect(s.getByTestId("api-server-key-set").textContent).toBe("Replace key");

    await u.click(s.getByTestId("api-server-key-clear"));
    expect(fake.callsOf("setApiServerKey")).toEqual([{ key: "s3cret-key-for-tests" }, { key: null }]);
    await waitFor(() => expect(s.getByTestId("api-server-key-status").textContent).toContain("No key is set"));
    expect(screen.getByRole("dialog", { name: "Settings" })).toBeTruthy();
  });

  it("shows the host's refusal of a key", async () => {
    const fake = new FakeClient();
    fake.failures.set("setApiServerKey", new TandemApiError("BAD_REQUEST", "key: too long"));
    const { u, section } = await openSettings(fake);
    const s = within(section);
    await u.type(s.getByTestId("api-server-key"), "long-enough-key");
    await u.click(s.getByTestId("api-server-key-set"));
    expect((await s.findByTestId("api-server-key-error")).textContent).toBe("key: too long");
  });

  it("shows the base URL and a curl example while running, with the key's header only when a key is set", async () => {
    const { u, section } = await openSettings();
    const s = within(section);
    act(() => useApiServerStore.getState().setStatus(running({ requests: 12 })));
    expect(s.getByTestId("api-server-state").textContent).toBe("Running · 12 requests");
    expect(s.getByTestId("api-server-url").textContent).toBe("http://127.0.0.1:11435/v1");
    const curl = s.getByTestId("api-server-curl").textContent!;
    expect(curl).toContain("curl http://127.0.0.1:11435/v1/chat/completions");
    expect(curl).toContain('"model": "qwen2.5-7b-instruct-q4_k_m.gguf"');
    expect(curl).not.toContain("Authorization");

    act(() => useApiServerStore.getState().setStatus(running({ keySet: true })));
    expect(s.getByTestId("api-server-curl").textContent).toContain('-H "Authorization: Bearer $TANDEM_API_KEY"');

    await u.click(s.getByTestId("api-server-url-copy"));
    expect(await navigator.clipboard.readText()).toBe("http://127.0.0.1:11435/v1");
    await u.click(s.getByTestId("api-server-curl-copy"));
    expect(await navigator.clipboard.readText()).toBe(s.getByTestId("api-server-curl").textContent);
  });

  it("shows Starting… and the error beside the toggle", async () => {
    const { section } = await openSettings();
    const s = within(section);
    act(() => useApiServerStore.getState().setStatus({ ...running(), state: "starting", baseUrl: null }));
    expect(s.getByTestId("api-server-state").textContent).toBe("Starting…");
    expect(s.queryByTestId("api-server-connection")).toBeNull();

    const error = "Refusing to listen on 0.0.0.0: an address other than 127.0.0.1 exposes Tandem to the network, so it needs an API key.";
    act(() => useApiServerStore.getState().setStatus({ ...running(), state: "error", baseUrl: null, host: "0.0.0.0", error }));
    expect(s.getByTestId("api-server-state").textContent).toBe("Not running");
    expect(s.getByTestId("api-server-error").textContent).toBe(error);
    expect(s.getByTestId("api-server-error").getAttribute("role")).toBe("alert");
    expect(s.queryByTestId("api-server-connection")).toBeNull();
  });
});

describe("status bar → API server", () => {
  it("is hidden when off, shows the port and counts while running, and a warning when it failed", async () => {
    const { fake } = await renderWithClient(new FakeClient());
    expect(screen.queryByTestId("status-api")).toBeNull();

    act(() => fake.emit("apiServerStatus", running({ requests: 12 })));
    const item = screen.getByTestId("status-api");
    expect(screen.getByTestId("status-api-text").textContent).toBe("API :11435 · 12 requests");
    expect(item.getAttribute("title")).toContain("http://127.0.0.1:11435/v1");

    act(() => fake.emit("apiServerStatus", running({ requests: 13, running: 1, waiting: 2 })));
    expect(screen.getByTestId("status-api-text").textContent).toBe("API :11435 · 13 requests · 1 running · 2 waiting");
    act(() => fake.emit("apiServerStatus", running({ requests: 1 })));
    expect(screen.getByTestId("status-api-text").textContent).toBe("API :11435 · 1 request");

    act(() => fake.emit("apiServerStatus", { ...running(), state: "error", baseUrl: null, error: "Port 11435 is already in use on 127.0.0.1: choose another port." }));
    expect(screen.getByTestId("status-api").getAttribute("data-state")).toBe("error");
    expect(screen.getByTestId("status-api-text").textContent).toBe("API server not running");
    expect(screen.getByTestId("status-api").getAttribute("title")).toContain("Port 11435 is already in use");

    act(() => fake.emit("apiServerStatus", { ...running(), state: "off", baseUrl: null }));
    expect(screen.queryByTestId("status-api")).toBeNull();
  });
});

describe("API server wording", () => {
  it("drops whole parts from the end when the room is short, never cutting a word", () => {
    expect(textsThatFit([60, 130, 190], 200)).toBe(3);
    expect(textsThatFit([60, 130, 190], 150)).toBe(2);
    expect(textsThatFit([60, 130, 190], 40)).toBe(1);
    // No layout (jsdom, a hidden window): everything.
    expect(textsThatFit([0, 0, 0], 0)).toBe(3);
    expect(apiServerParts(running({ requests: 1234, waiting: 1 }))).toEqual(["API :11435", "1,234 requests", "1 waiting"]);
    expect(fitCandidates(["API :11435", "12 requests", "1 running"])).toEqual(["API …", "API :11435 …", "API :11435 · 12 requests …", "API :11435 · 12 requests · 1 running"]);
    expect(fitCandidates(["API server", "not running"], " ")).toEqual(["API …", "API server …", "API server not running"]);
  });

  it("quotes the curl body for the shell", () => {
    expect(curlExample("http://127.0.0.1:1/v1", "it's.gguf", false)).toBe(
      [
        "curl http://127.0.0.1:1/v1/chat/completions \\",
        '  -H "Content-Type: application/json" \\',
        `  -d '{"model": "it'\\''s.gguf", "messages": [{"role": "user", "content": "Hello!"}]}'`,
      ].join("\n"),
    );
  });
});
