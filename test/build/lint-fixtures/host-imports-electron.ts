// as: electron/host/fixture.ts — the host (plain Node) imports Electron
import { app } from "electron";
export const electronApp = app;
