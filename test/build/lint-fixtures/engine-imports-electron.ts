// as: engine/fixture.ts — the engine process imports Electron
import { app } from "electron";
export const electronApp = app;
