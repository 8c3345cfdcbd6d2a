import { create } from "zustand";

/** Window-level UI state shared by components that are far apart (e.g. the empty state opens the model picker). */
export interface UiState {
  modelPickerOpen: boolean;
  settingsOpen: boolean;
  /** The Models screen (library table, details, draft pairing). */
  modelsScreenOpen: boolean;
  /** The About dialog (versions), opened from the Help menu, Settings or the sidebar. */
  aboutOpen: boolean;
  /** The conversation list in a narrow window, where it is hidden until the header's button opens it over the chat. */
  sidebarOpen: boolean;
  setAboutOpen(open: boolean): void;
  setSidebarOpen(open: boolean): void;
  setModelPickerOpen(open: boolean): void;
  setSettingsOpen(open: boolean): void;
  setModelsScreenOpen(open: boolean): void;
}

export const useUiStore = create<UiState>()((set) => ({
  modelPickerOpen: false,
  settingsOpen: false,
  modelsScreenOpen: false,
  aboutOpen: false,
  sidebarOpen: false,
  setAboutOpen: (aboutOpen) => set({ aboutOpen }),
  setSidebarOpen: (sidebarOpen) => set({ sidebarOpen }),
  setModelPickerOpen: (modelPickerOpen) => set({ modelPickerOpen }),
  setSettingsOpen: (settingsOpen) => set({ settingsOpen }),
  setModelsScreenOpen: (modelsScreenOpen) => set({ modelsScreenOpen }),
}));
