/**
 * The one place that listens to events pushed by the host and feeds them to the stores.
 *
 * Tokens arrive in many small events; rendering each would re-render the streaming message dozens of times per
 * frame. They are accumulated per message and applied to the store once per animation frame (with a timer as a
 * fallback for when frames are not being produced, e.g. a hidden window). Each token's source (draft or target) and
 * the verify step it came from travel with its text, as merged segments (see StreamSegment). The same frame also
 * feeds the metrics store (counters, timings and chart points), which the message list never subscribes to.
 */
import type { TandemClient } from "../../contracts/window/index.js";
import { isConnectionAware, type ConnectionState } from "./api/client.js";
import { useApiServerStore } from "./stores/api-server.js";
import { useConnectionsStore } from "./stores/connections.js";
import { useBenchmarksStore } from "./stores/benchmarks.js";
import { useConversationsStore } from "./stores/conversations.js";
import { useDatabaseStore } from "./stores/database.js";
import { useDownloadsStore } from "./stores/downloads.js";
import { useEngineStore } from "./stores/engine.js";
import { appendSegments, useMessagesStore, type StreamSegment } from "./stores/messages.js";
import { useMetricsStore, type TokenEventRecord } from "./stores/metrics.js";
import { useModelsStore } from "./stores/models.js";
import { useSettingsStore } from "./stores/settings.js";
import { useUiStore } from "./stores/ui.js";

export interface FrameScheduler {
  request(callback: () => void): number;
  cancel(handle: number): void;
}

export interface SubscriberOptions {
  frames?: FrameScheduler;
  /** Flush anyway after this long without a frame (ms); 0 disables the fallback. */
  fallbackMs?: number;
  /** Called when a web connection comes back after being lost (to refetch state). */
  onReconnected?: () => void;
  /** The native menu's New Chat (an action, not just UI state). */
  onNewChat?: () => void;
}

const browserFrames: FrameScheduler = {
  request: (cb) => requestAnimationFrame(() => cb()),
  cancel: (h) => cancelAnimationFrame(h),
};

/** Subscribes to every pushed event; returns a function that unsubscribes (and drops unflushed tokens). */
export function startSubscriber(client: TandemClient, options: SubscriberOptions = {}): () => void {
  const frames = options.frames ?? browserFrames;
  const fallbackMs = options.fallbackMs ?? 250;

  let pending: Record<string, StreamSegment[]> = {};
  let pendingMetrics: Record<string, TokenEventRecord[]> = {};
  let frame: number | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = () => {
    if (frame !== null) frames.cancel(frame);
    if (timer !== null) clearTimeout(timer);
    frame = null;
    timer = null;
    const batch = pending;
    const metrics = pendingMetrics;
    pending = {};
    pendingMetrics = {};
    if (Object.keys(batch).length > 0) useMessagesStore.getState().appendTokens(batch);
    if (Object.keys(metrics).length > 0) useMetricsStore.getState().applyTokens(metrics);
  };

  const schedule = () => {
    if (frame === null) frame = frames.request(flush);
    if (timer === null && fallbackMs > 0) timer = setTimeout(flush, fallbackMs);
  };

  const offs: (() => void)[] = [
    client.on("tokens", ({ conversationId, messageId, tokens, step }) => {
      if (tokens.length === 0) return;
      (pendingMetrics[messageId] ??= []).push({ conversationId, tokens, step: step ?? null });
      const added: StreamSegment[] = [];
      for (const t of tokens) if (t.text) added.push({ text: t.text, source: t.source, step: step ?? null });
      if (added.length > 0) pending[messageId] = appendSegments(pending[messageId] ?? [], added);
      schedule();
    }),
    client.on("cacheOutcome", (outcome) => {
      // Once per reply, before its tokens: straight to the store (the per-frame batching is for tokens).
      useEngineStore.getState().setCacheOutcome(outcome);
    }),
    client.on("messageCompleted", ({ message }) => {
      // Apply what came before it, in order; then the final message replaces the streamed text.
      flush();
      useMessagesStore.getState().completeMessage(message);
      useMetricsStore.getState().complete(message.id);
      if (message.role === "assistant" && message.stats) useEngineStore.getState().setLastStats(message.stats);
      // A remote server that failed (unreachable, a refused key, rate limited, the connection lost) is said in the
      // banner too: the fix is in Settings → Remote engines or on the server, not in this chat.
      if (message.remote && message.error && (message.status === "error" || message.status === "interrupted")) {
        useEngineStore.getState().setNotice(message.error);
      }
    }),
    client.on("conversationUpdated", ({ conversation }) => {
      useConversationsStore.getState().upsert(conversation);
    }),
    client.on("conversationDeleted", ({ id }) => {
      useConversationsStore.getState().remove(id);
      useMessagesStore.getState().forgetConversation(id);
      useMetricsStore.getState().forgetConversation(id);
    }),
    client.on("engineStatus", (status) => {
      useEngineStore.getState().setStatus(status);
      const models = useModelsStore.getState();
      if (status.loadingModelPath) {
        if (models.loading?.path !== status.loadingModelPath) models.setLoading({ path: status.loadingModelPath, progress: 0 });
      } else if (models.loading) {
        models.setLoading(null);
      }
    }),
    client.on("engineCrashed", ({ crash, restarting }) => {
      useEngineStore.getState().crashed(crash, restarting);
    }),
    client.on("databaseStatus", (status) => {
      // Damage found while running (or a recovery done in another window) switches the screen over.
      useDatabaseStore.getState().setStatus(status);
    }),
    client.on("modelLoadProgress", ({ modelPath, progress }) => {
      useModelsStore.getState().setProgress(modelPath, progress);
    }),
    client.on("apiServerStatus", (status) => {
      // Started, stopped, failed, a key set or cleared, or requests answered (at most twice a second).
      useApiServerStore.getState().setStatus(status);
    }),
    client.on("connectionsChanged", ({ connections }) => {
      // Added, changed, tested or removed (here or in another window).
      useConnectionsStore.getState().setList(connections);
    }),
    client.on("settingsChanged", (settings) => {
      useSettingsStore.getState().setSettings(settings);
    }),
    client.on("menuCommand", ({ command }) => {
      const ui = useUiStore.getState();
      if (command === "new-chat") options.onNewChat?.();
      else if (command === "open-settings") ui.setSettingsOpen(true);
      else if (command === "open-models") ui.setModelsScreenOpen(true);
      else if (command === "about") ui.setAboutOpen(true);
    }),
    client.on("benchmarkProgress", (progress) => {
      useBenchmarksStore.getState().progress(progress);
    }),
    client.on("modelsChanged", (listing) => {
      // The library changed: a file added, removed, renamed or finished downloading, on disk or by Tandem itself.
      useModelsStore.getState().setListing(listing);
    }),
    client.on("downloadProgress", (info) => {
      useDownloadsStore.getState().upsert(info);
    }),
  ];

  if (isConnectionAware(client)) {
    let previous: ConnectionState = client.connectionState;
    useEngineStore.getState().setConnection(previous);
    offs.push(
      client.onConnectionChange((state) => {
        useEngineStore.getState().setConnection(state);
        if (state === "connected" && previous === "reconnecting") options.onReconnected?.();
        previous = state;
      }),
    );
  }

  return () => {
    for (const off of offs) off();
    if (frame !== null) frames.cancel(frame);
    if (timer !== null) clearTimeout(timer);
    frame = null;
    timer = null;
    pending = {};
    pendingMetrics = {};
  };
}
