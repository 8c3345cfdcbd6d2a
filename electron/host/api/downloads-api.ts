/** The window API's downloads and Hugging Face Hub: downloads in progress, Hub search and files, the Hub token. */
import type { TandemApi } from "../../../contracts/window/index.js";
import type { DownloadManager } from "../downloads/download-manager.js";
import type { HostContext } from "../host-context.js";
import type { Hub } from "../downloads/hub-search.js";
import type { SecretStore } from "../secrets.js";

export type DownloadsApi = Pick<
  TandemApi,
  | "startDownload"
  | "pauseDownload"
  | "resumeDownload"
  | "cancelDownload"
  | "listDownloads"
  | "searchHub"
  | "listHubFiles"
  | "getHfToken"
  | "setHfToken"
>;

export interface DownloadsApiDeps {
  downloads: DownloadManager;
  hub: Hub;
  /** Where the Hugging Face token is kept; the window only ever learns whether one is set. */
  secrets: SecretStore;
}

export function downloadsApi(ctx: HostContext, { downloads, hub, secrets }: DownloadsApiDeps): DownloadsApi {
  return {
    async startDownload({ source, sha256 }) {
      return downloads.start(source, sha256);
    },

    async pauseDownload({ id }) {
      return downloads.pause(id);
    },

    async resumeDownload({ id }) {
      return downloads.resume(id);
    },

    async cancelDownload({ id }) {
      return downloads.cancel(id);
    },

    async listDownloads() {
      return downloads.list();
    },

    async searchHub({ query, limit }) {
      return { results: await hub.search(query, limit) };
    },

    async listHubFiles({ repo }) {
      return { repo, files: await hub.listFiles(repo) };
    },

    async getHfToken() {
      return secrets.status();
    },

    async setHfToken({ token }) {
      await secrets.set(token);
      ctx.logger.info(token === null ? "Removed the Hugging Face token" : "Stored a Hugging Face token");
      return secrets.status();
    },
  };
}
