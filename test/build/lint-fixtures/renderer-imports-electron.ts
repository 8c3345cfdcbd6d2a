// as: renderer/src/fixture.ts — Electron in the renderer
import { ipcRenderer } from "electron";
export const ipc = ipcRenderer;
