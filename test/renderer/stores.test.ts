import { describe, expect, it } from "vitest";
import type { Conversation, DownloadInfo, Message } from "../../contracts/window/index.js";
import { useConversationsStore } from "../../renderer/src/stores/conversations.js";
import { useDownloadsStore } from "../../renderer/src/stores/downloads.js";
import { useEngineStore } from "../../renderer/src/stores/engine.js";
import { displayText, selectIsStreaming, useMessagesStore, type StreamSegment } from "../../renderer/src/stores/messages.js";
import { FakeClient, makeStats } from "./fake-client.js";
import { createActions } from "../../renderer/src/actions.js";
import { startSubscriber } from "../../renderer/src/subscriber.js";
import { useSettingsStore } from "../../renderer/src/stores/settings.js";

const fake = new FakeClient();
const msg = (id: string, role: Message["role"], content: string, status: Message["status"] = "complete"): Message => ({
  ...fake.message("c1", role, content, { status }),
  id,
});
const conv = (id: string, title: string, updatedAt: number): Conversation => ({ id, title, createdAt: updatedAt, updatedAt, speculation: null });
/** One frame's worth of plain (target, no step) text. */
const plain = (text: string): StreamSegment[] => [{ text, source: "target", step: null }];

describe("messages store", () => {
  it("appends token batches in order, per message", () => {
    const s = useMessagesStore.getState();
    s.setConversationMessages("c1", [msg("u1", "user", "hi"), msg("a1", "assistant", "", "streaming")]);
    s.appendTokens({ a1: plain("Hel") });
    s.appendTokens({ a1: plain("lo"), other: plain("x") });
    s.appendTokens({ a1: plain(", world") });
    const state = useMessagesStore.getState();
    expect(state.streaming.a1).toBe("Hello, world");
    expect(state.streaming.other).toBe("x");
    const a1 = state.byConversation.c1[1];
    expect(displayText(a1, state.streaming.a1)).toBe("Hello, world");
    expect(selectIsStreaming("c1")(state)).toBe(true);
  });

  it("replaces the streamed text with the final message on completion", () => {
    const s = useMessagesStore.getState();
    s.setConversationMessages("c1", [msg("u1", "user", "hi"), msg("a1", "assistant", "", "streaming")]);
    s.appendTokens({ a1: plain("partial") });
    s.completeMessage({ ...msg("a1", "assistant", "The final answer."), stats: makeStats() });
    const state = useMessagesStore.getState();
    expect(state.streaming).not.toHaveProperty("a1");
    const a1 = state.byConversation.c1[1];
    expect(a1.status).toBe("complete");
    expect(displayText(a1, state.streaming.a1)).toBe("The final answer.");
    expect(selectIsStreaming("c1")(state)).toBe(false);
  });

  it("keeps a completed message when the send result (status streaming) arrives after the completion event", () => {
    const s = useMessagesStore.getState();
    s.setConversationMessages("c1", []);
    s.completeMessage(msg("a1", "assistant", "done"));
    s.upsertMessages("c1", [msg("u1", "user", "hi"), msg("a1", "assistant", "", "streaming")]);
    const list = useMessagesStore.getState().byConversation.c1;
    expect(list.find((m) => m.id === "a1")).toMatchObject({ status: "complete", content: "done" });
  });

  it("ignores completions for conversations not loaded, but drops their streamed text", () => {
    const s = useMessagesStore.getState();
    s.appendTokens({ a9: plain("text") });
    s.completeMessage({ ...msg("a9", "assistant", "text"), conversationId: "c9" });
    const state = useMessagesStore.getState();
    expect(state.byConversation).not.toHaveProperty("c9");
    expect(state.streaming).not.toHaveProperty("a9");
  });

  it("regenerate replaces the last reply; edit drops the edited message and what followed", () => {
    const s = useMessagesStore.getState();
    s.setConversationMessages("c1", [msg("u1", "user", "one"), msg("a1", "assistant", "r1"), msg("u2", "user", "two"), msg("a2", "assistant", "r2")]);
    s.replaceLastReply("c1", msg("a3", "assistant", "", "streaming"));
    expect(useMessagesStore.getState().byConversation.c1.map((m) => m.id)).toEqual(["u1", "a1", "u2", "a3"]);
    s.replaceFrom("c1", "u2", [msg("u3", "user", "two, edited"), msg("a4", "assistant", "", "streaming")]);
    expect(useMessagesStore.getState().byConversation.c1.map((m) => m.id)).toEqual(["u1", "a1", "u3", "a4"]);
  });

  it("seeds streamed text from a reply fetched while still streaming", () => {
    useMessagesStore.getState().setConversationMessages("c1", [msg("a1", "assistant", "So far", "streaming")]);
    useMessagesStore.getState().appendTokens({ a1: plain(" more") });
    expect(useMessagesStore.getState().streaming.a1).toBe("So far more");
    // Text from before this window listened has no known source.
    expect(useMessagesStore.getState().segments.a1).toEqual([
      { text: "So far", source: null, step: null },
      { text: " more", source: "target", step: null },
    ]);
  });

  it("keeps token segments merged by origin, after completion too, until the reply is replaced", () => {
    const s = useMessagesStore.getState();
    const step0 = { index: 0, speculator: "draft" as const, proposed: 3, accepted: 2 };
    const step1 = { index: 1, speculator: "draft" as const, proposed: 3, accepted: 0 };
    s.setConversationMessages("c1", [msg("u1", "user", "hi"), msg("a1", "assistant", "", "streaming")]);
    s.appendTokens({
      a1: [
        { text: "In", source: "draft", step: step0 },
        { text: " the", source: "draft", step: step0 },
        { text: " beginning", source: "target", step: step0 },
      ],
    });
    // The next frame continues with the same step's target text, then a new step.
    s.appendTokens({ a1: [{ text: ",", source: "target", step: step0 }, { text: " God", source: "target", step: step1 }] });
    const expected = [
      { text: "In the", source: "draft", step: step0 },
      { text: " beginning,", source: "target", step: step0 },
      { text: " God", source: "target", step: step1 },
    ];
    expect(useMessagesStore.getState().segments.a1).toEqual(expected);
    expect(useMessagesStore.getState().streaming.a1).toBe("In the beginning, God");
    s.completeMessage(msg("a1", "assistant", "In the beginning, God"));
    expect(useMessagesStore.getState().segments.a1).toEqual(expected);
    s.replaceLastReply("c1", msg("a2", "assistant", "", "streaming"));
    expect(useMessagesStore.getState().segments).not.toHaveProperty("a1");
  });
});

describe("engine store", () => {
  const crash = { reason: "killed" as const, exitCode: null, signal: "SIGKILL", processGone: null, at: 100, message: "Killed by SIGKILL" };

  it("shows the crash banner from engineCrashed, and a dismissed crash stays dismissed", () => {
    useEngineStore.getState().crashed(crash, true);
    expect(useEngineStore.getState().crash).toEqual({ crash, restarting: true });
    useEngineStore.getState().dismissCrash();
    expect(useEngineStore.getState().crash).toBeNull();
    // A status update about the same crash does not bring it back...
    useEngineStore.getState().setStatus({ ...fake.status, state: "restarting", lastCrash: crash });
    expect(useEngineStore.getState().crash).toBeNull();
    // ...a new crash does.
    useEngineStore.getState().crashed({ ...crash, at: 200 }, false);
    expect(useEngineStore.getState().crash?.crash.at).toBe(200);
  });

  it("shows an unrecovered crash found in the status at start", () => {
    useEngineStore.getState().setStatus({ ...fake.status, state: "failed", lastCrash: crash });
    expect(useEngineStore.getState().crash).toEqual({ crash, restarting: false });
  });

  it("tracks the model error from the status until a successful load", () => {
    const s = useEngineStore.getState();
    s.setLastModelPath("/models/a.gguf");
    s.setStatus({ ...fake.status, model: null, modelError: "out of memory" });
    expect(useEngineStore.getState().modelError).toEqual({ message: "out of memory", path: "/models/a.gguf" });
    s.dismissModelError();
    s.setStatus({ ...fake.status, model: null, modelError: "out of memory" });
    expect(useEngineStore.getState().modelError).toBeNull();
    s.setStatus({ ...fake.status, model: null, modelError: "bad file" });
    expect(useEngineStore.getState().modelError?.message).toBe("bad file");
    s.setStatus({ ...fake.status, modelError: null });
    expect(useEngineStore.getState().modelError).toBeNull();
  });
});

describe("conversations store", () => {
  it("keeps newest first and follows the active search", () => {
    const s = useConversationsStore.getState();
    s.setList([conv("a", "Alpha", 1), conv("b", "Beta", 3), conv("c", "Gamma", 2)]);
    expect(useConversationsStore.getState().list.map((c) => c.id)).toEqual(["b", "c", "a"]);
    s.upsert(conv("a", "Alpha", 4));
    expect(useConversationsStore.getState().list.map((c) => c.id)).toEqual(["a", "b", "c"]);
    s.setQuery("al");
    s.upsert(conv("a", "Renamed", 5));
    expect(useConversationsStore.getState().list.map((c) => c.id)).toEqual(["b", "c"]);
    s.select("b");
    s.remove("b");
    expect(useConversationsStore.getState().selectedId).toBeNull();
  });
});

describe("downloads store", () => {
  const info = (id: string, patch: Partial<DownloadInfo> = {}): DownloadInfo => ({
    id,
    source: `https://example.com/${id}.gguf`,
    fileName: `${id}.gguf`,
    destPath: `/models/${id}.gguf`,
    state: "downloading",
    receivedBytes: 0,
    totalBytes: 1000,
    bytesPerSecond: 0,
    etaSeconds: null,
    error: null,
    ...patch,
  });

  it("a fetched list wins over what the store holds for the same id; later events win over the list", () => {
    const s = useDownloadsStore.getState();
    s.setList([]);
    s.upsert(info("a", { receivedBytes: 100, bytesPerSecond: 50, etaSeconds: 18 }));
    s.upsert(info("gone", { receivedBytes: 10 })); // from before a host restart: the host no longer has it
    // Events were missed; the host's list says where things are now.
    s.setList([info("a", { state: "paused", receivedBytes: 400 }), info("b", { receivedBytes: 5 })]);
    expect(useDownloadsStore.getState().list).toEqual([info("a", { state: "paused", receivedBytes: 400 }), info("b", { receivedBytes: 5 })]);
    useDownloadsStore.getState().upsert(info("a", { receivedBytes: 450, bytesPerSecond: 50, etaSeconds: 11 }));
    expect(useDownloadsStore.getState().list.map((d) => [d.id, d.state, d.receivedBytes])).toEqual([
      ["a", "downloading", 450],
      ["b", "downloading", 5],
    ]);
  });

  it("is listed once the host's list arrived (a progress event alone does not make it the whole list)", () => {
    expect(useDownloadsStore.getState().listed).toBe(false);
    useDownloadsStore.getState().upsert(info("a"));
    expect(useDownloadsStore.getState().listed).toBe(false);
    useDownloadsStore.getState().setList([]);
    expect(useDownloadsStore.getState()).toMatchObject({ listed: true, list: [] });
  });
});

describe("stores by domain", () => {
  it("one route in each: loadInitial fetches once, then only events change what the host owns", async () => {
    const fake = new FakeClient({ model: null });
    const actions = createActions(fake);
    const stop = startSubscriber(fake, { fallbackMs: 0, frames: { request: () => 0, cancel: () => {} } });
    await actions.loadInitial();
    expect(useDownloadsStore.getState().listed).toBe(true);
    expect(useSettingsStore.getState().settings?.modelPath).toBeNull();
    // An action whose result the host also pushes: the store holds the pushed value, written once.
    let writes = 0;
    const off = useSettingsStore.subscribe(() => writes++);
    await actions.saveSettings({ theme: "dark" });
    expect(useSettingsStore.getState().settings?.theme).toBe("dark");
    expect(writes).toBe(1);
    writes = 0;
    const offConversations = useConversationsStore.subscribe(() => writes++);
    await actions.send("Hello");
    const selected = useConversationsStore.getState().selectedId;
    expect(useConversationsStore.getState().list.map((c) => c.id)).toContain(selected);
    // The send creates the chat (New chat alone stores nothing): listed by the conversationUpdated event, then
    // selected by the action (its own UI state): two writes.
    expect(writes).toBe(2);
    off();
    offConversations();
    stop();
  });
});
