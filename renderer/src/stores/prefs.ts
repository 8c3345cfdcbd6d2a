import { create } from "zustand";

/**
 * View preferences of this window, remembered in localStorage (not host settings: they are about how this window
 * shows things, and a missing or blocked localStorage only means they are not remembered).
 */
export interface PrefsState {
  /** Tint text that came from accepted drafts. */
  tint: boolean;
  /** The metrics panel is open. */
  metricsOpen: boolean;
  setTint(tint: boolean): void;
  setMetricsOpen(open: boolean): void;
}

export const PREFS_KEYS = { tint: "tandem.tint", metricsOpen: "tandem.metricsOpen" } as const;

function read(key: string, fallback: boolean): boolean {
  try {
    const value = globalThis.localStorage?.getItem(key);
    return value === null || value === undefined ? fallback : value === "1";
  } catch {
    return fallback;
  }
}

function write(key: string, value: boolean): void {
  try {
    globalThis.localStorage?.setItem(key, value ? "1" : "0");
  } catch {
    // Not remembered; the preference still applies to this window.
  }
}

/** The preferences as stored (read again by tests after clearing localStorage). */
export function storedPrefs(): Pick<PrefsState, "tint" | "metricsOpen"> {
  return { tint: read(PREFS_KEYS.tint, true), metricsOpen: read(PREFS_KEYS.metricsOpen, false) };
}

export const usePrefsStore = create<PrefsState>()((set) => ({
  ...storedPrefs(),
  setTint: (tint) => {
    write(PREFS_KEYS.tint, tint);
    set({ tint });
  },
  setMetricsOpen: (metricsOpen) => {
    write(PREFS_KEYS.metricsOpen, metricsOpen);
    set({ metricsOpen });
  },
}));

const SELECTED_CONVERSATION_KEY = "tandem.selectedConversation";

/** The conversation this window showed last (a reload opens it again); null when none is remembered. */
export function rememberedConversation(): string | null {
  try {
    return globalThis.localStorage?.getItem(SELECTED_CONVERSATION_KEY) ?? null;
  } catch {
    return null;
  }
}

export function rememberConversation(id: string | null): void {
  try {
    if (id) globalThis.localStorage?.setItem(SELECTED_CONVERSATION_KEY, id);
    else globalThis.localStorage?.removeItem(SELECTED_CONVERSATION_KEY);
  } catch {
    // Not remembered: a reload starts a new chat.
  }
}
