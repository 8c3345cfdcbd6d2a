import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Profiler } from "react";
import { describe, expect, it } from "vitest";
import type { Message } from "../../contracts/window/index.js";
import type { ChartData, ChartFactory, ChartSpec } from "../../renderer/src/charts/adapter.js";
import { ChartFactoryContext } from "../../renderer/src/charts/adapter.js";
import { App } from "../../renderer/src/components/App.js";
import { MessageList } from "../../renderer/src/components/MessageList.js";
import { MetricsPanel } from "../../renderer/src/components/MetricsPanel.js";
import { useConversationsStore } from "../../renderer/src/stores/conversations.js";
import { useMetricsStore } from "../../renderer/src/stores/metrics.js";
import { PREFS_KEYS, usePrefsStore } from "../../renderer/src/stores/prefs.js";
import { FakeClient, benchReport, makeStats } from "./fake-client.js";
import { recordedContent, recordedEvents, recordedStats, recordedSteps } from "./fixtures/speculative-reply.js";
import { reloadPage, renderWithClient } from "./helpers.js";

const fakeTrace = (fake: FakeClient, id: string) => [...fake.messages.values()].flat().find((m) => m.id === id)?.trace;

/** A chart factory that draws nothing and remembers what each chart was given. */
class FakeCharts implements ChartFactory {
  readonly created: string[] = [];
  readonly data = new Map<string, ChartData>();
  readonly destroyed: string[] = [];
  create(_target: HTMLElement, spec: ChartSpec, data: ChartData) {
    this.created.push(spec.id);
    this.data.set(spec.id, data);
    return {
      setData: (d: ChartData) => void this.data.set(spec.id, d),
      setSize: () => {},
      destroy: () => void this.destroyed.push(spec.id),
    };
  }
  /** The series of a chart by position (0 = x). */
  series(id: string, i: number): (number | null)[] {
    const d = this.data.get(id);
    if (!d) throw new Error(`No chart ${id}`);
    return d[i];
  }
}

type Seed = Omit<Message, "id" | "conversationId" | "createdAt">;
const base = { error: null, model: null, settings: null, stats: null } as const;
const user = (content: string): Seed => ({ ...base, role: "user", content, status: "complete" });
const assistant = (content: string, extra: Partial<Seed> = {}): Seed => ({ ...base, role: "assistant", content, status: "complete", ...extra });

/** A conversation whose last reply is streaming; returns helpers to play the recorded stream into it. */
async function streamingChat(options: { earlier?: Seed[]; charts?: FakeCharts; ui?: (charts: FakeCharts) => React.ReactNode } = {}) {
  const fake = new FakeClient();
  const charts = options.charts ?? new FakeCharts();
  const c = fake.addConversation("Psalm", [...(options.earlier ?? []), user("The LORD is my shepherd; I shall not want."), assistant("", { status: "streaming" })]);
  const reply = fake.messages.get(c.id)!.at(-1)!;
  const ui = options.ui?.(charts) ?? (
    <ChartFactoryContext.Provider value={charts}>
      <App />
    </ChartFactoryContext.Provider>
  );
  const h = await renderWithClient(fake, ui);
  await act(() => h.actions.selectConversation(c.id));
  const events = recordedEvents();
  /** Emits the recorded events from..to (exclusive) and runs one animation frame. */
  const play = (from = 0, to = events.length) => {
    for (const e of events.slice(from, to)) fake.emit("tokens", { conversationId: c.id, messageId: reply.id, ...e });
    h.frame();
  };
  const complete = (stats = recordedStats) => act(() => void fake.completeMessage(reply.id, { content: recordedContent, stats }));
  return { ...h, charts, conversation: c, reply, play, complete, u: userEvent.setup() };
}

/** The tinted spans of a message's text, grouped by verify step: step → text. */
function tintedByStep(message: HTMLElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const span of message.querySelectorAll<HTMLElement>(".tok-draft")) {
    const step = span.dataset.step!;
    out[step] = (out[step] ?? "") + span.textContent;
  }
  return out;
}

const num = (id: string, scope: HTMLElement) => Number(within(scope).getByTestId(id).textContent);

describe("recorded speculative stream", () => {
  it("the fixture is self-consistent: its steps add up to the recorded counters", () => {
    const spec = recordedStats.speculation!;
    const steps = recordedSteps.map((s) => s.step);
    expect(steps.reduce((n, s) => n + s.proposed, 0)).toBe(spec.proposed);
    expect(steps.reduce((n, s) => n + s.accepted, 0)).toBe(spec.accepted);
    expect(recordedSteps.flatMap((s) => s.tokens).filter(([, src]) => src === "draft").length).toBe(spec.accepted);
    expect(recordedSteps.flatMap((s) => s.tokens).length).toBe(recordedStats.tokens);
    expect(spec.proposed).toBe(spec.accepted + spec.rejected);
  });
});

describe("draft token tint", () => {
  it("tints accepted draft text only, with its verify step, through markdown and code blocks", async () => {
    const h = await streamingChat();
    h.play();
    const message = screen.getByTestId("message-assistant");
    // Only the words: the space a token carries before its word is not tinted (the code's tokens are split by the
    // highlighter, each part tinted without its spaces).
    const expected = { "1": "LORD", "3": "shepherd; I", "4": "not", "5": ".", "6": "a =1" };
    // While streaming…
    expect(tintedByStep(message)).toEqual(expected);
    await h.complete();
    // …and after the final message replaced the streamed text.
    expect(message.dataset.status).toBe("complete");
    expect(tintedByStep(message)).toEqual(expected);

    // Markdown is rendered as usual: bold text and a code block, with tinted spans inside them.
    const strong = message.querySelector("strong")!;
    expect(strong.textContent).toBe("LORD");
    expect(strong.querySelector(".tok-draft")?.textContent).toBe("LORD");
    const code = within(message).getByTestId("code-block");
    expect(code.querySelector("pre")!.textContent).toBe("let a = 1;\n");
    expect([...code.querySelectorAll(".tok-draft")].map((s) => s.textContent)).toEqual(["a =", "1"]);
    // No tinted span starts or ends with a space.
    expect([...message.querySelectorAll(".tok-draft")].every((s) => s.textContent === s.textContent!.trim())).toBe(true);
    // The full text is unchanged by the tint.
    expect(message.querySelector(".markdown p")!.textContent).toBe("The LORD is my shepherd; I shall not want.");

    // Hovering shows the verify step.
    const lord = strong.querySelector<HTMLElement>(".tok-draft")!;
    expect(lord.title).toBe("step 1: proposed 4, accepted 3 · draft model");
    expect(message.querySelector<HTMLElement>('.tok-draft[data-step="3"]')!.title).toBe("step 3: proposed 4, accepted 4 · draft model");
  });

  it("keeps a reply's tint and per-token charts after a reload, rebuilt from its stored per-token record", async () => {
    const h = await streamingChat();
    await h.u.click(screen.getByTestId("metrics-toggle"));
    h.play();
    await h.complete();
    const expectedTint = tintedByStep(screen.getByTestId("message-assistant"));
    const before = [0, 1, 2].map((i) => h.charts.series("reply", i));
    const histogram = h.charts.series("histogram", 1);
    expect(fakeTrace(h.fake, h.reply.id)).toBeTruthy();

    const charts = new FakeCharts();
    await reloadPage(
      h,
      <ChartFactoryContext.Provider value={charts}>
        <App />
      </ChartFactoryContext.Provider>,
    );
    // The reload lands on the same chat; the reply's text is tinted as before and its charts have the same points.
    const message = await screen.findByTestId("message-assistant");
    await waitFor(() => expect(tintedByStep(message)).toEqual(expectedTint));
    if (screen.getByTestId("metrics-toggle").getAttribute("aria-pressed") !== "true") await h.u.click(screen.getByTestId("metrics-toggle"));
    expect(Object.keys(expectedTint)).toEqual(["1", "3", "4", "5", "6"]);
    await waitFor(() => expect(charts.series("reply", 0)).toEqual(before[0]));
    expect(charts.series("reply", 1)).toEqual(before[1]);
    expect(charts.series("reply", 2)).toEqual(before[2]);
    expect(charts.series("histogram", 1)).toEqual(histogram);
  });

  it("the toolbar toggle turns the tint off and on, remembered in localStorage", async () => {
    const h = await streamingChat();
    h.play();
    await h.complete();
    const message = screen.getByTestId("message-assistant");
    const toggle = screen.getByTestId("tint-toggle");
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    expect(message.querySelectorAll(".tok-draft").length).toBeGreaterThan(0);

    await h.u.click(toggle);
    expect(toggle.getAttribute("aria-pressed")).toBe("false");
    expect(message.querySelectorAll(".tok-draft")).toHaveLength(0);
    expect(message.querySelector(".markdown p")!.textContent).toBe("The LORD is my shepherd; I shall not want.");
    expect(message.querySelector(".markdown pre")!.textContent).toBe("let a = 1;\n");
    expect(localStorage.getItem(PREFS_KEYS.tint)).toBe("0");

    await h.u.click(toggle);
    expect(Object.keys(tintedByStep(message))).toEqual(["1", "3", "4", "5", "6"]);
    expect(localStorage.getItem(PREFS_KEYS.tint)).toBe("1");
  });

  it("leaves replies untinted when their origin is unknown: stored replies, or a stream joined midway", async () => {
    // Stored before this window listened: no segments.
    const fake = new FakeClient();
    const c = fake.addConversation("Old", [user("q"), assistant(recordedContent, { stats: recordedStats })]);
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    expect(screen.getByTestId("message-assistant").querySelector("strong")!.textContent).toBe("LORD");
    expect(document.querySelectorAll(".tok-draft")).toHaveLength(0);

    // A reply already streaming when fetched: its first text has no known source, so none of it is tinted.
    const reply = fake.message(c.id, "assistant", "The **LORD**", { status: "streaming" });
    fake.messages.get(c.id)!.push(fake.message(c.id, "user", "again"), reply);
    await act(() => h.actions.selectConversation(c.id));
    const [first, ...rest] = recordedEvents().slice(2);
    act(() => fake.emit("tokens", { conversationId: c.id, messageId: reply.id, ...first }));
    for (const e of rest) act(() => fake.emit("tokens", { conversationId: c.id, messageId: reply.id, ...e }));
    h.frame();
    const streaming = screen.getAllByTestId("message-assistant")[1];
    expect(streaming.textContent).toContain("shepherd");
    expect(streaming.querySelectorAll(".tok-draft")).toHaveLength(0);
  });
});

describe("stats footer", () => {
  it("shows tokens, speed, time to first token, stop reason, speculator, acceptance and the cache outcome", async () => {
    const h = await streamingChat();
    h.play();
    await h.complete({ ...recordedStats, cache: { outcome: "disk-restore", restoredTokens: 30, restoreMs: 12 } } as typeof recordedStats);
    const stats = screen.getByTestId("message-stats");
    expect([...stats.children].map((c) => c.textContent)).toEqual([
      "21 tokens",
      "57.1 tok/s",
      "100 ms to first token",
      "460 ms",
      "finished",
      "50% accepted · +1.63 tokens/step · draft",
      "cache: disk restore",
    ]);
    // The jargon explained in plain words.
    expect(within(stats).getByTestId("message-cache").title).toBe(
      "Conversation cache: disk restore — the conversation's saved state was loaded from disk instead of reading it again\n30 prompt tokens already in the context\nrestored in 12 ms",
    );
  });

  it("names every cache outcome and shows none when the stats carry no cache field", async () => {
    const outcomes = { "slot-hit": "slot hit", "disk-restore": "disk restore", "prefix-reuse": "prefix reuse", cold: "re-prefill" };
    const seeds = Object.keys(outcomes).flatMap((outcome) => [
      user(outcome),
      assistant("a", { stats: { ...makeStats(), cache: { outcome, restoredTokens: 0, restoreMs: 0 } } as Message["stats"] }),
    ]);
    const fake = new FakeClient();
    const c = fake.addConversation("Cache", [...seeds, user("plain"), assistant("b", { stats: makeStats() })]);
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    const replies = screen.getAllByTestId("message-assistant");
    expect(replies.slice(0, 4).map((r) => within(r).getByTestId("message-cache").textContent)).toEqual(
      Object.values(outcomes).map((o) => `cache: ${o}`),
    );
    // Each term is explained in words a user knows, in its tooltip.
    const titles = replies.slice(0, 4).map((r) => within(r).getByTestId("message-cache").title.split("\n")[0]);
    expect(titles[0]).toBe("Conversation cache: slot hit — the conversation was still in memory, so the model did not read it again");
    expect(titles[3]).toBe("Conversation cache: re-prefill — the model read the whole conversation again (it was no longer in memory or on disk)");
    expect(titles.every((t) => t.includes(" — "))).toBe(true);
    expect(within(replies[4]).queryByTestId("message-cache")).toBeNull();
  });
});

describe("metrics panel", () => {
  it("opens from the header, remembers it, and shows live figures that add up while the reply streams", async () => {
    const h = await streamingChat();
    expect(screen.queryByTestId("metrics-panel")).toBeNull();
    await h.u.click(screen.getByTestId("metrics-toggle"));
    expect(localStorage.getItem(PREFS_KEYS.metricsOpen)).toBe("1");
    const panel = screen.getByTestId("metrics-panel");
    expect(within(panel).getByTestId("metrics-live").textContent).toContain("Waiting for the first token");

    // Steps 0..3 so far: proposed 4+4+4 = 12, accepted 3+0+4 = 7.
    h.play(0, 4);
    const live = within(panel).getByTestId("metrics-live");
    expect(num("fig-proposed", live)).toBe(12);
    expect(num("fig-accepted", live)).toBe(7);
    expect(num("fig-rejected", live)).toBe(5);
    expect(within(live).getByTestId("fig-acceptance").textContent).toBe("58.3%");
    expect(within(live).getByTestId("fig-per-decode").textContent).toBe("+1.75"); // 7 accepted / 4 decodes
    expect(within(live).getByTestId("fig-ttft").textContent).toBe("100 ms");
    expect(within(live).getByTestId("fig-tokens").textContent).toBe("11");
    expect(within(live).getByTestId("fig-tps").textContent).toBe("66.7 tok/s"); // 10 tokens in 150 ms
    expect(within(live).getByTestId("fig-speculator").textContent).toBe("draft");
    expect(within(live).getByTestId("fig-draft-length").textContent).toBe("4");
    expect(within(live).getByTestId("fig-time-share").textContent).toBe("when the reply ends");
    expect(within(live).getByTestId("fig-speedup").textContent).toBe("none: no measured baseline for this model yet (run the A/B benchmark)");

    // The whole stream: the live figures reach the engine's counters before the final stats arrive.
    h.play(4);
    const spec = recordedStats.speculation!;
    expect([num("fig-proposed", live), num("fig-accepted", live), num("fig-rejected", live)]).toEqual([spec.proposed, spec.accepted, spec.rejected]);
    expect(within(live).getByTestId("fig-tps").textContent).toBe("57.1 tok/s");
    expect(within(live).getByTestId("fig-per-decode").textContent).toBe("+1.63");

    await h.complete();
    expect(within(panel).queryByTestId("metrics-live")).toBeNull();
  });

  it("shows the last reply's figures equal to the engine's counters, proposed = accepted + rejected", async () => {
    localStorage.setItem(PREFS_KEYS.metricsOpen, "1");
    const { usePrefsStore, storedPrefs } = await import("../../renderer/src/stores/prefs.js");
    usePrefsStore.setState(storedPrefs());
    const h = await streamingChat();
    h.play();
    await h.complete();
    const last = within(screen.getByTestId("metrics-panel")).getByTestId("metrics-last");
    const spec = recordedStats.speculation!;
    const [proposed, accepted, rejected] = ["fig-proposed", "fig-accepted", "fig-rejected"].map((id) => num(id, last));
    expect(accepted).toBe(spec.accepted);
    expect(proposed).toBe(spec.proposed);
    expect(rejected).toBe(spec.rejected);
    expect(proposed).toBe(accepted + rejected);
    expect(within(last).getByTestId("fig-drafted").textContent).toBe("26 proposed = 13 accepted + 13 rejected");
    expect(within(last).getByTestId("fig-acceptance").textContent).toBe(`${spec.acceptanceRate * 100}%`);
    expect(within(last).getByTestId("fig-per-decode").textContent).toBe(`+${spec.meanAcceptedPerStep.toFixed(2)}`);
    expect(within(last).getByTestId("fig-per-decode").closest<HTMLElement>(".metric-row")!.title).toContain("13 / 8)");
    expect(within(last).getByTestId("fig-tps").textContent).toBe("57.1 tok/s");
    expect(within(last).getByTestId("fig-ttft").textContent).toBe("100 ms");
    expect(within(last).getByTestId("fig-tokens").textContent).toBe("21 · finished");
    expect(within(last).getByTestId("fig-time-share").textContent).toBe("guessing 20% · checking 80%"); // 60 / 240 ms
    expect(within(last).getByTestId("fig-speculator").textContent).toBe("draft");
    expect(within(last).getByTestId("fig-draft-length").textContent).toBe(String(spec.finalDraftLength));
    expect(within(last).getByTestId("fig-speedup").textContent).toBe("none: no measured baseline for this model yet (run the A/B benchmark)");
  });

  it("feeds the charts the reply's points, the histogram and the conversation's replies", async () => {
    const earlier = [
      user("first"),
      assistant("plain", { stats: makeStats() }),
      user("second"),
      assistant("spec", {
        stats: makeStats({
          targetDecodes: 10,
          speculation: { ...recordedStats.speculation!, proposed: 20, accepted: 5, rejected: 15, acceptedHistogram: [3, 1, 2] },
        }),
      }),
    ];
    const h = await streamingChat({ earlier });
    await h.u.click(screen.getByTestId("metrics-toggle"));
    h.play(0, 2);
    const { charts } = h;
    // One point per event: tokens so far, tok/s over the last second, acceptance so far.
    expect(charts.series("reply", 0)).toEqual([1, 5]);
    expect(charts.series("reply", 1)).toEqual([null, 80]); // 4 tokens in 50 ms
    expect(charts.series("reply", 2)).toEqual([null, 0.75]);
    expect(charts.series("histogram", 0)).toEqual([0, 1, 2, 3, 4]);
    expect(charts.series("histogram", 1)).toEqual([0, 0, 0, 1, 0]);

    h.play(2);
    expect(charts.series("reply", 0)).toEqual([1, 5, 6, 11, 13, 16, 20, 21]);
    expect(charts.series("reply", 2)).toEqual([null, 3 / 4, 3 / 8, 7 / 12, 8 / 15, 10 / 18, 13 / 22, 13 / 26]);
    expect(charts.series("histogram", 1)).toEqual([2, 1, 1, 2, 1]);

    await h.complete();
    // The finished reply: histogram from the engine's acceptedHistogram, and one more point per conversation.
    expect(charts.series("histogram", 1)).toEqual(recordedStats.speculation!.acceptedHistogram);
    expect(charts.series("conversation", 0)).toEqual([1, 2, 3]);
    expect(charts.series("conversation", 1)).toEqual([null, 0.25, 0.5]);
    expect(charts.series("conversation", 2)).toEqual([null, 0.5, 13 / 8]);
    // No saved benchmark: no speedup is plotted (no speedup chart: three axes are not squeezed into one), and the
    // note says why.
    expect(charts.data.get("conversation")).toHaveLength(3);
    expect(charts.created).not.toContain("speedup");
    expect(screen.getByTestId("baseline-note").textContent).toBe("Speedup per reply needs a measured baseline: none yet (run the A/B benchmark).");
    // Charts are fed, not re-created, as data arrives.
    expect(charts.created.filter((id) => id === "reply")).toHaveLength(1);
  });

  it("plots each reply's speedup over the model's measured baseline from the latest saved benchmark", async () => {
    const fake = new FakeClient();
    const model = fake.status.model!.name;
    fake.benchmarks = [
      // The latest result of this model is the baseline: its reports pooled by tokens, (30·100 + 50·300) / 400 = 45 tok/s.
      {
        id: "new",
        createdAt: Date.UTC(2026, 1, 1),
        model,
        draft: null,
        promptSet: "free-chat",
        reports: [
          benchReport({ mode: "lookup", model, baseline: { tokensPerSecond: 30, tokens: 100 } }),
          benchReport({ mode: "ngram", model, baseline: { tokensPerSecond: 50, tokens: 300 } }),
        ],
      },
      { id: "old", createdAt: Date.UTC(2026, 0, 1), model, draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup", model })] },
      { id: "other", createdAt: Date.UTC(2026, 2, 1), model: "another.gguf", draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup" })] },
    ];
    const machine = { threads: 4, backend: "cpu" as const }; // as benchReport measured
    const c = fake.addConversation("Speedup", [
      user("one"),
      assistant("plain", { model, stats: makeStats({ ...machine, tokensPerSecond: 36 }) }),
      user("two"),
      assistant("spec", { model, stats: makeStats({ ...machine, tokensPerSecond: 67.5, speculation: recordedStats.speculation }) }),
      user("three"),
      assistant("failed", { status: "error", error: "boom" }),
      user("five"),
      assistant("by another model", { model: "another.gguf", stats: makeStats({ ...machine, tokensPerSecond: 90, speculation: recordedStats.speculation }) }),
      user("six"),
      assistant("other threads", { model, stats: makeStats({ threads: 8, backend: "cpu", tokensPerSecond: 50, speculation: recordedStats.speculation }) }),
      user("four"),
      assistant("", { status: "streaming" }),
    ]);
    usePrefsStore.getState().setMetricsOpen(true);
    const charts = new FakeCharts();
    const h = await renderWithClient(
      fake,
      <ChartFactoryContext.Provider value={charts}>
        <App />
      </ChartFactoryContext.Provider>,
    );
    await act(() => h.actions.selectConversation(c.id));
    await waitFor(() => expect(screen.getByTestId("baseline-note").textContent).toMatch(/^Baseline: 45(\.0)? tok\/s plain decoding, measured /));
    // One point per finished reply with stats (not the failed or streaming ones). Only like with like gets a
    // speedup: the reply that drafted, by this model, run as the baseline was (67.5 / 45). None for the plain reply
    // (speculation off: that is plain decoding, not the benchmark's), the other model's, or other threads.
    expect(charts.series("conversation", 0)).toEqual([1, 2, 3, 4]);
    expect(charts.series("speedup", 0)).toEqual([1, 2, 3, 4]);
    expect(charts.series("speedup", 1)).toEqual([null, 1.5, null, null]);
    expect(charts.series("conversation", 1)).toEqual([null, 0.5, 0.5, 0.5]);
  });

  it("formats extra tokens per step by one rule on the reply and in the panel (+0.03, not +0.0 next to +0.03)", async () => {
    const fake = new FakeClient();
    const spec = { ...recordedStats.speculation!, proposed: 100, accepted: 3, rejected: 97, acceptanceRate: 0.03, meanAcceptedPerStep: 0.03 };
    const c = fake.addConversation("Chat", [user("q"), assistant("a", { stats: makeStats({ targetDecodes: 100, speculation: spec }) })]);
    const h = await renderWithClient(fake);
    usePrefsStore.getState().setMetricsOpen(true);
    await act(() => h.actions.selectConversation(c.id));
    expect(screen.getByTestId("message-spec-stats").textContent).toContain("+0.03 tokens/step");
    expect(within(await screen.findByTestId("metrics-last")).getByTestId("fig-per-decode").textContent).toBe("+0.03");
  });

  it("shows a reply's speedup only like with like, and says why not otherwise", async () => {
    const fake = new FakeClient();
    const model = fake.status.model!.name;
    fake.benchmarks = [
      { id: "b", createdAt: Date.UTC(2026, 1, 1), model, draft: null, promptSet: "free-chat", reports: [benchReport({ mode: "lookup", model, baseline: { tokensPerSecond: 50, tokens: 100 } })] },
    ];
    const machine = { threads: 4, backend: "cpu" as const };
    const nothingDrafted = { ...recordedStats.speculation!, proposed: 0, accepted: 0, rejected: 0, acceptanceRate: 0, meanAcceptedPerStep: 0, verifySteps: 0, draftMs: 1, verifyMs: 499 };
    const open = async (stats: ReturnType<typeof makeStats>) => {
      const c = fake.addConversation("Chat", [user("q"), assistant("a", { model, stats })]);
      const h = await renderWithClient(fake);
      usePrefsStore.getState().setMetricsOpen(true);
      await act(() => h.actions.selectConversation(c.id));
      const last = await within(await screen.findByTestId("metrics-panel")).findByTestId("metrics-last");
      return { last, h };
    };
    // Speculation off: the speed is plain decoding, which the benchmark's baseline is not to be compared with.
    let { last, h } = await open(makeStats({ ...machine, tokensPerSecond: 17.5 }));
    expect(within(last).getByTestId("fig-speedup").textContent).toBe("none: speculation was off for this reply: its speed is plain decoding");
    h.view.unmount();
    // Speculation on, but nothing drafted: said so, not "draft 0.2% · verify 99.8%".
    ({ last, h } = await open(makeStats({ ...machine, tokensPerSecond: 17.5, speculation: nothingDrafted })));
    expect(within(last).getByTestId("fig-speculator").textContent).toBe("on, but nothing was drafted");
    expect(within(last).queryByTestId("fig-time-share")).toBeNull();
    expect(within(last).getByTestId("fig-speedup").textContent).toBe("none: nothing was drafted in this reply: its speed is plain decoding");
    h.view.unmount();
    // Drafted, same model and threads: compared.
    ({ last, h } = await open(makeStats({ ...machine, tokensPerSecond: 75, speculation: recordedStats.speculation })));
    expect(within(last).getByTestId("fig-speedup").textContent).toMatch(/^1\.50× vs 50(\.0)? tok\/s, measured /);
  });

  it("updates the charts without re-rendering the message list", async () => {
    let listRenders = 0;
    const h = await streamingChat({
      ui: (charts) => (
        <ChartFactoryContext.Provider value={charts}>
          <Profiler id="list" onRender={() => listRenders++}>
            <ListOfSelected />
          </Profiler>
          <MetricsPanel />
        </ChartFactoryContext.Provider>
      ),
    });
    h.play(0, 2);
    const before = listRenders;
    const points = h.charts.series("reply", 0).length;
    // A metrics-only update (as the subscriber makes once per frame alongside the text).
    act(() => {
      const events = recordedEvents().slice(2, 4).map((e) => ({ ...e, conversationId: h.conversation.id }));
      useMetricsStore.getState().applyTokens({ [h.reply.id]: events });
    });
    expect(h.charts.series("reply", 0).length).toBe(points + 2);
    expect(listRenders).toBe(before);
  });
});

function ListOfSelected() {
  const id = useConversationsStore((s) => s.selectedId);
  return id ? <MessageList conversationId={id} /> : null;
}
