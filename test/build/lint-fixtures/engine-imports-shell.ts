// as: engine/kv-cache/fixture.ts — the engine process imports the Electron shell
import { appPaths } from "../../electron/app/paths.js";
export const paths = appPaths;
