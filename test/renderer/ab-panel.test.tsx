import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Message } from "../../contracts/window/index.js";
import { App } from "../../renderer/src/components/App.js";
import { baselineFor } from "../../renderer/src/stores/benchmarks.js";
import { usePrefsStore } from "../../renderer/src/stores/prefs.js";
import { FakeClient, benchReport, draftInfo, makeSpecStats, makeStats } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";
import { benchVerdicts, measuredSummary } from "../../renderer/src/verdict.js";

type Seed = Omit<Message, "id" | "conversationId" | "createdAt">;
const base = { error: null, model: null, settings: null, stats: null } as const;

/** The app with the metrics panel open on a conversation whose last reply ran at 42.5 tokens/s. */
async function appWithReply(fake = new FakeClient()) {
  usePrefsStore.getState().setMetricsOpen(true);
  const seeds: Seed[] = [
    { ...base, role: "user", content: "Hello", status: "complete" },
    // Drafted, and run as benchReport's baseline was (4 threads on the CPU): comparable with it.
    {
      ...base,
      role: "assistant",
      content: "Hi there",
      status: "complete",
      model: fake.status.model?.name ?? null,
      stats: makeStats({ tokensPerSecond: 42.5, tokens: 3, threads: 4, backend: "cpu", speculation: makeSpecStats() }),
    },
  ];
  const c = fake.addConversation("Chat", seeds);
  const h = await renderWithClient(fake, <App />);
  await act(() => h.actions.selectConversation(c.id));
  return { ...h, u: userEvent.setup() };
}

const lastReply = () => screen.getByTestId("metrics-last");

describe("A/B benchmark panel", () => {
  it("runs the chosen modes with a progress bar, cancels, and shows the results table", async () => {
    const { fake, u } = await appWithReply();
    expect(within(lastReply()).getByTestId("fig-speedup").textContent).toBe("none: no measured baseline for this model yet (run the A/B benchmark)");

    await u.click(screen.getByTestId("ab-open"));
    const panel = screen.getByTestId("ab-panel");
    expect(within(panel).getByTestId("ab-no-results")).toBeTruthy();
    // No draft model loaded: the draft mode cannot be chosen.
    expect((within(panel).getByTestId("ab-mode-draft") as HTMLInputElement).disabled).toBe(true);
    expect((within(panel).getByTestId("ab-mode-lookup") as HTMLInputElement).checked).toBe(true);
    await u.click(within(panel).getByTestId("ab-mode-ngram"));
    await u.click(within(panel).getByTestId("ab-set-input-grounded"));
    await u.clear(within(panel).getByTestId("ab-limit"));
    await u.type(within(panel).getByTestId("ab-limit"), "2");
    await u.click(within(panel).getByTestId("ab-run"));
    expect(fake.callsOf("runBenchmark")).toEqual([{ promptSet: "input-grounded", modes: ["lookup", "ngram"], limit: 2, maxTokens: 64 }]);

    // Progress, then cancel.
    expect(within(panel).getByTestId("ab-progress")).toBeTruthy();
    expect(within(panel).getByTestId("ab-progress-text").textContent).toMatch(/Warming up/);
    act(() => fake.emit("benchmarkProgress", { done: 1, total: 4, mode: "lookup" }));
    const bar = within(panel).getByTestId("ab-progress") as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([1, 4]);
    expect(within(panel).getByTestId("ab-progress-text").textContent).toBe("1 / 4 prompt runs · 25% · lookup");
    expect(within(panel).getByTestId("ab-mode-ngram").matches(":disabled")).toBe(true); // form locked while running
    await u.click(within(panel).getByTestId("ab-cancel"));
    expect(fake.callsOf("cancelBenchmark")).toHaveLength(1);
    expect((await within(panel).findByTestId("ab-error")).textContent).toBe("Cancelled.");
    expect(within(panel).queryByTestId("ab-progress")).toBeNull();
    expect(within(panel).queryByTestId("ab-results")).toBeNull();
    expect(within(lastReply()).getByTestId("fig-speedup").textContent).toBe("none: no measured baseline for this model yet (run the A/B benchmark)");

    // Run again to the end: one row per mode.
    await u.click(within(panel).getByTestId("ab-run"));
    act(() => fake.emit("benchmarkProgress", { done: 3, total: 4, mode: "ngram" }));
    await act(async () => {
      fake.finishBenchmark({
        lookup: { speedup: 1.5, speedupMedian: 1.48, identicalOutputs: true },
        ngram: { speedup: 0.93, speedupMedian: 0.95, identicalOutputs: false, efficiency: 0.5, speculative: { ...benchReport({ mode: "ngram" }).speculative, acceptanceRate: 0.25, meanAcceptedPerStep: 0.31 } },
      });
    });
    const results = await within(panel).findByTestId("ab-results");
    expect(within(panel).queryByTestId("ab-progress")).toBeNull();
    expect(within(panel).queryByTestId("ab-error")).toBeNull();
    const lookup = within(results).getByTestId("ab-row-lookup");
    const ngram = within(results).getByTestId("ab-row-ngram");
    expect(within(lookup).getByTestId("ab-speedup").textContent).toBe("1.50× (1.48×)");
    expect(within(lookup).getByTestId("ab-acceptance").textContent).toBe("75% (150/200)");
    expect(within(lookup).getByTestId("ab-identical").textContent).toBe("identical ✓");
    expect(lookup.textContent).toContain("+1.20"); // accepted per decode
    expect(lookup.textContent).toContain("1.90×"); // theoretical bound
    expect(lookup.textContent).toContain("79%"); // efficiency
    expect(within(ngram).getByTestId("ab-speedup").textContent).toBe("0.93× (0.95×)");
    expect(within(ngram).getByTestId("ab-acceptance").textContent).toBe("25% (150/200)");
    expect(within(ngram).getByTestId("ab-identical").textContent).toBe("DIFFERENT");
    expect(within(results).getByText(/input-grounded · 3 prompts/)).toBeTruthy();

    // The saved result is now the metrics panel's baseline: 42.5 tok/s live over 40 tok/s measured.
    const speedup = within(lastReply()).getByTestId("fig-speedup");
    expect(speedup.textContent).toMatch(/^1\.06× vs 40(\.0)? tok\/s, measured /);
    expect(screen.getByTestId("baseline-note").textContent).toMatch(/^Baseline: 40(\.0)? tok\/s plain decoding, measured /);
  });

  it("offers the draft mode when a draft model is loaded and shows the saved result for this model", async () => {
    const fake = new FakeClient({ draft: "/models/draft.gguf" });
    const model = fake.status.model!.name;
    fake.benchmarks = [
      { id: "old", createdAt: Date.UTC(2026, 0, 1), model, draft: "draft.gguf", promptSet: "free-chat", reports: [benchReport({ mode: "draft", model, baseline: { tokensPerSecond: 10, tokens: 100 } })] },
    ];
    const { u } = await appWithReply(fake);
    // Loaded at start for the metrics panel: 42.5 / 10.
    expect(within(lastReply()).getByTestId("fig-speedup").textContent).toMatch(/^4\.25× vs 10(\.0)? tok\/s, measured /);
    await u.click(screen.getByTestId("ab-open"));
    const panel = screen.getByTestId("ab-panel");
    expect((within(panel).getByTestId("ab-mode-draft") as HTMLInputElement).disabled).toBe(false);
    expect((within(panel).getByTestId("ab-mode-draft") as HTMLInputElement).checked).toBe(true);
    expect(within(within(panel).getByTestId("ab-results")).getByTestId("ab-row-draft")).toBeTruthy();
    expect(draftInfo("/models/draft.gguf").name).toBe("draft.gguf");
  });

  it("never uses another model's benchmark as the baseline", async () => {
    const fake = new FakeClient();
    fake.benchmarks = [{ id: "x", createdAt: 1, model: "another.gguf", draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup" })] }];
    await appWithReply(fake);
    expect(within(lastReply()).getByTestId("fig-speedup").textContent).toBe("none: no measured baseline for this model yet (run the A/B benchmark)");
  });
});

describe("baselineFor", () => {
  it("takes the latest result of the model, pooling its reports' baselines by tokens", () => {
    const r = (id: string, createdAt: number, model: string, tps: number[]) => ({
      id,
      createdAt,
      model,
      draft: null,
      promptSet: "free-chat" as const,
      reports: tps.map((t, i) => benchReport({ mode: i ? "ngram" : "lookup", baseline: { tokensPerSecond: t, tokens: 100 * (i + 1) } })),
    });
    const results = [r("a", 1, "m.gguf", [10]), r("b", 3, "m.gguf", [30, 60]), r("c", 5, "other.gguf", [99])];
    expect(baselineFor(results, "m.gguf")).toEqual({ tokensPerSecond: 50, measuredAt: 3, resultId: "b", threads: 4, backend: "cpu" });
    expect(baselineFor(results, "none.gguf")).toBeNull();
    expect(baselineFor(null, "m.gguf")).toBeNull();
  });
});

describe("A/B verdict", () => {
  const result = (reports: Parameters<typeof benchReport>[0][]) => ({
    id: "r",
    createdAt: Date.UTC(2026, 11, 1),
    model: "m.gguf",
    draft: "d.gguf",
    promptSet: "free-chat" as const,
    reports: reports.map((r) => benchReport({ model: "m.gguf", ...r })),
  });

  it("says in one plain line per mode how a measured slower and a measured faster mode did", () => {
    const lines = benchVerdicts(result([{ mode: "draft", speedup: 0.7 }, { mode: "lookup", speedup: 1.45 }, { mode: "auto", speedup: 1.12 }])).map((v) => v.line);
    expect(lines).toEqual([
      "Draft model: 30% slower on this machine — keep Auto",
      "Prompt lookup: 45% faster on this machine — worth using",
      "Auto: 12% faster on this machine — keep Auto",
    ]);
  });

  it("advises Off when every mode measured slower, and says when a mode made no difference", () => {
    const lines = benchVerdicts(result([{ mode: "draft", speedup: 0.65 }, { mode: "auto", speedup: 0.9 }, { mode: "ngram", speedup: 1.02 }])).map((v) => v.line);
    expect(lines).toEqual([
      "Draft model: 35% slower on this machine — speculation Off is fastest here",
      "Auto: 10% slower on this machine — speculation Off is fastest here",
      "Learned n-grams: about as fast as without it on this machine — no gain",
    ]);
    expect(measuredSummary(result([{ mode: "draft", speedup: 0.65 }]))).toBe("Measured on this machine: Draft model 35% slower.");
    expect(measuredSummary(null)).toBeNull();
  });

  it("shows the verdict in the panel and keeps earlier runs listed", async () => {
    const fake = new FakeClient();
    const model = fake.status.model!.name;
    fake.benchmarks = [
      { id: "new", createdAt: Date.UTC(2026, 11, 2), model, draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup", model, speedup: 1.3 })] },
      { id: "old", createdAt: Date.UTC(2026, 11, 1), model, draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup", model, speedup: 0.8 })] },
    ];
    const { u } = await appWithReply(fake);
    await u.click(screen.getByTestId("ab-open"));
    const panel = screen.getByTestId("ab-panel");
    expect(within(within(panel).getByTestId("ab-results")).getByTestId("ab-verdict-lookup").textContent).toBe(
      "Prompt lookup: 30% faster on this machine — worth using",
    );
    const earlier = within(panel).getByTestId("ab-earlier");
    expect(within(earlier).getAllByTestId("ab-earlier-run")).toHaveLength(1);
    expect(within(earlier).getByTestId("ab-verdict-lookup").textContent).toBe("Prompt lookup: 20% slower on this machine — keep Auto");

    // A new run is added on top; the earlier ones stay listed.
    await u.click(within(panel).getByTestId("ab-run"));
    act(() => void fake.finishBenchmark({ lookup: { speedup: 0.5 } }, Date.UTC(2026, 11, 3)));
    await waitFor(() => expect(within(panel).getAllByTestId("ab-earlier-run")).toHaveLength(2));
    expect(within(within(panel).getByTestId("ab-results")).getByTestId("ab-verdict-lookup").textContent).toBe(
      "Prompt lookup: 50% slower on this machine — keep Auto",
    );
  });
});
