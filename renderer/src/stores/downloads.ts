import { create } from "zustand";
import type { DownloadInfo } from "../../../electron/window-api.js";

export interface DownloadsState {
  /** Downloads in the order they were first seen. */
  list: DownloadInfo[];
  /** Replaces the list (listDownloads); keeps anything newer already pushed for the same id. */
  setList(list: DownloadInfo[]): void;
  upsert(info: DownloadInfo): void;
}

export const useDownloadsStore = create<DownloadsState>()((set) => ({
  list: [],
  setList: (list) =>
    set((s) => {
      const known = new Map(s.list.map((d) => [d.id, d]));
      const merged = list.map((d) => known.get(d.id) ?? d);
      const ids = new Set(merged.map((d) => d.id));
      return { list: [...merged, ...s.list.filter((d) => !ids.has(d.id))] };
    }),
  upsert: (info) =>
    set((s) => {
      const i = s.list.findIndex((d) => d.id === info.id);
      if (i < 0) return { list: [...s.list, info] };
      const list = [...s.list];
      list[i] = info;
      return { list };
    }),
}));
