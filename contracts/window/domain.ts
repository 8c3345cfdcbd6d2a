/**
 * The window API's domain schemas (zod): conversations, messages, settings, models, the engine's status, downloads,
 * the database, benchmarks. Each default lives here, in the schema, and nowhere else: readers get z.output types.
 */
import { z } from "zod";
import { SETTINGS_LIMITS } from "./values.js";
import { DEFAULT_CACHE_DISK_BUDGET_GB } from "../engine/values.js";
import {
  Backend,
  BenchReport,
  CacheInfo,
  CacheSlotsSetting,
  ChatRole,
  ContextSizeSetting,
  DraftModelInfo,
  FitEstimate,
  GenerationStats,
  GpuChoice,
  LoadedModel,
  SpeculationMode,
  SystemInfo,
  ThreadsSetting,
  MaxDraftTokens,
} from "../engine/protocol.js";

export const Id = z.string().min(1).max(100);

export const Conversation = z.object({
  id: Id,
  title: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** This conversation's speculation mode; null follows settings.speculation. */
  speculation: SpeculationMode.nullable().default(null),
  /**
   * Set in a search's results when the conversation's messages match: a snippet of the matching message text, each
   * matched word between MATCH_START and MATCH_END (values.ts); absent or null when only the title matched.
   */
  match: z.string().nullable().optional(),
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

/**
 * Remote engines: an OpenAI-compatible server Tandem chats through. The kind decides which extra
 * endpoints are read (vLLM's /metrics counters) and how the source of the speculation figures is labelled.
 */
export const RemoteKind = z.enum(["vllm", "sglang", "llama-server", "ollama", "lmstudio", "openai"]);
export type RemoteKind = z.infer<typeof RemoteKind>;

/**
 * A remote reply's speculative decoding as the server measured it, in Tandem's counters. Each figure is null when
 * the server did not report it (never a zero that was not measured); `approximate` when the figures are deltas of
 * server-wide counters that other requests may have moved too.
 */
export const RemoteSpeculationMeasured = z.object({
  /** Where the figures come from, e.g. "llama-server timings", "vLLM per-request metrics", "vLLM /metrics counters", "SGLang meta_info". */
  source: z.string(),
  approximate: z.boolean(),
  /** Draft tokens proposed to the target. */
  drafted: z.number().nullable(),
  /** Of those, the ones the target kept. */
  accepted: z.number().nullable(),
  /** Target decodes that verified drafted tokens. */
  draftSteps: z.number().nullable(),
  /** accepted / drafted. */
  acceptanceRate: z.number().nullable(),
  /** Tokens written per verify step (accepted drafts + the target's own token), as vLLM and SGLang define it. */
  meanAcceptedLength: z.number().nullable(),
});
export type RemoteSpeculationMeasured = z.infer<typeof RemoteSpeculationMeasured>;

/** The server exposed nothing about speculation for this reply: why, for the metrics panel. */
export const RemoteSpeculationUnavailable = z.object({ unavailable: z.string() });
export type RemoteSpeculationUnavailable = z.infer<typeof RemoteSpeculationUnavailable>;

export const RemoteSpeculation = z.union([RemoteSpeculationMeasured, RemoteSpeculationUnavailable]);
export type RemoteSpeculation = z.infer<typeof RemoteSpeculation>;

/** A saved connection as the window sees it: never the API key, only whether one is stored. */
export const RemoteConnection = z.object({
  id: Id,
  /** What the user calls it (defaults to the URL's host). */
  name: z.string().min(1).max(200),
  /** As entered (with or without /v1). */
  baseUrl: z.string().url(),
  /** "auto" detects the kind on every test; otherwise the user's choice. */
  kindSetting: z.union([z.literal("auto"), RemoteKind]),
  /** The kind last detected or chosen (null before the first test). */
  kind: RemoteKind.nullable(),
  hasApiKey: z.boolean(),
  createdAt: z.number(),
});
export type RemoteConnection = z.infer<typeof RemoteConnection>;

/** The outcome of testing a connection ("Connected: 3 models"). */
export const RemoteConnectionTest = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), kind: RemoteKind, version: z.string().nullable(), models: z.array(z.string()), message: z.string() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type RemoteConnectionTest = z.infer<typeof RemoteConnectionTest>;

/** Which engine writes the window's replies. */
export const ChatEngine = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("local") }).strict(),
  z.object({ kind: z.literal("remote"), connectionId: Id, model: z.string().min(1).max(500) }).strict(),
]);
export type ChatEngine = z.infer<typeof ChatEngine>;

/** A connection as the window lists it: the saved connection and its last test (null until tested this run). */
export const RemoteConnectionView = RemoteConnection.extend({ test: RemoteConnectionTest.nullable() });
export type RemoteConnectionView = z.infer<typeof RemoteConnectionView>;

/** A remote reply's figures, named as local replies' GenerationStats names them; null where the server said nothing. */
export const RemoteReplyStats = z.object({
  tokens: z.number().int(),
  promptTokens: z.number().int().nullable(),
  timeToFirstTokenMs: z.number().nullable(),
  /** Decode speed after the first token, as measured here (network included). */
  tokensPerSecond: z.number(),
  durationMs: z.number(),
  /** "eog", "max-tokens", "abort", or the server's own finish reason. */
  stopReason: z.string(),
  speculation: RemoteSpeculation,
});
export type RemoteReplyStats = z.infer<typeof RemoteReplyStats>;

/** Which remote engine wrote a reply (the reply's `model` is the server's model id), and its figures once it ended. */
export const RemoteReply = z.object({
  connectionId: Id,
  /** The connection's name and kind when the reply was written (the connection may be renamed or removed later). */
  connectionName: z.string(),
  kind: RemoteKind.nullable(),
  baseUrl: z.string(),
  stats: RemoteReplyStats.nullable(),
});
export type RemoteReply = z.infer<typeof RemoteReply>;

/**
 * What a reply's tinting and per-token charts need, recorded as it streamed (the window rebuilds them after a
 * reload): one entry per `tokens` event, compactly
 * [t of its last token (ms), step index (-1: none), speculator ("": none), proposed, accepted,
 *  one letter per token ("t" target, "d" draft), each token's text length (UTF-16 units)].
 */
export const ReplyTraceEvent = z.tuple([
  z.number(),
  z.number().int(),
  z.string(),
  z.number().int(),
  z.number().int(),
  z.string(),
  z.array(z.number().int().min(0)),
]);
export type ReplyTraceEvent = z.infer<typeof ReplyTraceEvent>;
export const ReplyTrace = z.object({ events: z.array(ReplyTraceEvent) });
export type ReplyTrace = z.infer<typeof ReplyTrace>;

export const Message = z.object({
  id: Id,
  conversationId: Id,
  role: ChatRole.exclude(["system"]),
  content: z.string(),
  status: MessageStatus,
  error: z.string().nullable(),
  /** File name of the model that wrote an assistant message. */
  model: z.string().nullable(),
  settings: GenerationSettings.nullable(),
  stats: GenerationStats.nullable(),
  /** Set on a reply written by a remote engine (absent or null: this machine's engine wrote it, or a user message). */
  remote: RemoteReply.nullable().optional(),
  /** A finished local reply's per-token record (absent or null: none kept, e.g. replies from before version 6). */
  trace: ReplyTrace.nullable().optional(),
  createdAt: z.number(),
});
export type Message = z.infer<typeof Message>;

export const Theme = z.enum(["system", "light", "dark"]);

/**
 * The local OpenAI-compatible API server (off by default). Its API key is not a setting: it is kept like the
 * Hugging Face token (setApiServerKey) and never sent to the window; ApiServerStatus says whether one is set.
 * A patch replaces the whole object (send every field).
 */
export const ApiServerSettings = z
  .object({
    enabled: z.boolean(),
    /** The address to listen on: any other than loopback (127.0.0.1) needs an API key. */
    host: z.string().trim().min(1).max(255),
    /** 0 picks a free port (the status shows which). */
    port: z.number().int().min(SETTINGS_LIMITS.apiServerPort.min).max(SETTINGS_LIMITS.apiServerPort.max),
    /** Browser origins allowed to call it (CORS), e.g. "http://localhost:3000", or "*"; empty: no browser page. */
    corsOrigins: z.array(z.string().trim().min(1).max(500)).max(SETTINGS_LIMITS.apiServerCorsOrigins),
    /** Keep API conversations in the chat list (by default API traffic leaves no trace there). */
    keepConversations: z.boolean(),
    /** Requests that may wait for the engine; beyond that the server answers 503. */
    maxQueue: z.number().int().min(SETTINGS_LIMITS.apiServerMaxQueue.min).max(SETTINGS_LIMITS.apiServerMaxQueue.max),
  })
  .strict()
  .default({ enabled: false, host: "127.0.0.1", port: 11435, corsOrigins: [], keepConversations: false, maxQueue: 16 });
export type ApiServerSettings = z.infer<typeof ApiServerSettings>;
/** The API server's settings as the schema defaults them (what `tandem serve` starts from, too). */
export const DEFAULT_API_SERVER_SETTINGS: ApiServerSettings = ApiServerSettings.parse(undefined);

/** The API server as it is now (getApiServerStatus, and the apiServerStatus event on every change). */
export const ApiServerStatus = z.object({
  /** off: disabled in settings; running: listening; error: enabled but not running (see error). */
  state: z.enum(["off", "starting", "running", "error"]),
  /** The base URL OpenAI clients are given (…/v1) while running, else null. */
  baseUrl: z.string().nullable(),
  host: z.string(),
  port: z.number().int(),
  /** Why it is not running although enabled (port in use, no API key for a non-loopback address…). */
  error: z.string().nullable(),
  /** Requests answered since it (re)started, and generation requests at the engine or waiting now. */
  requests: z.number().int(),
  running: z.number().int(),
  waiting: z.number().int(),
  /** Whether an API key is set (never the key). */
  keySet: z.boolean(),
  /** The id clients must use as `model` (the loaded model's file name), or null without a model. */
  modelId: z.string().nullable(),
});
export type ApiServerStatus = z.infer<typeof ApiServerStatus>;

/**
 * The settings, each with its default (but the models folder's, which depends on the data folder: the host's
 * defaultSettings gives it). The defaults also fill a setting stored by an older version, or found invalid.
 */
export const Settings = z.object({
  systemPrompt: z.string().max(SETTINGS_LIMITS.systemPromptLength).default(""),
  temperature: z.number().min(SETTINGS_LIMITS.temperature.min).max(SETTINGS_LIMITS.temperature.max).default(0.7),
  maxTokens: z.number().int().min(SETTINGS_LIMITS.maxTokens.min).max(SETTINGS_LIMITS.maxTokens.max).default(512),
  contextSize: ContextSizeSetting.default("auto"),
  gpu: GpuChoice.default("auto"),
  threads: ThreadsSetting.default("auto"),
  /** The library's main folder: downloads and imports go here. */
  modelsFolder: z.string(),
  /** More folders the library lists (and watches), e.g. an existing collection of GGUF files. */
  extraModelsFolders: z.array(z.string()).max(SETTINGS_LIMITS.extraModelsFolders).default([]),
  /** The model to load at start and use for chat; null until the user picks one. */
  modelPath: z.string().nullable().default(null),
  theme: Theme.default("system"),
  /** Default speculation mode for conversations that don't set their own. */
  speculation: SpeculationMode.default("auto"),
  /** Draft model for the `draft` speculator (and for `auto` to consider); loaded alongside the target. */
  draftModelPath: z.string().nullable().default(null),
  /** Upper bound on the draft length; the engine chooses k <= this from measured costs. */
  maxDraftTokens: MaxDraftTokens,
  /** Conversation slots of the KV cache ("auto": the most that fit a memory budget). */
  cacheSlots: CacheSlotsSetting.default("auto"),
  /** Disk budget of saved conversation states, in GB. */
  cacheDiskBudgetGB: z
    .number()
    .min(SETTINGS_LIMITS.cacheDiskBudgetGB.min)
    .max(SETTINGS_LIMITS.cacheDiskBudgetGB.max)
    .default(DEFAULT_CACHE_DISK_BUDGET_GB),
  /** The local OpenAI-compatible API server. */
  apiServer: ApiServerSettings,
  /** Which engine writes the window's replies: this machine's (`modelPath`), or a model of a remote connection. */
  chatEngine: ChatEngine.default({ kind: "local" }),
});
export type Settings = z.infer<typeof Settings>;

type WithoutDefault<T> = T extends z.ZodDefault<infer Inner> ? Inner : T;

/**
 * A patch of the settings (updateSettings): any subset of them, each validated like in Settings, and no default
 * filled in for the settings the patch leaves out. (zod 4's `.partial()` would fill them: a patch of the theme
 * would put every other setting back to its default.)
 */
export const SettingsPatch = z
  .object(
    Object.fromEntries(
      Object.entries(Settings.shape).map(([key, field]) => [key, (field instanceof z.ZodDefault ? field.unwrap() : field).optional()]),
    ) as { [K in keyof typeof Settings.shape]: z.ZodOptional<WithoutDefault<(typeof Settings.shape)[K]>> },
  )
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

/** How a file came into the library: copied or hard-linked from a path, or uploaded from the browser (web mode). */
export const ImportMethod = z.enum(["copied", "linked", "uploaded"]);
export type ImportMethod = z.infer<typeof ImportMethod>;

/** Where a library file came from, recorded when Tandem put it there (files found in a folder have none). */
export const ModelOrigin = z.discriminatedUnion("kind", [
  /** Downloaded by Tandem: the `hf:` reference or URL it came from. */
  z.object({ kind: z.literal("downloaded"), source: z.string(), at: z.number() }),
  /** Imported from a path (copied or hard-linked), or uploaded from the browser in web mode (`from` = file name). */
  z.object({ kind: z.literal("imported"), from: z.string(), method: ImportMethod, at: z.number() }),
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

/**
 * Why Electron says a child process went (its `child-process-gone` event's `details.reason`): the app learns it
 * for the engine's utility process; web mode and tests (child_process.fork) have only an exit code or signal.
 */
export const ProcessGoneReason = z.enum(["clean-exit", "abnormal-exit", "killed", "crashed", "oom", "launch-failed", "integrity-failure"]);
export type ProcessGoneReason = z.infer<typeof ProcessGoneReason>;

export const CrashInfo = z.object({
  reason: CrashReason,
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  /** Electron's own reason and exit code, when the shell reported them (null in web mode and tests). */
  processGone: z.object({ reason: ProcessGoneReason, exitCode: z.number() }).nullable(),
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

export { Backend, CacheInfo, FitEstimate };
