import { useCallback, useSyncExternalStore } from "react";
import { useConnectionsStore } from "./stores/connections.js";
import { useEngineStore } from "./stores/engine.js";
import { useModelsStore } from "./stores/models.js";
import { useSettingsStore } from "./stores/settings.js";

/** Why a message cannot be sent right now, or null when it can. */
export function useSendBlockedReason(): string | null {
  const connection = useEngineStore((s) => s.connection);
  const state = useEngineStore((s) => s.status?.state ?? null);
  const hasModel = useEngineStore((s) => !!s.status?.model);
  const loading = useModelsStore((s) => !!s.loading);
  const remote = useSettingsStore((s) => s.settings?.chatEngine.kind === "remote");
  if (connection !== null && connection !== "connected") return "Not connected to Tandem — reconnecting…";
  // A remote server writes the replies: this machine's engine and model (loaded or not) don't matter.
  if (remote) return null;
  if (state === null) return "Connecting to the engine…";
  if (state === "starting" || state === "restarting") return "The engine is starting…";
  if (state === "failed" || state === "stopped") return "The engine is not running.";
  if (loading || state === "loading-model") return "Loading the model…";
  if (!hasModel) return "Load a model to start chatting.";
  return null;
}

/**
 * The remote model that writes the window's replies (settings.chatEngine) and its connection's name, null while the
 * connections are not listed yet; null altogether when this computer's model writes them.
 */
export function useRemoteChat(): { model: string; connectionId: string; server: string | null } | null {
  const chatEngine = useSettingsStore((s) => s.settings?.chatEngine ?? null);
  const connectionId = chatEngine?.kind === "remote" ? chatEngine.connectionId : null;
  const server = useConnectionsStore((s) => (connectionId === null ? null : (s.list?.find((c) => c.id === connectionId)?.name ?? null)));
  return chatEngine?.kind === "remote" ? { model: chatEngine.model, connectionId: chatEngine.connectionId, server } : null;
}

/** Whether a CSS media query matches now, following the window as it is resized (false where there is no matchMedia). */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      const list = typeof window.matchMedia === "function" ? window.matchMedia(query) : null;
      list?.addEventListener("change", onChange);
      return () => list?.removeEventListener("change", onChange);
    },
    [query],
  );
  return useSyncExternalStore(subscribe, () => (typeof window.matchMedia === "function" ? window.matchMedia(query).matches : false));
}
