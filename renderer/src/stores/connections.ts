import { create } from "zustand";
import type { RemoteConnectionView } from "../../../contracts/window/index.js";

/**
 * Remote engines' connections as the host lists them, each with its last test. One route in: the
 * `connectionsChanged` event (through the subscriber), plus the one fetch at start (and after a lost connection
 * comes back). Actions that add, change, test or remove a connection never write here: the host pushes the list.
 */
export interface ConnectionsStoreState {
  /** null until the host has answered. */
  list: RemoteConnectionView[] | null;
  setList(list: RemoteConnectionView[]): void;
}

export const useConnectionsStore = create<ConnectionsStoreState>()((set) => ({
  list: null,
  setList: (list) => set({ list }),
}));
