/**
 * Preload (sandboxed, context-isolated): exposes the window API as `window.tandem` and nothing else. The page
 * never gets ipcRenderer or a way to name a channel; see app/preload-api.ts for the object itself. webUtils gives
 * dropped files their paths (File.path is gone since Electron 32) so drag-and-drop can import by path.
 */
import { contextBridge, ipcRenderer, webUtils } from "electron";
import { buildPreloadApi } from "./app/preload-api.js";

contextBridge.exposeInMainWorld("tandem", buildPreloadApi(ipcRenderer, (file) => webUtils.getPathForFile(file)));
