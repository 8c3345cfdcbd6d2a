import { create } from "zustand";

/** Window-level UI state shared by components that are far apart (e.g. the empty state opens the model picker). */
export interface UiState {
  modelPickerOpen: boolean;
  settingsOpen: boolean;
  /** The Models screen (library table, details, draft pairing). */
  modelsScreenOpen: boolean;
  setModelPickerOpen(open: boolean): void;
  setSettingsOpen(open: boolean): void;
  setModelsScreenOpen(open: boolean): void;
}

export const useUiStore = create<UiState>()((set) => ({
  modelPickerOpen: false,
  settingsOpen: false,
  modelsScreenOpen: false,
  setModelPickerOpen: (modelPickerOpen) => set({ modelPickerOpen }),
  setSettingsOpen: (settingsOpen) => set({ settingsOpen }),
  setModelsScreenOpen: (modelsScreenOpen) => set({ modelsScreenOpen }),
}));
