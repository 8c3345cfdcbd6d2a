/**
 * The window API's method names, event names and IPC channels without zod, for the preload bundle.
 *
 * Why a copy: the preload runs on every page load in the sandbox, and importing anything at runtime from
 * window-api.ts drags all of zod (≈750 KB) into it (schema construction is not tree-shakeable). Drift is
 * impossible to miss: the records below must have exactly the contract's keys (tsc rejects a missing or extra
 * one), and test/electron/preload.test.ts checks names and channels against window-api.ts at runtime.
 */
import type { WindowEvent, WindowMethod } from "../../contracts/window/window-api.js";

const methods: { [M in WindowMethod]: true } = {
  getAppInfo: true,
  listConversations: true,
  createConversation: true,
  renameConversation: true,
  deleteConversation: true,
  getConversation: true,
  sendMessage: true,
  stopGeneration: true,
  regenerate: true,
  editAndResend: true,
  listModels: true,
  chooseModelsFolder: true,
  setModelsFolder: true,
  addModelsFolder: true,
  chooseLibraryFolder: true,
  removeModelsFolder: true,
  chooseModelFile: true,
  importModel: true,
  deleteModel: true,
  compatibleDrafts: true,
  estimateFit: true,
  loadModel: true,
  setDraftModel: true,
  setConversationSpeculation: true,
  getSettings: true,
  updateSettings: true,
  getEngineStatus: true,
  getCacheInfo: true,
  clearCache: true,
  restartEngine: true,
  getDatabaseStatus: true,
  recoverDatabase: true,
  runBenchmark: true,
  cancelBenchmark: true,
  listBenchmarks: true,
  startDownload: true,
  pauseDownload: true,
  resumeDownload: true,
  cancelDownload: true,
  listDownloads: true,
  searchHub: true,
  listHubFiles: true,
  getHfToken: true,
  setHfToken: true,
  openFolder: true,
  readLogTail: true,
};

const events: { [E in WindowEvent]: true } = {
  tokens: true,
  messageCompleted: true,
  conversationUpdated: true,
  conversationDeleted: true,
  engineStatus: true,
  engineCrashed: true,
  databaseStatus: true,
  modelLoadProgress: true,
  settingsChanged: true,
  cacheOutcome: true,
  menuCommand: true,
  modelsChanged: true,
  benchmarkProgress: true,
  downloadProgress: true,
};

export const contractMethodNames = Object.freeze(Object.keys(methods) as WindowMethod[]);
export const contractEventNames = Object.freeze(Object.keys(events) as WindowEvent[]);

/** Same strings as `ipcChannel` in window-api.ts. */
export const contractChannel = Object.freeze({
  invoke: (method: WindowMethod) => `tandem:invoke:${method}`,
  event: "tandem:event",
});
