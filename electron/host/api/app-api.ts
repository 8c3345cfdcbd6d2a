/**
 * The window API's app and engine: versions and folders, the engine's status and restart, the conversation cache,
 * A/B benchmarks and the log files.
 */
import { nodeLlamaCppVersion } from "../../../engine/node-llama-cpp-version.js";
import type { TandemApi } from "../../../contracts/window/index.js";
import { appPaths, openAppFolder } from "../app-folders.js";
import type { Benchmarks } from "../benchmarks.js";
import type { Generations } from "../generations.js";
import type { HostContext } from "../host-context.js";
import { readLogTail } from "../log-files.js";
import type { LoadQueue } from "../models/load-queue.js";
import type { HostOptions } from "../types.js";

export type AppApi = Pick<
  TandemApi,
  | "getAppInfo"
  | "openFolder"
  | "readLogTail"
  | "getEngineStatus"
  | "restartEngine"
  | "getCacheInfo"
  | "clearCache"
  | "runBenchmark"
  | "cancelBenchmark"
  | "listBenchmarks"
>;

export interface AppApiDeps {
  options: HostOptions;
  /** The folder host.log and engine.log are written to. */
  logsDir: string;
  models: LoadQueue;
  generations: Generations;
  benchmarks: Benchmarks;
  /** Throws while a reply or an A/B benchmark runs. */
  assertIdle: () => void;
}

export function appApi(ctx: HostContext, deps: AppApiDeps): AppApi {
  const { options, models, generations, benchmarks, assertIdle } = deps;
  const currentPaths = () => appPaths(options.dataDir, ctx.store().getSettings().modelsFolder);

  return {
    async getAppInfo() {
      return {
        version: options.appVersion,
        mode: options.mode,
        dataDir: options.dataDir,
        platform: process.platform,
        canPickFolder: options.pickFolder !== undefined,
        canPickFile: options.pickModelFile !== undefined,
        canUpload: options.mode === "web",
        canOpenFolder: options.openFolder !== undefined,
        paths: currentPaths(),
        versions: {
          app: options.appVersion,
          electron: process.versions.electron ?? null,
          chrome: process.versions.chrome ?? null,
          node: process.versions.node,
          nodeLlamaCpp: nodeLlamaCppVersion(),
        },
      };
    },

    async openFolder({ folder }) {
      return openAppFolder(folder, currentPaths(), options.openFolder);
    },

    async readLogTail({ log, lines }) {
      return { lines: await readLogTail(deps.logsDir, log, lines ?? 50) };
    },

    async getEngineStatus() {
      return ctx.status.current;
    },

    async restartEngine() {
      await ctx.supervisor.restart();
      return ctx.status.current;
    },

    async getCacheInfo() {
      return (await models.refreshCache()) ?? ctx.status.current.cache ?? { slots: 0, slotsInUse: 0, diskBytes: 0, diskStates: 0, diskBudgetBytes: 0, memoryBytes: 0 };
    },

    async clearCache() {
      // The engine clears under its context lock anyway; refusing here tells the user why nothing happened yet.
      assertIdle();
      return models.clearCache();
    },

    async runBenchmark(params) {
      generations.assertIdle();
      return { result: await benchmarks.run(params) };
    },

    async cancelBenchmark() {
      return { cancelled: benchmarks.cancel() };
    },

    async listBenchmarks() {
      return benchmarks.list();
    },
  };
}
