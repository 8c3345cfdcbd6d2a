import { create } from "zustand";
import type { DownloadInfo } from "../../../contracts/window/index.js";

export interface DownloadsState {
  /** Downloads in the host's order (the order they were started). */
  list: DownloadInfo[];
  /** The host's list has been fetched (loadInitial): `list` holds every download of this host's run. */
  listed: boolean;
  /**
   * Replaces the list with the host's (listDownloads). The fetched entries win over the stored ones: the host's list
   * is what is true when it answered, and a stored entry may be stale (progress events missed while the connection
   * was down: loadInitial fetches again when it comes back). Stored downloads the host no longer lists (ids from before a host restart)
   * are dropped. A progress event that arrives after the answer is applied after it with `upsert`, so it wins.
   */
  setList(list: DownloadInfo[]): void;
  upsert(info: DownloadInfo): void;
}

export const useDownloadsStore = create<DownloadsState>()((set) => ({
  list: [],
  listed: false,
  setList: (list) => set({ list: [...list], listed: true }),
  upsert: (info) =>
    set((s) => {
      const i = s.list.findIndex((d) => d.id === info.id);
      if (i < 0) return { list: [...s.list, info] };
      const list = [...s.list];
      list[i] = info;
      return { list };
    }),
}));
