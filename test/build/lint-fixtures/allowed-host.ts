// as: electron/host/fixture.ts — contracts, engine library code and the host's own files
import { windowApi } from "../../contracts/window/methods.js";
import { inspectGguf } from "../../engine/gguf/inspect.js";
import { ChatStore } from "./store/chat-store.js";
export const parts: unknown[] = [windowApi, inspectGguf, ChatStore];
