import { create } from "zustand";
import type { ModelFile } from "../../../contracts/window/index.js";

export interface ModelLoad {
  path: string;
  /** 0..1 */
  progress: number;
}

export interface ModelsState {
  folder: string | null;
  /** Every library folder, the main one first. */
  folders: string[];
  files: ModelFile[];
  listed: boolean;
  /** Why listing the folder failed, if it did. */
  listError: string | null;
  /** The model load in progress, with its progress. */
  loading: ModelLoad | null;
  setListing(listing: { folder: string; folders?: string[]; models: ModelFile[] }): void;
  setListError(message: string | null): void;
  setLoading(loading: ModelLoad | null): void;
  setProgress(path: string, progress: number): void;
}

export const useModelsStore = create<ModelsState>()((set) => ({
  folder: null,
  folders: [],
  files: [],
  listed: false,
  listError: null,
  loading: null,
  setListing: ({ folder, folders, models }) =>
    set({ folder, folders: folders ?? [folder], files: [...models].sort((a, b) => a.name.localeCompare(b.name)), listed: true, listError: null }),
  setListError: (listError) => set({ listError }),
  setLoading: (loading) => set({ loading }),
  setProgress: (path, progress) => set({ loading: { path, progress: Math.max(0, Math.min(1, progress)) } }),
}));
