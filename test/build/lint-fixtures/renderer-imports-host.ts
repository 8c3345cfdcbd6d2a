// as: renderer/src/components/fixture.tsx — the renderer reaches into the host
import { ChatStore } from "../../../electron/host/store/chat-store.js";
export const store = ChatStore;
