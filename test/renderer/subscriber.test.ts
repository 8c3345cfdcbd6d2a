import { afterEach, describe, expect, it, vi } from "vitest";
import { useConversationsStore } from "../../renderer/src/stores/conversations.js";
import { useEngineStore } from "../../renderer/src/stores/engine.js";
import { useMessagesStore } from "../../renderer/src/stores/messages.js";
import { useModelsStore } from "../../renderer/src/stores/models.js";
import { useSettingsStore } from "../../renderer/src/stores/settings.js";
import type { ConnectionState } from "../../renderer/src/api/client.js";
import { startSubscriber } from "../../renderer/src/subscriber.js";
import { FakeClient, makeStats } from "./fake-client.js";
import { ManualFrames } from "./helpers.js";

function setup() {
  const fake = new FakeClient();
  const frames = new ManualFrames();
  const stop = startSubscriber(fake, { frames, fallbackMs: 0 });
  const conversation = fake.addConversation("Chat");
  const reply = fake.message(conversation.id, "assistant", "", { status: "streaming" });
  fake.messages.get(conversation.id)!.push(reply);
  useMessagesStore.getState().setConversationMessages(conversation.id, [reply]);
  let updates = 0;
  const unsub = useMessagesStore.subscribe(() => updates++);
  return { fake, frames, stop, conversation, reply, updates: () => updates, unsub };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("subscriber", () => {
  it("batches several token events into one store update per animation frame", () => {
    const { fake, frames, conversation, reply, updates } = setup();
    fake.streamTokens(conversation.id, reply.id, ["The", " quick", " brown"]);
    // Nothing applied until the frame fires, and only one frame is requested.
    expect(updates()).toBe(0);
    expect(useMessagesStore.getState().streaming[reply.id]).toBeUndefined();
    expect(frames.queue.size).toBe(1);

    frames.run();
    expect(updates()).toBe(1);
    expect(useMessagesStore.getState().streaming[reply.id]).toBe("The quick brown");

    fake.streamTokens(conversation.id, reply.id, [" fox", " jumps"]);
    frames.run();
    expect(updates()).toBe(2);
    expect(useMessagesStore.getState().streaming[reply.id]).toBe("The quick brown fox jumps");
  });

  it("concatenates the texts of a multi-token event and skips empty texts", () => {
    const { fake, frames, conversation, reply, updates } = setup();
    fake.emit("tokens", {
      conversationId: conversation.id,
      messageId: reply.id,
      tokens: [
        { id: 1, text: "a", source: "target", t: 1 },
        { id: 2, text: "", source: "draft", t: 2 },
        { id: 3, text: "b", source: "draft", t: 3 },
      ],
    });
    fake.emit("tokens", { conversationId: conversation.id, messageId: reply.id, tokens: [{ id: 4, text: "", source: "target", t: 4 }] });
    frames.run();
    expect(updates()).toBe(1);
    expect(useMessagesStore.getState().streaming[reply.id]).toBe("ab");
  });

  it("keeps each token's source and verify step, in order, across batched frames", () => {
    const { fake, frames, conversation, reply, updates } = setup();
    const step = (proposed: number, accepted: number) => ({ speculator: "draft" as const, proposed, accepted });
    fake.streamSteps(conversation.id, reply.id, [
      { drafts: [], target: "In", step: step(0, 0) },
      { drafts: [" the", " beginning"], target: " God", step: step(4, 2) },
    ]);
    frames.run();
    fake.streamSteps(conversation.id, reply.id, [
      { drafts: [], target: " created", step: step(4, 0) },
      { drafts: [" the"], target: " heaven", step: step(3, 1) },
    ]);
    frames.run();
    expect(updates()).toBe(2);
    const state = useMessagesStore.getState();
    expect(state.streaming[reply.id]).toBe("In the beginning God created the heaven");
    // streamSteps numbers each call's steps from 0: the second frame's steps 0 and 1 follow the first's.
    expect(state.segments[reply.id].map((s) => [s.text, s.source, s.step?.index, s.step?.accepted])).toEqual([
      ["In", "target", 0, 0],
      [" the beginning", "draft", 1, 2],
      [" God", "target", 1, 2],
      [" created", "target", 0, 0],
      [" the", "draft", 1, 1],
      [" heaven", "target", 1, 1],
    ]);
    expect(state.segments[reply.id].map((s) => s.text).join("")).toBe(state.streaming[reply.id]);
  });

  it("merges plain tokens without steps into one segment", () => {
    const { fake, frames, conversation, reply } = setup();
    fake.streamTokens(conversation.id, reply.id, ["The", " quick"]);
    frames.run();
    fake.streamTokens(conversation.id, reply.id, [" brown"]);
    frames.run();
    expect(useMessagesStore.getState().segments[reply.id]).toEqual([{ text: "The quick brown", source: "target", step: null }]);
  });

  it("flushes pending tokens before a completion, which then replaces the streamed text", () => {
    const { fake, frames, conversation, reply } = setup();
    fake.streamTokens(conversation.id, reply.id, ["Hello", " there"]);
    fake.completeMessage(reply.id, { content: "Hello there!", stats: makeStats({ tokensPerSecond: 33 }) });
    const state = useMessagesStore.getState();
    expect(state.streaming[reply.id]).toBeUndefined();
    expect(state.byConversation[conversation.id][0]).toMatchObject({ status: "complete", content: "Hello there!" });
    expect(frames.queue.size).toBe(0);
    expect(useEngineStore.getState().lastStats?.tokensPerSecond).toBe(33);
  });

  it("falls back to a timer when no animation frame comes", () => {
    vi.useFakeTimers();
    const fake = new FakeClient();
    const frames = new ManualFrames();
    startSubscriber(fake, { frames, fallbackMs: 250 });
    fake.streamTokens("c", "m", ["x", "y"]);
    vi.advanceTimersByTime(249);
    expect(useMessagesStore.getState().streaming.m).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(useMessagesStore.getState().streaming.m).toBe("xy");
    expect(frames.queue.size).toBe(0);
  });

  it("feeds engine, model, settings and conversation events to their stores", () => {
    const { fake } = setup();
    fake.emit("engineCrashed", {
      crash: { reason: "exited", exitCode: 3, signal: null, processGone: null, at: 5, message: "Exited with code 3" },
      restarting: true,
    });
    expect(useEngineStore.getState().crash).toMatchObject({ restarting: true, crash: { reason: "exited", exitCode: 3 } });

    fake.setStatus({ state: "loading-model", loadingModelPath: "/models/x.gguf" });
    expect(useModelsStore.getState().loading).toEqual({ path: "/models/x.gguf", progress: 0 });
    fake.emit("modelLoadProgress", { modelPath: "/models/x.gguf", progress: 0.4 });
    expect(useModelsStore.getState().loading).toEqual({ path: "/models/x.gguf", progress: 0.4 });
    fake.setStatus({ state: "ready", loadingModelPath: null });
    expect(useModelsStore.getState().loading).toBeNull();
    expect(useEngineStore.getState().status?.state).toBe("ready");

    fake.emit("settingsChanged", { ...fake.settings, temperature: 1.3 });
    expect(useSettingsStore.getState().settings?.temperature).toBe(1.3);

    const c = { id: "cx", title: "Pushed", createdAt: 1, updatedAt: 99, speculation: null };
    fake.emit("conversationUpdated", { conversation: c });
    expect(useConversationsStore.getState().list[0]).toEqual(c);
    useConversationsStore.getState().select("cx");
    fake.emit("conversationDeleted", { id: "cx" });
    expect(useConversationsStore.getState().list).toEqual([]);
    expect(useConversationsStore.getState().selectedId).toBeNull();
  });

  it("unsubscribes from every event and drops unflushed tokens", () => {
    const { fake, frames, stop, conversation, reply, updates } = setup();
    fake.streamTokens(conversation.id, reply.id, ["late"]);
    stop();
    frames.run();
    expect(updates()).toBe(0);
    for (const event of ["tokens", "messageCompleted", "engineStatus", "engineCrashed", "modelLoadProgress"] as const) {
      expect(fake.listenerCount(event)).toBe(0);
    }
  });

  it("tracks a web connection and asks for a refetch when it comes back", () => {
    const fake = Object.assign(new FakeClient(), {
      connectionState: "connecting" as ConnectionState,
      connectionListeners: [] as ((s: ConnectionState) => void)[],
      onConnectionChange(l: (s: ConnectionState) => void) {
        this.connectionListeners.push(l);
        return () => {};
      },
    });
    let refetches = 0;
    startSubscriber(fake, { frames: new ManualFrames(), onReconnected: () => refetches++ });
    const change = (s: ConnectionState) => fake.connectionListeners.forEach((l) => l(s));
    expect(useEngineStore.getState().connection).toBe("connecting");
    change("connected");
    expect(refetches).toBe(0);
    change("reconnecting");
    expect(useEngineStore.getState().connection).toBe("reconnecting");
    change("connected");
    expect(useEngineStore.getState().connection).toBe("connected");
    expect(refetches).toBe(1);
  });
});
