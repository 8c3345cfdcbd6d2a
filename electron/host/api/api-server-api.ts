/** The window API's view of the local OpenAI-compatible API server: its status, and setting its key. */
import type { TandemApi } from "../../../contracts/window/index.js";
import type { ApiServerController } from "../api-server/controller.js";

export type ApiServerApi = Pick<TandemApi, "getApiServerStatus" | "setApiServerKey">;

export function apiServerApi(controller: ApiServerController): ApiServerApi {
  return {
    async getApiServerStatus() {
      return controller.status();
    },
    async setApiServerKey({ key }) {
      return controller.setKey(key);
    },
  };
}
