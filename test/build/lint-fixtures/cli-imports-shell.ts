// as: cli/fixture.ts — the CLI imports the Electron shell
import { appPaths } from "../electron/app/paths.js";
export const paths = appPaths;
