import { apiServerParts, apiServerTitle } from "../api-server-format.js";
import { cacheDiskSummary, cacheTurnDetail, cacheTurnFromStats, cacheTurnSummary } from "../cache-format.js";
import { backendLabel, engineStateLabel, formatRate } from "../format.js";
import { useApiServerStore } from "../stores/api-server.js";
import { useConversationsStore } from "../stores/conversations.js";
import { useEngineStore } from "../stores/engine.js";
import { selectMessages, useMessagesStore } from "../stores/messages.js";
import { useModelsStore } from "../stores/models.js";
import { FitParts } from "./FitParts.js";
import { AlertIcon, ChipIcon, CubeIcon } from "./Icons.js";
import { useRemoteChat } from "../hooks.js";

/**
 * The window's status line. Each item shows whole parts of its text that fit, then "…" (FitParts), never a word cut
 * in the middle; a narrow window keeps the items that matter most (styles.css, "Narrow windows"). While a reply is
 * being written it says so, instead of "Ready" with the last reply's speed.
 */
export function StatusBar() {
  const status = useEngineStore((s) => s.status);
  const sessionStats = useEngineStore((s) => s.lastStats);
  const selectedId = useConversationsStore((s) => s.selectedId);
  // Before any reply in this session: the last reply of the open conversation.
  const openStats = useMessagesStore((s) => selectMessages(selectedId)(s).findLast((m) => m.role === "assistant" && m.stats)?.stats ?? null);
  const lastStats = sessionStats ?? openStats;
  // The live outcome arrives as soon as the prompt is evaluated; before any reply in this session, the open
  // conversation's last reply says how its prompt was served.
  const liveCache = useEngineStore((s) => s.lastCacheOutcome);
  const cacheTurn = liveCache ?? cacheTurnFromStats(lastStats);
  const connection = useEngineStore((s) => s.connection);
  const loading = useModelsStore((s) => s.loading);
  // Replies from a remote engine: the model item names it (this computer's model, if any, is not writing them).
  const remote = useRemoteChat();
  // A reply being written anywhere: say so, not "Ready" with the last reply's speed.
  const writing = useMessagesStore((s) => Object.values(s.byConversation).some((list) => list.some((m) => m.status === "streaming")));

  const state = status?.state ?? null;
  const system = status?.system ?? null;
  const model = status?.model ?? null;
  const draftModel = status?.draftModel ?? null;
  const draftError = status?.draftError ?? null;
  const cache = model ? (status?.cache ?? null) : null;
  const disk = cache ? cacheDiskSummary(cache) : null;
  const stateText =
    connection === "reconnecting"
      ? "Disconnected"
      : state === null
        ? "Connecting…"
        : state === "loading-model" && loading
          ? `Loading model… ${Math.round(loading.progress * 100)}%`
          : state === "ready" && writing
            ? "Writing a reply…"
            : engineStateLabel[state];
  const tone =
    connection === "reconnecting" || state === "failed" || state === "stopped" ? "bad" : state === "ready" && !writing ? "good" : "busy";
  // The backend and its devices, the note (why a GPU was not used) on the last one.
  const backend = system ? [backendLabel(system.backend), ...system.devices] : null;
  if (backend && system?.backendNote) backend[backend.length - 1] += ` (${system.backendNote})`;

  return (
    <footer className="status-bar" data-testid="status-bar" aria-label="Status">
      <span className="status-item status-engine" data-testid="status-engine" data-writing={writing || undefined} title={stateText}>
        <span className={`status-dot ${tone}`} aria-hidden="true" />
        <FitParts parts={[stateText]} />
      </span>
      {backend && (
        <span className="status-item status-backend" data-testid="status-backend" title={system?.backendNote ?? `Requested: ${system?.gpuRequested}`}>
          <ChipIcon size={13} />
          <FitParts parts={backend} />
        </span>
      )}
      <span className="status-item status-model" data-testid="status-model" title={remote ? `Replies come from ${remote.model} on ${remote.server ?? "a remote server"}` : model?.modelPath}>
        <CubeIcon size={13} />
        <FitParts parts={remote ? [remote.model, `on ${remote.server ?? "a remote server"}`] : [model ? model.name : "No model"]} />
      </span>
      {model && (
        <span className="status-item status-threads" data-testid="status-threads" title={`Threads: ${model.threadsSource}`}>
          <FitParts
            parts={[`${model.threads} ${model.threads === 1 ? "thread" : "threads"}`, ...(model.contextSize ? [`${model.contextSize.toLocaleString("en")} ctx`] : [])]}
          />
        </span>
      )}
      {draftModel && (
        <span className="status-item status-draft" data-testid="status-draft" title={`Draft model for speculative decoding: ${draftModel.modelPath}`}>
          <FitParts parts={[`Draft: ${draftModel.name}`]} />
        </span>
      )}
      {!draftModel && draftError && (
        <span className="status-item warn" data-testid="status-draft-error" role="status" title={draftError}>
          <AlertIcon size={13} />
          <FitParts parts={["Draft model not loaded"]} />
        </span>
      )}
      <span className="status-spacer" />
      <ApiServerIndicator />
      {cacheTurn && (
        <span className={`status-item cache-outcome ${cacheTurn.outcome}`} data-testid="status-cache" title={cacheTurnDetail(cacheTurn)}>
          <FitParts parts={cacheTurnSummary(cacheTurn).split(" · ")} />
        </span>
      )}
      {disk && (
        <span className="status-item status-cache-disk" data-testid="status-cache-disk" title={disk.detail}>
          <FitParts parts={[disk.text]} />
        </span>
      )}
      {lastStats && !writing && (
        <span className="status-item status-speed" data-testid="status-speed" title="Decode speed of the last reply">
          <FitParts parts={[formatRate(lastStats.tokensPerSecond)]} />
        </span>
      )}
    </footer>
  );
}

/**
 * The local API server: hidden when off; "API :11435 · 12 requests" (and what is running or waiting) while it runs,
 * with its base URL in the tooltip; a warning when it is on but failed to start.
 */
function ApiServerIndicator() {
  const status = useApiServerStore((s) => s.status);
  if (!status || status.state === "off") return null;
  const title = apiServerTitle(status);
  if (status.state === "error") {
    return (
      <span className="status-item warn" data-testid="status-api" data-state="error" role="status" title={title}>
        <AlertIcon size={13} />
        <FitParts parts={["API server", "not running"]} separator=" " testId="status-api-text" />
      </span>
    );
  }
  const parts = status.state === "starting" ? ["API starting…"] : apiServerParts(status);
  return (
    <span className="status-item status-api" data-testid="status-api" data-state={status.state} title={title}>
      <span className={`status-dot ${status.state === "running" ? "good" : "busy"}`} aria-hidden="true" />
      <FitParts parts={parts} testId="status-api-text" />
    </span>
  );
}
