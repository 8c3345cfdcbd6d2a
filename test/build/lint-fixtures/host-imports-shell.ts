// as: electron/host/api/fixture.ts — the host imports the Electron shell
import { appPaths } from "../../app/paths.js";
export const paths = appPaths;
