/**
 * The window API: every operation the renderer can ask of the host, and every event the host pushes to it,
 * declared once.
 *
 * - The host (electron/host) implements `TandemApi`.
 * - In the app, preload exposes one method per operation on `window.tandem`, and main validates each call's
 *   sender and params against `windowApi` before calling the host.
 * - In web mode the same calls travel over a WebSocket; the server validates params the same way.
 * - The renderer only ever talks to a `TandemClient` (this API plus event subscription).
 */
import { z } from "zod";
import {
  Backend,
  BenchMode,
  BenchReport,
  CacheInfo,
  CacheOutcome,
  CacheSlotsSetting,
  ContextSizeSetting,
  DraftModelInfo,
  FitEstimate,
  GpuLayersSetting,
  SpeculationMode,
  VerifyStep,
  GenerationStats,
  GpuChoice,
  LoadedModel,
  StreamedToken,
  SystemInfo,
  ThreadsSetting,
} from "../engine/protocol.js";

// ---------------------------------------------------------------------------------------------------------------
// Domain types
// ---------------------------------------------------------------------------------------------------------------

export const Id = z.string().min(1).max(100);

export const Conversation = z.object({
  id: Id,
  title: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** This conversation's speculation mode; null follows settings.speculation. */
  speculation: SpeculationMode.nullable().default(null),
});
export type Conversation = z.infer<typeof Conversation>;

export const MessageStatus = z.enum([
  "complete", // finished normally (EOG, max tokens or context full)
  "streaming", // being generated now
  "stopped", // the user pressed Stop; the partial text is kept
  "interrupted", // the engine (or app) died mid-reply; the partial text is kept
  "error", // generation failed before producing text (see `error`)
]);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const GenerationSettings = z.object({
  systemPrompt: z.string(),
  temperature: z.number(),
  maxTokens: z.number().int(),
  /** The speculation mode the reply was generated with (absent on replies from before speculation existed). */
  speculation: SpeculationMode.optional(),
  /** File name of the draft model, when the draft speculator was available. */
  draftModel: z.string().nullable().optional(),
});
export type GenerationSettings = z.infer<typeof GenerationSettings>;

export const Message = z.object({
  id: Id,
  conversationId: Id,
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  status: MessageStatus,
  error: z.string().nullable(),
  /** File name of the model that wrote an assistant message. */
  model: z.string().nullable(),
  settings: GenerationSettings.nullable(),
  stats: GenerationStats.nullable(),
  createdAt: z.number(),
});
export type Message = z.infer<typeof Message>;

export const Theme = z.enum(["system", "light", "dark"]);

export const Settings = z.object({
  systemPrompt: z.string().max(100_000),
  temperature: z.number().min(0).max(2),
  maxTokens: z.number().int().min(1).max(32_768),
  contextSize: ContextSizeSetting,
  gpu: GpuChoice,
  threads: ThreadsSetting,
  /** The library's main folder: downloads and imports go here. */
  modelsFolder: z.string(),
  /** More folders the library lists (and watches), e.g. an existing collection of GGUF files. */
  extraModelsFolders: z.array(z.string()).max(32),
  /** The model to load at start and use for chat; null until the user picks one. */
  modelPath: z.string().nullable(),
  theme: Theme,
  /** Default speculation mode for conversations that don't set their own. */
  speculation: SpeculationMode,
  /** Draft model for the `draft` speculator (and for `auto` to consider); loaded alongside the target. */
  draftModelPath: z.string().nullable(),
  /** Upper bound on the draft length; the engine chooses k <= this from measured costs. */
  maxDraftTokens: z.number().int().min(1).max(32),
  /** Conversation slots of the KV cache ("auto": the most that fit a memory budget). */
  cacheSlots: CacheSlotsSetting,
  /** Disk budget of saved conversation states, in GB. */
  cacheDiskBudgetGB: z.number().min(0.1).max(1000),
});
export type Settings = z.infer<typeof Settings>;

/** Where a library file came from, recorded when Tandem put it there (files found in a folder have none). */
export const ModelOrigin = z.discriminatedUnion("kind", [
  /** Downloaded by Tandem: the `hf:` reference or URL it came from. */
  z.object({ kind: z.literal("downloaded"), source: z.string(), at: z.number() }),
  /** Imported from a path (copied or hard-linked), or uploaded from the browser in web mode (`from` = file name). */
  z.object({ kind: z.literal("imported"), from: z.string(), method: z.enum(["copied", "linked", "uploaded"]), at: z.number() }),
]);
export type ModelOrigin = z.infer<typeof ModelOrigin>;

export const ModelFile = z.object({
  path: z.string(),
  name: z.string(),
  sizeBytes: z.number(),
  modifiedAt: z.number(),
  /** Facts read from the GGUF header (absent when not inspected; `error` set when the file could not be read). */
  architecture: z.string().optional(),
  /** Parameter count (weights), from the tensor shapes. */
  parameters: z.number().optional(),
  /** File type / quantization name, e.g. "Q4_K_M" or "F32". */
  quantization: z.string().optional(),
  /** Trained context length in tokens. */
  contextLength: z.number().optional(),
  /** Tokenizer type (tokenizer.ggml.model), e.g. "llama" or "gpt2". */
  tokenizer: z.string().optional(),
  vocabSize: z.number().optional(),
  hasChatTemplate: z.boolean().optional(),
  /** The node-llama-cpp chat wrapper the template resolves to (e.g. "ChatML"), or the template's first line. */
  chatTemplate: z.string().optional(),
  /** Special token ids from the header. */
  specialTokens: z
    .object({ bos: z.number().nullable(), eos: z.number().nullable(), eot: z.number().nullable() })
    .optional(),
  /** Split sets (`-00001-of-0000N.gguf`): the number of parts and the missing part file names. */
  splitParts: z.number().optional(),
  missingParts: z.array(z.string()).optional(),
  /** Why the file could not be inspected (not GGUF, truncated…); the other facts are absent then. */
  error: z.string().optional(),
  /** The library folder the file is in (settings.modelsFolder or one of extraModelsFolders). */
  folder: z.string().optional(),
  /** Where it came from, when Tandem downloaded or imported it. */
  origin: ModelOrigin.nullable().optional(),
});
export type ModelFile = z.infer<typeof ModelFile>;

/** The library: its main folder, all its folders (main first) and their GGUF files. */
export const ModelsListing = z.object({
  folder: z.string(),
  folders: z.array(z.string()),
  models: z.array(ModelFile),
});
export type ModelsListing = z.infer<typeof ModelsListing>;

/** A Hugging Face model repository found by searchHub (GGUF repos only). */
export const HubModel = z.object({
  /** "user/repo" */
  repo: z.string(),
  author: z.string().nullable(),
  downloads: z.number(),
  likes: z.number(),
  /** Last modified, ms since the epoch (null when the Hub does not say). */
  updatedAt: z.number().nullable(),
  /** Gated repos need a Hugging Face token (setHfToken) with access granted on the Hub. */
  gated: z.boolean(),
});
export type HubModel = z.infer<typeof HubModel>;

/** One downloadable GGUF model of a Hub repo (a split set is one entry with its total size). */
export const HubFile = z.object({
  repo: z.string(),
  /** Path in the repo of the file (of the first part, for a split set). */
  path: z.string(),
  name: z.string(),
  /** Total bytes (all parts); null when the Hub does not say. */
  sizeBytes: z.number().nullable(),
  /** SHA-256 of the file when the Hub provides it (LFS oid); null for split sets and non-LFS files. */
  sha256: z.string().nullable(),
  /** Quantization from the file name, e.g. "Q4_K_M" (null when the name does not say). */
  quantization: z.string().nullable(),
  parts: z.number().int(),
  /** What to pass to startDownload and estimateFit: `hf:user/repo/path`. */
  source: z.string(),
});
export type HubFile = z.infer<typeof HubFile>;

/** Whether a Hugging Face token is set and where it is kept (never the token itself). */
export const HfTokenStatus = z.object({
  set: z.boolean(),
  /** keychain: encrypted with the OS keychain (Electron safeStorage); file: a 0600 file in the data directory
   * (no keychain available: web mode, or Linux without a secret service); env: $HF_TOKEN; none: not set. */
  storage: z.enum(["keychain", "file", "env", "none"]),
});
export type HfTokenStatus = z.infer<typeof HfTokenStatus>;

/** Folders the user can open from settings (and the Help menu, for logs). */
export const AppFolder = z.enum(["dataDir", "modelsFolder", "cache", "logs"]);
export type AppFolder = z.infer<typeof AppFolder>;

/** One candidate draft model for a target: whether its tokenizer matches, and why not. */
export const DraftCandidate = z.object({
  path: z.string(),
  name: z.string(),
  sizeBytes: z.number(),
  parameters: z.number().nullable(),
  compatible: z.boolean(),
  /** Why it is incompatible (names the first differing field), or why it is recommended; null otherwise. */
  reason: z.string().nullable(),
  /** The smallest compatible candidate. */
  recommended: z.boolean(),
});
export type DraftCandidate = z.infer<typeof DraftCandidate>;

export const CrashReason = z.enum([
  "exited", // the process exited on its own with a non-zero code
  "killed", // the process was killed by a signal (OOM killer, user, test)
  "launch-failed", // the process could not be started or did not complete the handshake
  "unresponsive", // the process stopped answering
]);
export type CrashReason = z.infer<typeof CrashReason>;

export const CrashInfo = z.object({
  reason: CrashReason,
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  at: z.number(),
  message: z.string(),
});
export type CrashInfo = z.infer<typeof CrashInfo>;

export const EngineState = z.enum(["starting", "ready", "loading-model", "restarting", "failed", "stopped"]);

export const EngineStatus = z.object({
  state: EngineState,
  system: SystemInfo.nullable(),
  model: LoadedModel.nullable(),
  draftModel: DraftModelInfo.nullable(),
  /** Why the configured draft model is not loaded (incompatible tokenizer, missing file…), cleared on success. */
  draftError: z.string().nullable(),
  /** Set while a model load is in progress. */
  loadingModelPath: z.string().nullable(),
  lastCrash: CrashInfo.nullable(),
  /** The last model load failure, cleared by a successful load. */
  modelError: z.string().nullable(),
  restarts: z.number().int(),
  /** The paged KV cache of the loaded model, refreshed after every reply and after a clear (null without a model). */
  cache: CacheInfo.nullable().default(null),
});
export type EngineStatus = z.infer<typeof EngineStatus>;

/** What is wrong with a damaged database. */
export const DatabaseProblem = z.enum([
  "corrupt", // SQLite reports damage: "database disk image is malformed", or the integrity check failed
  "not-a-database", // the file is not an SQLite database at all ("file is not a database")
]);
export type DatabaseProblem = z.infer<typeof DatabaseProblem>;

/** What recoverDatabase did. The damaged files are never deleted: they are moved aside next to the new database. */
export const DatabaseRecovery = z.object({
  /** "recover": readable rows were copied into the new database; "empty": it starts empty. */
  mode: z.enum(["recover", "empty"]),
  /** The damaged database as it was, renamed (e.g. <dataDir>/tandem-damaged-20250115-120000.db). */
  backupPath: z.string(),
  /** Every file moved aside: the database and its -wal / -shm companions, when they existed. */
  backupFiles: z.array(z.string()),
  /** What the new database holds: conversations (including ones rebuilt for orphaned messages), messages, settings. */
  conversations: z.number().int(),
  messages: z.number().int(),
  settings: z.number().int(),
  /** Tables with rows that could not be read (those rows are only in the backup), e.g. ["messages"]. */
  incompleteTables: z.array(z.string()),
  at: z.number(),
});
export type DatabaseRecovery = z.infer<typeof DatabaseRecovery>;

/**
 * Whether the database (tandem.db) can be used. "damaged": the integrity check at open, or SQLite while running,
 * found damage; every write is refused with DATABASE_DAMAGED until recoverDatabase. A database that cannot be
 * opened at all has no status: calls fail with DATABASE_UNAVAILABLE.
 */
export const DatabaseStatus = z.object({
  state: z.enum(["ok", "damaged"]),
  /** The database file. */
  path: z.string(),
  /** Set while damaged. */
  problem: DatabaseProblem.nullable(),
  /** SQLite's own words while damaged (for the details), e.g. "database disk image is malformed". */
  detail: z.string().nullable(),
  /** Where the damage was found: when the database was opened, or by a later operation. */
  foundWhile: z.enum(["opening", "running"]).nullable(),
  /** The last recovery of this run, so a window opened after it can still show what was recovered. */
  lastRecovery: DatabaseRecovery.nullable(),
});
export type DatabaseStatus = z.infer<typeof DatabaseStatus>;

export const AppInfo = z.object({
  version: z.string(),
  mode: z.enum(["electron", "web"]),
  dataDir: z.string(),
  platform: z.string(),
  /** Whether chooseModelsFolder opens a native dialog (web mode: type a path instead). */
  canPickFolder: z.boolean(),
  /** Whether chooseModelFile opens a native file chooser (web mode: type a path instead). */
  canPickFile: z.boolean().default(false),
  /** Web mode: GGUF files can be uploaded from the browser (WEB_UPLOAD_PATH); the app imports by path instead. */
  canUpload: z.boolean().default(false),
  /** Whether openFolder can open a folder in the OS file manager (the app; web mode shows the path instead). */
  canOpenFolder: z.boolean().default(false),
  /** The folders behind AppFolder. */
  paths: z.object({ dataDir: z.string(), modelsFolder: z.string(), cache: z.string(), logs: z.string() }),
  /** For the About dialog. Electron and Chrome are null in web mode; llama.cpp and the backend come from engineStatus. */
  versions: z.object({ app: z.string(), electron: z.string().nullable(), chrome: z.string().nullable(), node: z.string(), nodeLlamaCpp: z.string() }),
});
export type AppInfo = z.infer<typeof AppInfo>;

/** The built-in prompt sets of the A/B benchmark (engine/bench/prompts/general-chat.txt, input-grounded.txt). */
export const BenchmarkPromptSet = z.enum(["free-chat", "input-grounded"]);
export type BenchmarkPromptSet = z.infer<typeof BenchmarkPromptSet>;

/** A saved A/B benchmark: plain decoding against each chosen mode, for one model (and draft) on this machine. */
export const BenchmarkResult = z.object({
  id: Id,
  createdAt: z.number(),
  /** File names of the target and draft models the bench ran with. */
  model: z.string(),
  draft: z.string().nullable(),
  promptSet: BenchmarkPromptSet,
  reports: z.array(BenchReport),
});
export type BenchmarkResult = z.infer<typeof BenchmarkResult>;

export const DownloadState = z.enum(["queued", "downloading", "paused", "verifying", "done", "failed", "cancelled"]);
export type DownloadState = z.infer<typeof DownloadState>;

/** A model download into the models folder (one per destination file at a time). */
export const DownloadInfo = z.object({
  id: Id,
  /** What was asked for: `hf:…` or an http(s) URL (after an app restart: the URL the partial file came from). */
  source: z.string(),
  fileName: z.string(),
  destPath: z.string(),
  state: DownloadState,
  receivedBytes: z.number(),
  /** Null while the server has not said how big the file is. */
  totalBytes: z.number().nullable(),
  /** Over the last few seconds; 0 while "downloading" means no bytes lately (connecting, a stalled server, a retry). */
  bytesPerSecond: z.number(),
  /** Null while the speed or the total is unknown, and while no bytes arrive. */
  etaSeconds: z.number().nullable(),
  /** Why it failed (state "failed"). */
  error: z.string().nullable(),
});
export type DownloadInfo = z.infer<typeof DownloadInfo>;

// ---------------------------------------------------------------------------------------------------------------
// Operations: renderer -> host. Every operation takes one params object and returns a promise of its result.
// ---------------------------------------------------------------------------------------------------------------

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
    result: ModelsListing.extend({ method: z.enum(["copied", "linked", "uploaded"]), model: ModelFile }),
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
  updateSettings: { params: Settings.partial().strict(), result: Settings },

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
  recoverDatabase: { params: z.object({ mode: z.enum(["recover", "empty"]) }).strict(), result: DatabaseRecovery },

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
} as const;

export type WindowMethod = keyof typeof windowApi;
export type WindowParams<M extends WindowMethod> = z.input<(typeof windowApi)[M]["params"]>;
export type WindowResult<M extends WindowMethod> = z.infer<(typeof windowApi)[M]["result"]>;

/** The host's API as the renderer calls it: one method per operation. */
export type TandemApi = { [M in WindowMethod]: (params: WindowParams<M>) => Promise<WindowResult<M>> };

export const windowMethodNames = Object.keys(windowApi) as WindowMethod[];

// ---------------------------------------------------------------------------------------------------------------
// Events: host -> renderer
// ---------------------------------------------------------------------------------------------------------------

export const windowEvents = {
  /** Streamed tokens of an assistant reply, in order; one event per target decode, with that verify step. */
  tokens: z.object({ conversationId: Id, messageId: Id, tokens: z.array(StreamedToken), step: VerifyStep.optional() }),
  /** An assistant message reached a final status (complete, stopped, interrupted, error). */
  messageCompleted: z.object({ message: Message }),
  /** A conversation was created, renamed or touched (new message). */
  conversationUpdated: z.object({ conversation: Conversation }),
  conversationDeleted: z.object({ id: Id }),
  engineStatus: EngineStatus,
  /** The engine crashed; `restarting` tells whether the supervisor will bring it back. */
  engineCrashed: z.object({ crash: CrashInfo, restarting: z.boolean() }),
  /** The database was found damaged, or was recovered. */
  databaseStatus: DatabaseStatus,
  modelLoadProgress: z.object({ path: z.string(), progress: z.number() }),
  settingsChanged: Settings,
  /** How the KV cache served a reply's prompt, sent once the prompt is evaluated (before the reply ends). */
  cacheOutcome: z.object({
    conversationId: Id,
    messageId: Id,
    outcome: CacheOutcome,
    restoredTokens: z.number().int(),
    evaluatedTokens: z.number().int(),
    ms: z.number(),
  }),
  /** A command chosen in the app's native menu (Electron only; web mode never sends it). */
  menuCommand: z.object({ command: z.enum(["new-chat", "open-settings", "open-models", "about"]) }),
  /** A library folder changed on disk (file added, removed, renamed or finished downloading): the new listing. */
  modelsChanged: ModelsListing,
  /** The running benchmark finished one prompt of one mode (done of total over all its modes). */
  benchmarkProgress: z.object({ done: z.number().int(), total: z.number().int(), mode: BenchMode }),
  /** A download changed state or made progress (about 4 times a second while it runs). */
  downloadProgress: DownloadInfo,
} as const;

export type WindowEvent = keyof typeof windowEvents;
export type WindowEventData<E extends WindowEvent> = z.infer<(typeof windowEvents)[E]>;
export type WindowEventListener<E extends WindowEvent> = (data: WindowEventData<E>) => void;

export const windowEventNames = Object.keys(windowEvents) as WindowEvent[];

/** What the renderer holds: the API plus a way to listen to pushed events. */
export interface TandemClient extends TandemApi {
  on<E extends WindowEvent>(event: E, listener: WindowEventListener<E>): () => void;
}

/** IPC channel names used by main and preload (the renderer never sees them). */
export const ipcChannel = {
  invoke: (method: WindowMethod) => `tandem:invoke:${method}`,
  event: "tandem:event",
} as const;

/** Error shape that crosses the boundary: a stable code plus a message fit to show the user. */
export const ApiError = z.object({ code: z.string(), message: z.string() });
export type ApiError = z.infer<typeof ApiError>;

export { Backend, CacheInfo, FitEstimate };

/**
 * How a call's outcome crosses IPC and the web socket: main and the web server never let a raw exception cross
 * (Electron would mangle its message); preload and the web client unwrap this and throw a `TandemApiError`.
 */
export type ApiOutcome<T> = { ok: true; result: T } | { ok: false; error: ApiError };

/**
 * What preload exposes as `window.tandem`: one method per operation returning the call's `ApiOutcome`, plus `on`.
 * Outcomes rather than thrown errors because contextBridge rebuilds an Error crossing into the page from its
 * message alone (name and `code` are lost); the renderer's client unwraps outcomes into `TandemApiError`s.
 */
export type TandemBridge = { [M in WindowMethod]: (params: WindowParams<M>) => Promise<ApiOutcome<WindowResult<M>>> } & {
  on<E extends WindowEvent>(event: E, listener: WindowEventListener<E>): () => void;
  /**
   * The filesystem path of a File dropped on the window (Electron's webUtils.getPathForFile; "" when it has none).
   * A local helper, not an IPC call: drag-and-drop import passes the path to importModel.
   */
  pathForFile(file: File): string;
};

export class TandemApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TandemApiError";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Web mode frames (renderer <-> web server over one WebSocket at /api?token=…)
// ---------------------------------------------------------------------------------------------------------------

export const WebCallFrame = z.object({
  kind: z.literal("call"),
  id: z.number().int().nonnegative(),
  method: z.string(),
  /** Optional like IPC's: a method without params may be called without them (parseWindowCall reads none as {}). */
  params: z.unknown().optional(),
});
export type WebCallFrame = z.infer<typeof WebCallFrame>;

/**
 * Web mode's one non-WebSocket route: `POST WEB_UPLOAD_PATH?token=…` with the raw GGUF bytes as the body and the
 * file name in the WEB_UPLOAD_NAME_HEADER header (URI-encoded). Imports it like importModel (header checked first,
 * temp name + rename, nothing left behind on failure) and answers with an `ApiOutcome` of importModel's result.
 * The browser can't hand the server a path, so this is how web mode's file chooser and drops import.
 */
export const WEB_UPLOAD_PATH = "/api/upload";
export const WEB_UPLOAD_NAME_HEADER = "x-tandem-file-name";

export type WebServerFrame =
  | ({ kind: "result"; id: number } & ApiOutcome<unknown>)
  | { kind: "event"; event: WindowEvent; data: unknown };

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
