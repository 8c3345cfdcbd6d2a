/**
 * Preload (sandboxed, context-isolated): exposes the window API as `window.tandem` and nothing else. The page
 * never gets ipcRenderer or a way to name a channel; see app/preload-api.ts for the object itself.
 */
import { contextBridge, ipcRenderer } from "electron";
import { buildPreloadApi } from "./app/preload-api.js";

contextBridge.exposeInMainWorld("tandem", buildPreloadApi(ipcRenderer));
