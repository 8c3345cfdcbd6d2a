/**
 * Remote engines' actions: add, change, test and remove connections, and choose which engine writes replies. The
 * new list arrives through the subscriber's `connectionsChanged` and the new settings through `settingsChanged`;
 * each action resolves to what the form next to its button shows (the connection as tested, or the error).
 */
import type { ChatEngine, RemoteConnectionView, TandemClient, WindowParams } from "../../contracts/window/index.js";
import { errorMessage } from "./api/client.js";
import { useConnectionsStore } from "./stores/connections.js";

export type ConnectionOutcome = { ok: true; connection: RemoteConnectionView } | { ok: false; message: string };

export function createConnectionActions(client: TandemClient) {
  const outcome = async (run: () => Promise<RemoteConnectionView>): Promise<ConnectionOutcome> => {
    try {
      return { ok: true, connection: await run() };
    } catch (error) {
      return { ok: false, message: errorMessage(error) };
    }
  };

  return {
    /** The one fetch of the list at start (afterwards the host pushes it). */
    async refreshConnections(): Promise<void> {
      useConnectionsStore.getState().setList(await client.listConnections({}));
    },
    addConnection: (input: WindowParams<"addConnection">) => outcome(() => client.addConnection(input)),
    updateConnection: (input: WindowParams<"updateConnection">) => outcome(() => client.updateConnection(input)),
    testConnection: (id: string) => outcome(() => client.testConnection({ id })),
    /** Resolves to the host's error message, or null. */
    async removeConnection(id: string): Promise<string | null> {
      try {
        await client.removeConnection({ id });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },
    /** Which engine writes the replies: resolves to the host's error message, or null. */
    async chooseChatEngine(chatEngine: ChatEngine): Promise<string | null> {
      try {
        await client.updateSettings({ chatEngine });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },
  };
}
