import { create } from "zustand";
import type { DatabaseRecovery, DatabaseStatus } from "../../../contracts/window/index.js";

/** What the window knows about the host's database, and where backup-and-recover is. */
export interface DatabaseStoreState {
  /** The host's database status; null until it has answered. */
  status: DatabaseStatus | null;
  /** The host could not open the database at all (DATABASE_UNAVAILABLE): its message. */
  unavailable: string | null;
  /** The recovery just done, shown until the user continues to the chats. */
  report: DatabaseRecovery | null;
  /** The recovery running now. */
  busy: DatabaseRecovery["mode"] | null;
  /** Why the last recovery failed. */
  error: string | null;
  setStatus(status: DatabaseStatus): void;
  setUnavailable(message: string | null): void;
  startRecovery(mode: DatabaseRecovery["mode"]): void;
  recovered(report: DatabaseRecovery): void;
  recoveryFailed(message: string): void;
  dismissReport(): void;
}

export const useDatabaseStore = create<DatabaseStoreState>()((set) => ({
  status: null,
  unavailable: null,
  report: null,
  busy: null,
  error: null,
  setStatus: (status) => set({ status, unavailable: null }),
  setUnavailable: (unavailable) => set({ unavailable }),
  startRecovery: (busy) => set({ busy, error: null }),
  recovered: (report) => set({ report, busy: null, error: null }),
  recoveryFailed: (error) => set({ busy: null, error }),
  dismissReport: () => set({ report: null }),
}));

/** Whether the window shows the database screen instead of the app. */
export const selectShowDatabaseScreen = (s: DatabaseStoreState): boolean => s.status?.state === "damaged" || s.unavailable !== null || s.report !== null;
