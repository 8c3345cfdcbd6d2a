/**
 * The window API's names, declared once and without zod: every method, every event, the IPC channels and web
 * mode's upload route. The sandboxed preload and the renderer import this at run time (a few hundred bytes);
 * methods.ts and events.ts key their schemas by these lists, so tsc refuses a schema without a name or a name
 * without a schema.
 */

/** Every operation the renderer can ask of the host (renderer -> host). */
export const windowMethodNames = [
  "getAppInfo",
  "listConversations",
  "createConversation",
  "renameConversation",
  "deleteConversation",
  "getConversation",
  "sendMessage",
  "stopGeneration",
  "regenerate",
  "editAndResend",
  "listModels",
  "chooseModelsFolder",
  "setModelsFolder",
  "addModelsFolder",
  "chooseLibraryFolder",
  "removeModelsFolder",
  "chooseModelFile",
  "importModel",
  "deleteModel",
  "compatibleDrafts",
  "estimateFit",
  "loadModel",
  "setDraftModel",
  "setConversationSpeculation",
  "getSettings",
  "updateSettings",
  "getEngineStatus",
  "getCacheInfo",
  "clearCache",
  "restartEngine",
  "getDatabaseStatus",
  "recoverDatabase",
  "runBenchmark",
  "cancelBenchmark",
  "listBenchmarks",
  "startDownload",
  "pauseDownload",
  "resumeDownload",
  "cancelDownload",
  "listDownloads",
  "searchHub",
  "listHubFiles",
  "getHfToken",
  "setHfToken",
  "openFolder",
  "readLogTail",
  "getApiServerStatus",
  "setApiServerKey",
  "listConnections",
  "addConnection",
  "updateConnection",
  "testConnection",
  "removeConnection",
] as const;
export type WindowMethod = (typeof windowMethodNames)[number];

/** Every event the host pushes to the renderer (host -> renderer). */
export const windowEventNames = [
  "tokens",
  "messageCompleted",
  "conversationUpdated",
  "conversationDeleted",
  "engineStatus",
  "engineCrashed",
  "databaseStatus",
  "modelLoadProgress",
  "settingsChanged",
  "cacheOutcome",
  "menuCommand",
  "modelsChanged",
  "benchmarkProgress",
  "connectionsChanged",
  "downloadProgress",
  "apiServerStatus",
] as const;
export type WindowEvent = (typeof windowEventNames)[number];

/** IPC channel names used by main and preload (the renderer never sees them). */
export const ipcChannel = {
  invoke: (method: WindowMethod) => `tandem:invoke:${method}` as const,
  event: "tandem:event",
} as const;

/**
 * Web mode's one non-WebSocket route: `POST WEB_UPLOAD_PATH?token=…` with the raw GGUF bytes as the body and the
 * file name in the WEB_UPLOAD_NAME_HEADER header (URI-encoded). Imports it like importModel (header checked first,
 * temp name + rename, nothing left behind on failure) and answers with an `ApiOutcome` of importModel's result.
 * The browser can't hand the server a path, so this is how web mode's file chooser and drops import.
 */
export const WEB_UPLOAD_PATH = "/api/upload";
export const WEB_UPLOAD_NAME_HEADER = "x-tandem-file-name";
