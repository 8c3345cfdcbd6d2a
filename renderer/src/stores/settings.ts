import { create } from "zustand";
import type { AppInfo, Settings } from "../../../contracts/window/index.js";

export interface SettingsState {
  settings: Settings | null;
  appInfo: AppInfo | null;
  setSettings(settings: Settings): void;
  setAppInfo(appInfo: AppInfo): void;
}

export const useSettingsStore = create<SettingsState>()((set) => ({
  settings: null,
  appInfo: null,
  setSettings: (settings) => set({ settings }),
  setAppInfo: (appInfo) => set({ appInfo }),
}));
