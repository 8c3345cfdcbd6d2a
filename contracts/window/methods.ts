/**
 * The window API's operations (renderer -> host): one params schema and one result schema per method, keyed by
 * names.ts. Params are validated exactly once, where the host receives a call (electron/host/api/dispatch.ts's
 * guardApi); IPC and the web socket only forward.
 */
import { z } from "zod";
import { BenchMode, CacheSlotsSetting, ContextSizeSetting, DraftModelInfo, GpuLayersSetting, LoadedModel, SpeculationMode } from "../engine/protocol.js";
import { ApiServerStatus, AppFolder, RemoteConnectionView, RemoteKind, AppInfo, BenchmarkPromptSet, BenchmarkResult, CacheInfo, Conversation, DatabaseRecovery, DatabaseStatus, DownloadInfo, DraftCandidate, EngineStatus, FitEstimate, HfTokenStatus, HubFile, HubModel, Id, ImportMethod, Message, ModelFile, ModelsListing, Settings, SettingsPatch } from "./domain.js";
import type { ApiError } from "./errors.js";
import { SETTINGS_LIMITS } from "./values.js";
import type { WindowMethod } from "./names.js";
const None = z.object({}).strict();

export const windowApi = {
  getAppInfo: { params: None, result: AppInfo },

  listConversations: {
    params: z.object({ query: z.string().max(500).optional() }).strict(),
    result: z.array(Conversation),
  },
  createConversation: { params: z.object({ title: z.string().max(200).optional() }).strict(), result: Conversation },
  renameConversation: {
    params: z.object({ id: Id, title: z.string().trim().min(1).max(200) }).strict(),
    result: Conversation,
  },
  deleteConversation: { params: z.object({ id: Id }).strict(), result: z.object({ deleted: z.boolean() }) },
  getConversation: {
    params: z.object({ id: Id }).strict(),
    result: z.object({ conversation: Conversation, messages: z.array(Message) }),
  },

  /** Adds the user message and starts the assistant reply (streamed as `tokens`, ended by `messageCompleted`). */
  sendMessage: {
    params: z.object({ conversationId: Id, content: z.string().trim().min(1).max(200_000) }).strict(),
    result: z.object({ userMessage: Message, assistantMessage: Message }),
  },
  stopGeneration: { params: z.object({ conversationId: Id }).strict(), result: z.object({ stopped: z.boolean() }) },
  /** Replaces the last assistant message with a new reply to the same history. */
  regenerate: { params: z.object({ conversationId: Id }).strict(), result: z.object({ assistantMessage: Message }) },
  /** Edits the last user message, drops what followed it and generates a new reply. */
  editAndResend: {
    params: z.object({ conversationId: Id, messageId: Id, content: z.string().trim().min(1).max(200_000) }).strict(),
    result: z.object({ userMessage: Message, assistantMessage: Message }),
  },

  /** The library: every folder's GGUF files with their facts (changes also arrive as `modelsChanged`). */
  listModels: { params: None, result: ModelsListing },
  /** Opens a native folder chooser (app only) and makes the chosen folder the main one; null when cancelled. */
  chooseModelsFolder: { params: None, result: ModelsListing.nullable() },
  /** Makes a folder the library's main folder (downloads and imports go there). */
  setModelsFolder: { params: z.object({ path: z.string().min(1).max(4096) }).strict(), result: ModelsListing },
  /** Adds a folder to the library (it must exist); adding one already listed is a no-op. */
  addModelsFolder: { params: z.object({ path: z.string().min(1).max(4096) }).strict(), result: ModelsListing },
  /** Opens a native folder chooser and adds the chosen folder to the library (app only; UNSUPPORTED in web mode); null when cancelled. */
  chooseLibraryFolder: { params: None, result: ModelsListing.nullable() },
  /** Removes an extra folder from the library (its files stay on disk); the main folder can't be removed (BAD_REQUEST). */
  removeModelsFolder: { params: z.object({ path: z.string().min(1).max(4096) }).strict(), result: ModelsListing },
  /** Opens a native GGUF file chooser (app only; UNSUPPORTED in web mode); returns the chosen path, or null. */
  chooseModelFile: { params: None, result: z.string().nullable() },
  /**
   * Brings a GGUF file into the models folder: its header is checked first (refused with NOT_GGUF and a one-line
   * reason, or MODEL_NOT_FOUND), then it is copied or hard-linked under a temp name and renamed ("name (2).gguf"
   * on a clash). A link across devices falls back to a copy: `method` says which happened. Returns the new file
   * and the folder's listing.
   */
  importModel: {
    params: z.object({ path: z.string().min(1).max(4096), mode: z.enum(["copy", "link"]).default("copy") }).strict(),
    result: ModelsListing.extend({ method: ImportMethod, model: ModelFile }),
  },
  /**
   * Deletes a GGUF file of the models folder (all parts of a split set) with its learned n-gram table and saved KV
   * states. The loaded target or draft is refused with BUSY. `freedBytes` counts everything removed.
   */
  deleteModel: {
    params: z.object({ path: z.string().min(1).max(4096) }).strict(),
    result: z.object({ deleted: z.boolean(), freedBytes: z.number() }),
  },
  /**
   * The models folder's other GGUF files as drafts for a target (default: the loaded or configured model), each
   * with whether its tokenizer matches the target's (compared from GGUF headers, no weights loaded) and the reason
   * when it does not; the smallest compatible one is recommended. Smallest first.
   */
  compatibleDrafts: {
    params: z.object({ targetPath: z.string().min(1).max(4096).optional() }).strict(),
    result: z.object({ targetPath: z.string().nullable(), candidates: z.array(DraftCandidate) }),
  },
  /**
   * Estimates the memory a model needs before it is loaded: weights, context (KV cache at the context size and cache
   * slots), draft and its context, at the GPU layers given (default: settings, "auto"). `source` is a library path,
   * an `hf:` reference or an http(s) URL (remote headers are read with ranged requests, nothing is downloaded);
   * default: the configured model. `draftSource` defaults to the configured draft (null: no draft). Headers only.
   */
  estimateFit: {
    params: z
      .object({
        source: z.string().trim().min(1).max(4096).optional(),
        draftSource: z.string().trim().min(1).max(4096).nullable().optional(),
        contextSize: ContextSizeSetting.optional(),
        cacheSlots: CacheSlotsSetting.optional(),
        gpuLayers: GpuLayersSetting.optional(),
      })
      .strict(),
    result: FitEstimate,
  },
  /** Loads a model and makes it the chat model (saved in settings). Progress arrives as `engineStatus` events. */
  loadModel: { params: z.object({ path: z.string().min(1).max(4096) }).strict(), result: LoadedModel },
  /**
   * Loads a draft model for speculation and saves it in settings (null unloads it). A draft whose tokenizer differs
   * from the target's is refused with code DRAFT_INCOMPATIBLE and a message naming the difference.
   */
  setDraftModel: {
    params: z.object({ path: z.string().min(1).max(4096).nullable() }).strict(),
    result: DraftModelInfo.nullable(),
  },
  /** Sets one conversation's speculation mode (null: follow the default in settings). */
  setConversationSpeculation: {
    params: z.object({ id: Id, mode: SpeculationMode.nullable() }).strict(),
    result: Conversation,
  },

  getSettings: { params: None, result: Settings },
  updateSettings: { params: SettingsPatch, result: Settings },

  getEngineStatus: { params: None, result: EngineStatus },
  /** The conversation cache's slots, memory estimate and disk usage. */
  getCacheInfo: { params: None, result: CacheInfo },
  /** Deletes every saved conversation state (refused with BUSY while a reply is being written). */
  clearCache: { params: None, result: z.object({ freedBytes: z.number() }) },
  restartEngine: { params: None, result: EngineStatus },

  /** Whether the database is usable or damaged (changes also arrive as `databaseStatus`). */
  getDatabaseStatus: { params: None, result: DatabaseStatus },
  /**
   * Deals with a damaged database: it is closed and moved aside with its -wal/-shm (a timestamped backup next to it,
   * never deleted), and a new database takes its place. "recover" copies every readable row of the damaged file
   * into it (conversations, messages, settings…); "empty" starts with nothing. BAD_REQUEST when the database is not
   * damaged, BUSY while a reply or a benchmark runs.
   */
  recoverDatabase: { params: z.object({ mode: DatabaseRecovery.shape.mode }).strict(), result: DatabaseRecovery },

  /**
   * Runs the A/B benchmark on the loaded model: plain decoding against each mode on a built-in prompt set (the
   * first `limit` prompts), greedy. Progress arrives as `benchmarkProgress`; the result is saved. BUSY while a
   * reply is being written (and sending while a benchmark runs is BUSY too).
   */
  runBenchmark: {
    params: z
      .object({
        promptSet: BenchmarkPromptSet,
        modes: z.array(BenchMode).min(1).max(4),
        maxTokens: z.number().int().min(1).max(512).optional(),
        limit: z.number().int().min(1).max(50).optional(),
      })
      .strict(),
    result: z.object({ result: BenchmarkResult }),
  },
  /** Cancels the running benchmark (it fails with ABORTED); false when none runs. */
  cancelBenchmark: { params: None, result: z.object({ cancelled: z.boolean() }) },
  /** Saved benchmark results, newest first. */
  listBenchmarks: { params: None, result: z.array(BenchmarkResult) },

  /**
   * Downloads a model (`hf:user/repo:QUANT`, `hf:user/repo/file.gguf` or an http(s) URL of a .gguf) into the models
   * folder in the background; progress arrives as `downloadProgress`. Starting a file that is already being
   * downloaded (or paused) returns that download. A reference that cannot be resolved fails with DOWNLOAD_FAILED.
   */
  startDownload: {
    params: z
      .object({
        source: z.string().trim().min(1).max(4096),
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/).optional(),
      })
      .strict(),
    result: DownloadInfo,
  },
  /** Stops a download and keeps its partial file for resumeDownload (also after an app restart). */
  pauseDownload: { params: z.object({ id: Id }).strict(), result: DownloadInfo },
  resumeDownload: { params: z.object({ id: Id }).strict(), result: DownloadInfo },
  /** Stops a download and removes its partial file. */
  cancelDownload: { params: z.object({ id: Id }).strict(), result: DownloadInfo },
  /** This session's downloads plus partial downloads found in the models folder (paused), oldest first. */
  listDownloads: { params: None, result: z.array(DownloadInfo) },

  /** Searches the Hugging Face Hub for GGUF model repos by name (most downloaded first). HUB_FAILED when offline. */
  searchHub: {
    params: z.object({ query: z.string().trim().min(1).max(200), limit: z.number().int().min(1).max(50).optional() }).strict(),
    result: z.object({ results: z.array(HubModel) }),
  },
  /** A Hub repo's GGUF models with sizes, quantization and SHA-256 (split sets folded into one entry). */
  listHubFiles: {
    params: z.object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "Expected user/repo") }).strict(),
    result: z.object({ repo: z.string(), files: z.array(HubFile) }),
  },
  getHfToken: { params: None, result: HfTokenStatus },
  /** Stores a Hugging Face token for gated repos (OS keychain where available); null removes it. */
  setHfToken: {
    params: z.object({ token: z.string().trim().min(1).max(500).nullable() }).strict(),
    result: HfTokenStatus,
  },

  /** Opens one of Tandem's folders in the OS file manager (app only; UNSUPPORTED in web mode). */
  openFolder: { params: z.object({ folder: AppFolder }).strict(), result: z.object({ opened: z.boolean() }) },
  /** The last lines of the engine's or the host's log (for the crash screen; the full logs are in paths.logs). */
  readLogTail: {
    params: z.object({ log: z.enum(["engine", "host"]), lines: z.number().int().min(1).max(1000).default(50) }).strict(),
    result: z.object({ lines: z.array(z.string()) }),
  },

  /** Remote engines: the saved connections with their last test (changes also arrive as `connectionsChanged`). */
  listConnections: { params: None, result: z.array(RemoteConnectionView) },
  /**
   * Saves a connection, then tests it ("Connected: 3 models"): the result carries the test, which may have failed
   * (the connection is kept; test it again later). The key is kept like the Hugging Face token, never sent back.
   */
  addConnection: {
    params: z
      .object({
        baseUrl: z.string().trim().min(1).max(2000),
        name: z.string().trim().max(200).optional(),
        kindSetting: z.union([z.literal("auto"), RemoteKind]).optional(),
        apiKey: z.string().trim().min(1).max(4096).optional(),
      })
      .strict(),
    result: RemoteConnectionView,
  },
  /** Changes a connection (apiKey null removes the key, absent keeps it) and tests it again. */
  updateConnection: {
    params: z
      .object({
        id: Id,
        baseUrl: z.string().trim().min(1).max(2000).optional(),
        name: z.string().trim().max(200).optional(),
        kindSetting: z.union([z.literal("auto"), RemoteKind]).optional(),
        apiKey: z.string().trim().max(4096).nullable().optional(),
      })
      .strict(),
    result: RemoteConnectionView,
  },
  /** Tests a saved connection again: reachable, the key accepted, its models listed, its kind detected. */
  testConnection: { params: z.object({ id: Id }).strict(), result: RemoteConnectionView },
  /** Removes a connection and its key; chat falls back to this machine's model when it was the chat engine. */
  removeConnection: { params: z.object({ id: Id }).strict(), result: z.object({ removed: z.boolean() }) },

  /** The local API server: running or not, its base URL, its error, request counts, whether a key is set. */
  getApiServerStatus: { params: None, result: ApiServerStatus },
  /**
   * Sets the API server's key (clients send it as `Authorization: Bearer <key>`), kept like the Hugging Face token
   * and never sent back; null removes it (refused by the server's status error when it listens beyond loopback).
   */
  setApiServerKey: {
    params: z
      .object({ key: z.string().trim().min(SETTINGS_LIMITS.apiServerKeyLength.min).max(SETTINGS_LIMITS.apiServerKeyLength.max).nullable() })
      .strict(),
    result: ApiServerStatus,
  },
} as const satisfies Record<WindowMethod, { params: z.ZodObject; result: z.ZodType }>;

// Every schema has a name in names.ts (the satisfies above refuses a missing one, this an extra one).
const _noExtraMethod: Record<keyof typeof windowApi, true> = {} as Record<WindowMethod, true>;
void _noExtraMethod;
export type WindowParams<M extends WindowMethod> = z.input<(typeof windowApi)[M]["params"]>;
export type WindowResult<M extends WindowMethod> = z.infer<(typeof windowApi)[M]["result"]>;

/** The host's API as the renderer calls it: one method per operation. */
export type TandemApi = { [M in WindowMethod]: (params: WindowParams<M>) => Promise<WindowResult<M>> };


/** Validates a call's params against the contract (used by main and by the web server). */
export function parseWindowCall(
  method: string,
  params: unknown,
): { ok: true; method: WindowMethod; params: unknown } | { ok: false; error: ApiError } {
  if (!Object.hasOwn(windowApi, method)) return { ok: false, error: { code: "UNKNOWN_METHOD", message: `Unknown method "${method}"` } };
  const m = method as WindowMethod;
  const schema = windowApi[m].params;
  // No params at all means {}: fine for a method without required params, and named as such for one with them.
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) {
    const message =
      params === undefined || params === null
        ? `${m} needs params (${requiredParams(schema).join(", ")}), but the call has none.`
        : `Invalid params for ${m}: ${z.prettifyError(parsed.error)}`;
    return { ok: false, error: { code: "BAD_REQUEST", message } };
  }
  return { ok: true, method: m, params: parsed.data };
}

/** The keys of a params object that a call must give (those whose schema refuses undefined). */
function requiredParams(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);
}
