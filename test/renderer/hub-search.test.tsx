import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { TandemApiError, type HubFile, type HubModel } from "../../contracts/window/index.js";
import { FakeClient, libraryFiles } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

const GB = 1024 ** 3;

const results: HubModel[] = [
  { repo: "bartowski/Llama-3.2-1B-Instruct-GGUF", author: "bartowski", downloads: 184_233, likes: 112, updatedAt: Date.UTC(2024, 8, 25), gated: false },
  { repo: "meta-llama/Llama-3.2-1B-GGUF", author: "meta-llama", downloads: 1_250_000, likes: 640, updatedAt: null, gated: true },
];

const files: HubFile[] = [
  {
    repo: "bartowski/Llama-3.2-1B-Instruct-GGUF",
    path: "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    name: "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    sizeBytes: 0.75 * GB,
    sha256: "a".repeat(64),
    quantization: "Q4_K_M",
    parts: 1,
    source: "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
  },
  {
    repo: "bartowski/Llama-3.2-1B-Instruct-GGUF",
    path: "F32/Llama-3.2-1B-Instruct-F32-00001-of-00002.gguf",
    name: "Llama-3.2-1B-Instruct-F32-00001-of-00002.gguf",
    sizeBytes: 5 * GB,
    sha256: null,
    quantization: "F32",
    parts: 2,
    source: "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/F32/Llama-3.2-1B-Instruct-F32-00001-of-00002.gguf",
  },
];

async function openSearch(fake = new FakeClient()) {
  const u = userEvent.setup();
  fake.files = [...libraryFiles];
  fake.hubResults = results;
  fake.hubFiles = files;
  await renderWithClient(fake);
  await u.click(screen.getByTestId("model-picker"));
  await u.click(screen.getByTestId("open-models-screen"));
  const dialog = await screen.findByTestId("models-screen");
  const section = within(dialog).getByTestId("downloads-section");
  const search = within(section).getByTestId("hub-search");
  return { u, fake, section, search };
}

describe("Hub search", () => {
  it("searches with Enter, lists repos with downloads, likes, updated and a lock for gated ones", async () => {
    const { u, fake, search } = await openSearch();
    expect((within(search).getByTestId("hub-search-button") as HTMLButtonElement).disabled).toBe(true);
    await u.type(within(search).getByTestId("hub-query"), "llama{Enter}");
    expect(fake.callsOf("searchHub")).toEqual([{ query: "llama" }]);
    const rows = await within(search).findAllByTestId("hub-result");
    expect(rows.map((r) => within(r).getByRole("button").getAttribute("aria-expanded"))).toEqual(["false", "false"]);
    expect(within(rows[0]).getByTestId("hub-meta").textContent).toBe("184.2K downloads · 112 likes · updated 2024-09-25");
    expect(within(rows[1]).getByTestId("hub-meta").textContent).toBe("1.3M downloads · 640 likes");
    expect(within(rows[0]).queryByTestId("hub-gated")).toBeNull();
    expect(within(rows[1]).getByTestId("hub-gated").getAttribute("title")).toMatch(/needs a Hugging Face token/);
    expect(fake.callsOf("listHubFiles")).toEqual([]);
  });

  it("a repo lists its GGUF files with size, quantization and a fit pill; Download starts it with its SHA-256", async () => {
    const fake = new FakeClient();
    const held: (() => void)[] = [];
    const release = () => held.shift()?.();
    const estimate = fake.estimateFit.bind(fake);
    // Hold the estimates so the "checking…" state can be seen.
    const asked: unknown[] = [];
    fake.estimateFit = async (params) => {
      asked.push(params);
      await new Promise<void>((resolve) => held.push(resolve));
      return estimate(params);
    };
    const { u, section, search } = await openSearch(fake);
    await u.type(within(search).getByTestId("hub-query"), "llama");
    await u.click(within(search).getByTestId("hub-search-button"));
    const [first] = await within(search).findAllByTestId("hub-result");
    await u.click(within(first).getByRole("button", { name: /bartowski/ }));
    expect(within(first).getByRole("button", { name: /bartowski/ }).getAttribute("aria-expanded")).toBe("true");
    expect(fake.callsOf("listHubFiles")).toEqual([{ repo: "bartowski/Llama-3.2-1B-Instruct-GGUF" }]);

    const rows = await within(first).findAllByTestId("hub-file");
    expect(rows.map((r) => [within(r).getByTestId("hub-quant").textContent, within(r).getByTestId("hub-size").textContent])).toEqual([
      ["Q4_K_M", "768 MB"],
      ["F32", "5.0 GB · 2 parts"],
    ]);
    expect(rows.map((r) => within(r).getByTestId("hub-fit").textContent)).toEqual(["checking…", "checking…"]);
    // Lazily, per file: one estimate per source.
    await waitFor(() => expect(asked).toEqual([{ source: files[0].source }, { source: files[1].source }]));
    await act(async () => release());
    await waitFor(() => expect(within(rows[0]).getByTestId("hub-fit").dataset.verdict).toBe("fits"));
    await act(async () => release());
    await waitFor(() => expect(within(rows[1]).getByTestId("hub-fit").dataset.verdict).toBe("fits"));
    const pill = within(rows[0]).getByTestId("hub-fit");
    expect(pill.textContent).toContain("Fits");
    expect(pill.getAttribute("title")).toBe(fake.fitEstimate.message);

    await u.click(within(rows[0]).getByTestId("hub-download"));
    expect(fake.callsOf("startDownload")).toEqual([{ source: files[0].source, sha256: "a".repeat(64) }]);
    const card = await within(section).findByTestId("download-card");
    expect(card.dataset.state).toBe("downloading");
    expect(within(rows[0]).getByTestId("hub-download").textContent).toBe("In downloads");
    expect((within(rows[0]).getByTestId("hub-download") as HTMLButtonElement).disabled).toBe(true);
    // A split set has no SHA-256: none is sent.
    await u.click(within(rows[1]).getByTestId("hub-download"));
    expect(fake.callsOf("startDownload")[1]).toEqual({ source: files[1].source });
  });

  it("shows a verdict that does not fit with its message, and an estimate that fails", async () => {
    const fake = new FakeClient();
    fake.fitEstimate = { ...fake.fitEstimate, verdict: "wont-fit", message: "Needs about 9.1 GB; 6.0 GB is free. Try a context of 2048." };
    const { u, search } = await openSearch(fake);
    await u.type(within(search).getByTestId("hub-query"), "llama{Enter}");
    const [first] = await within(search).findAllByTestId("hub-result");
    fake.failures.set("estimateFit", new TandemApiError("HUB_FAILED", "the header could not be read (HTTP 403)"));
    await u.click(within(first).getByRole("button", { name: /bartowski/ }));
    const rows = await within(first).findAllByTestId("hub-file");
    await waitFor(() => expect(within(rows[0]).getByTestId("hub-fit").dataset.verdict).toBe("error"));
    expect(within(rows[0]).getByTestId("hub-fit").textContent).toBe("can't estimate: the header could not be read (HTTP 403)");
    await waitFor(() => expect(within(rows[1]).getByTestId("hub-fit").dataset.verdict).toBe("wont-fit"));
    expect(within(rows[1]).getByTestId("hub-fit").textContent).toBe("Won't fit");
    expect(within(rows[1]).getByTestId("hub-fit-message").textContent).toBe("Needs about 9.1 GB; 6.0 GB is free. Try a context of 2048.");
  });

  it("says when nothing matches, and shows the host's error (offline, rate limited, gated)", async () => {
    const { u, fake, search } = await openSearch();
    const input = within(search).getByTestId("hub-query");
    await u.type(input, "zzzz{Enter}");
    expect((await within(search).findByTestId("hub-status")).textContent).toBe("No GGUF models on the Hub match “zzzz”.");

    fake.failures.set("searchHub", new TandemApiError("HUB_FAILED", "Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve (offline?). Check the internet connection."));
    await u.clear(input);
    await u.type(input, "llama{Enter}");
    expect((await within(search).findByTestId("hub-error")).textContent).toMatch(/^Can't reach the Hugging Face Hub/);
    expect(within(search).queryAllByTestId("hub-result")).toHaveLength(0);

    fake.failures.set("searchHub", new TandemApiError("HUB_FAILED", "The Hugging Face Hub is rate limiting requests (HTTP 429); try again in a minute."));
    await u.click(within(search).getByTestId("hub-search-button"));
    expect((await within(search).findByTestId("hub-error")).textContent).toMatch(/rate limiting/);

    await u.click(within(search).getByTestId("hub-search-button"));
    const rows = await within(search).findAllByTestId("hub-result");
    fake.failures.set("listHubFiles", new TandemApiError("HUB_FAILED", "meta-llama/Llama-3.2-1B-GGUF is gated or private (HTTP 401); it needs a Hugging Face token with access: add one in Settings."));
    await u.click(within(rows[1]).getByRole("button", { name: /meta-llama/ }));
    expect((await within(rows[1]).findByTestId("hub-files-error")).textContent).toMatch(/needs a Hugging Face token with access/);
  });

  it("is keyboard-usable: Tab to a repo, Enter opens its files, Tab reaches Download", async () => {
    const { u, fake, search } = await openSearch();
    within(search).getByTestId("hub-query").focus();
    await u.keyboard("llama{Enter}");
    const [first] = await within(search).findAllByTestId("hub-result");
    const repoButton = within(first).getByRole("button", { name: /bartowski/ });
    await u.tab(); // the Search button
    await u.tab();
    expect(document.activeElement).toBe(repoButton);
    await u.keyboard("{Enter}");
    const rows = await within(first).findAllByTestId("hub-file");
    await u.tab();
    expect(document.activeElement).toBe(within(rows[0]).getByTestId("hub-download"));
    await u.keyboard("{Enter}");
    expect(fake.callsOf("startDownload")).toEqual([{ source: files[0].source, sha256: "a".repeat(64) }]);
  });
});
