import { create } from "zustand";
import type { CrashInfo, EngineStatus, WindowEventData } from "../../../contracts/window/index.js";
import type { GenerationStats } from "../../../contracts/engine/protocol.js";
import type { ConnectionState } from "../api/client.js";

export interface CrashBanner {
  crash: CrashInfo;
  /** Whether the supervisor said it would restart the engine. */
  restarting: boolean;
}

export interface ModelErrorBanner {
  message: string;
  /** The model whose load failed (what Retry loads again), when known. */
  path: string | null;
}

export interface EngineStoreState {
  status: EngineStatus | null;
  crash: CrashBanner | null;
  /** When the crash last dismissed happened (`CrashInfo.at`), so status updates do not bring it back. */
  dismissedCrashAt: number | null;
  modelError: ModelErrorBanner | null;
  /** The status' modelError last seen, so an unchanged error does not come back after being dismissed. */
  seenStatusModelError: string | null;
  /** The model path of the last load the user asked for. */
  lastModelPath: string | null;
  /** Web mode only: null in the app. */
  connection: ConnectionState | null;
  /** A failed action's message, shown in a dismissable banner. */
  notice: string | null;
  /** Stats of the last reply completed in this session. */
  lastStats: GenerationStats | null;
  /** How the cache served the last reply's prompt in this session (arrives before the reply ends). */
  lastCacheOutcome: WindowEventData<"cacheOutcome"> | null;
  setStatus(status: EngineStatus): void;
  crashed(crash: CrashInfo, restarting: boolean): void;
  dismissCrash(): void;
  setModelError(error: ModelErrorBanner | null): void;
  dismissModelError(): void;
  setLastModelPath(path: string): void;
  setConnection(state: ConnectionState | null): void;
  setNotice(notice: string | null): void;
  setLastStats(stats: GenerationStats): void;
  setCacheOutcome(outcome: WindowEventData<"cacheOutcome">): void;
}

export const useEngineStore = create<EngineStoreState>()((set) => ({
  status: null,
  crash: null,
  dismissedCrashAt: null,
  modelError: null,
  seenStatusModelError: null,
  lastModelPath: null,
  connection: null,
  notice: null,
  lastStats: null,
  lastCacheOutcome: null,
  setStatus: (status) =>
    set((s) => {
      const next: Partial<EngineStoreState> = { status };
      if (status.modelError !== s.seenStatusModelError) {
        next.seenStatusModelError = status.modelError;
        if (status.modelError) {
          next.modelError = { message: status.modelError, path: status.loadingModelPath ?? s.lastModelPath };
        }
      }
      // A successful load clears the model error.
      if (!status.modelError && status.model && !status.loadingModelPath) next.modelError = null;
      // Opening the window after a crash the engine has not recovered from still shows it.
      const unrecovered = status.state === "failed" || status.state === "restarting";
      if (!s.crash && status.lastCrash && unrecovered && status.lastCrash.at !== s.dismissedCrashAt) {
        next.crash = { crash: status.lastCrash, restarting: status.state === "restarting" };
      }
      return next;
    }),
  crashed: (crash, restarting) => set({ crash: { crash, restarting } }),
  dismissCrash: () => set((s) => ({ crash: null, dismissedCrashAt: s.crash?.crash.at ?? s.dismissedCrashAt })),
  setModelError: (modelError) => set({ modelError }),
  dismissModelError: () => set({ modelError: null }),
  setLastModelPath: (lastModelPath) => set({ lastModelPath }),
  setConnection: (connection) => set({ connection }),
  setNotice: (notice) => set({ notice }),
  setLastStats: (lastStats) => set({ lastStats }),
  setCacheOutcome: (lastCacheOutcome) => set({ lastCacheOutcome }),
}));
