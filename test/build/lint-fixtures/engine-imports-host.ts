// as: engine/fixture.ts — the engine process imports the host
import { defaultDataDir } from "../electron/host/data-dir.js";
export const dir = defaultDataDir;
