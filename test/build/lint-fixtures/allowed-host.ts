// as: electron/host/fixture.ts — contracts, engine library code and the host's own files
import { windowApi } from "../../contracts/window/methods.js";
import { inspectGguf } from "../../engine/gguf/inspect.js";
import { AppDatabase } from "./store/app-database.js";
export const parts: unknown[] = [windowApi, inspectGguf, AppDatabase];
