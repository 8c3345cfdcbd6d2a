// as: electron/app/preload-api.ts — the sandboxed preload bundles the schemas
import { windowApi } from "../../contracts/window/methods.js";
export const methods = Object.keys(windowApi);
