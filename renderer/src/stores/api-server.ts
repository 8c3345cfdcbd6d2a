import { create } from "zustand";
import type { ApiServerStatus } from "../../../contracts/window/index.js";

/**
 * The local OpenAI-compatible API server as the host reports it. One route in: the `apiServerStatus` event (through
 * the subscriber), plus the one fetch at start (and after a lost connection comes back). Actions that change the
 * server (saving settings, setting the key) never write here: the host pushes the new status.
 */
export interface ApiServerStoreState {
  /** null until the host has answered. */
  status: ApiServerStatus | null;
  setStatus(status: ApiServerStatus): void;
}

export const useApiServerStore = create<ApiServerStoreState>()((set) => ({
  status: null,
  setStatus: (status) => set({ status }),
}));
