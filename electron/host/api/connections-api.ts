/** The window API's remote engines: listing, adding, changing, testing and removing connections. */
import type { TandemApi } from "../../../contracts/window/index.js";
import type { RemoteEngines } from "../remote/remote-engines.js";

export type ConnectionsApi = Pick<TandemApi, "listConnections" | "addConnection" | "updateConnection" | "testConnection" | "removeConnection">;

export function connectionsApi(remote: RemoteEngines): ConnectionsApi {
  return {
    async listConnections() {
      return remote.list();
    },
    async addConnection(input) {
      return remote.add(input);
    },
    async updateConnection({ id, ...changes }) {
      return remote.update(id, changes);
    },
    async testConnection({ id }) {
      return remote.test(id);
    },
    async removeConnection({ id }) {
      return { removed: await remote.remove(id) };
    },
  };
}
