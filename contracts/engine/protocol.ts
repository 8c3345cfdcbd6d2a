/**
 * The engine protocol: every message between the host and the engine process, declared once.
 *
 * Both ends import this file. The host validates every message it receives from the engine and the engine
 * validates every request it receives from the host; a malformed message gets an error reply (when it carries an
 * id) and never takes the process down. Bump PROTOCOL_VERSION on any incompatible change: the host checks it in
 * the `hello` handshake and refuses to talk to an engine of another version.
 */
import { z } from "zod";
import { DEFAULT_CACHE_DISK_BUDGET_BYTES, DEFAULT_MAX_DRAFT_TOKENS, ENGINE_LIMITS, SPECULATION_MODES } from "./values.js";

/** 3: generate/abort/tokens/cacheOutcome carry messageId and conversationId, the bench is runBenchmark/benchmarkProgress/
 * cancelBenchmark with a benchmarkId, and the load event is modelLoadProgress (the window's names). */
export const PROTOCOL_VERSION = 3;

// ---------------------------------------------------------------------------------------------------------------
// Shared value types
// ---------------------------------------------------------------------------------------------------------------

/** GPU backend preference. "auto" lets node-llama-cpp pick the best available; "cpu" disables GPU offloading. */
export const GpuChoice = z.enum(["auto", "cuda", "vulkan", "metal", "cpu"]);
export type GpuChoice = z.infer<typeof GpuChoice>;

/** The backend actually in use after initialisation. */
export const Backend = z.enum(["cuda", "vulkan", "metal", "cpu"]);
export type Backend = z.infer<typeof Backend>;

export const ChatRole = z.enum(["system", "user", "assistant"]);
export type ChatRole = z.infer<typeof ChatRole>;

export const ChatMessage = z.object({
  role: ChatRole,
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const SamplingOptions = z.object({
  /** 0 = greedy (deterministic). */
  temperature: z.number().min(0).max(5),
  topK: z.number().int().min(0).optional(),
  topP: z.number().min(0).max(1).optional(),
  minP: z.number().min(0).max(1).optional(),
  seed: z.number().int().min(0).optional(),
  repeatPenalty: z.number().min(1).max(3).optional(),
});
export type SamplingOptions = z.infer<typeof SamplingOptions>;

export const ThreadsSetting = z.union([z.literal("auto"), z.number().int().min(ENGINE_LIMITS.threads.min).max(ENGINE_LIMITS.threads.max)]);
export type ThreadsSetting = z.infer<typeof ThreadsSetting>;

export const ContextSizeSetting = z.union([z.literal("auto"), z.number().int().min(ENGINE_LIMITS.contextSize.min).max(ENGINE_LIMITS.contextSize.max)]);
export type ContextSizeSetting = z.infer<typeof ContextSizeSetting>;

export const GpuLayersSetting = z.union([z.literal("auto"), z.literal("max"), z.number().int().min(0)]);
export type GpuLayersSetting = z.infer<typeof GpuLayersSetting>;

export const SystemInfo = z.object({
  backend: Backend,
  gpuRequested: GpuChoice,
  /** Why the requested backend is not the one in use, when it is not (e.g. "cuda not available"). */
  backendNote: z.string().optional(),
  devices: z.array(z.string()),
  vram: z.object({ total: z.number(), used: z.number(), free: z.number() }),
  ram: z.object({ total: z.number(), free: z.number() }),
  cpu: z.object({ model: z.string(), cores: z.number().int() }),
  llamaCppRelease: z.string(),
  nodeLlamaCppVersion: z.string(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

export const ThreadsSource = z.enum(["user", "calibrated", "cached"]);
export type ThreadsSource = z.infer<typeof ThreadsSource>;

export const LoadedModel = z.object({
  modelPath: z.string(),
  name: z.string(),
  sizeBytes: z.number(),
  trainedContextSize: z.number().int(),
  contextSize: z.number().int(),
  threads: z.number().int(),
  threadsSource: ThreadsSource,
  /** Measured decode speed per candidate thread count, when calibrated now (tokens/s). */
  threadsCalibration: z.record(z.string(), z.number()).optional(),
  gpuLayers: z.number().int(),
  chatWrapper: z.string(),
  loadMs: z.number(),
  /** Context sequences conversations are paged between (absent before the paged cache). */
  cacheSlots: z.number().int().optional(),
  /** Estimated memory of the context with its slots (KV cache and compute buffers), bytes. */
  cacheMemoryBytes: z.number().optional(),
});
export type LoadedModel = z.infer<typeof LoadedModel>;

/** Conversation slots: "auto" picks the most that fit a memory budget (1..8), or a fixed number. */
export const CacheSlotsSetting = z.union([z.literal("auto"), z.number().int().min(ENGINE_LIMITS.cacheSlots.min).max(ENGINE_LIMITS.cacheSlots.max)]);
export type CacheSlotsSetting = z.infer<typeof CacheSlotsSetting>;

/** The paged KV cache of the loaded model: slots in memory and saved states on disk. */
export const CacheInfo = z.object({
  slots: z.number().int(),
  /** Slots holding a conversation. */
  slotsInUse: z.number().int(),
  /** Bytes of this model's saved conversation states on disk, and how many there are. */
  diskBytes: z.number(),
  diskStates: z.number().int(),
  diskBudgetBytes: z.number(),
  /** Estimated memory of the context with its slots (0 when unknown). */
  memoryBytes: z.number(),
});
export type CacheInfo = z.infer<typeof CacheInfo>;

export const StopReason = z.enum([
  "eog", // the model emitted an end-of-generation token
  "max-tokens", // the requested maximum was reached
  "context-full", // the context window has no room for another token
  "abort", // the host asked to stop
]);
export type StopReason = z.infer<typeof StopReason>;

/** Which part of the pipeline produced a token: the target model itself, or an accepted speculator draft. */
export const TokenSource = z.enum(["target", "draft"]);
export type TokenSource = z.infer<typeof TokenSource>;

/** How a turn speculates. "auto" picks a speculator and draft length per step from live measurements. */
export const SpeculationMode = z.enum(SPECULATION_MODES);
export type SpeculationMode = z.infer<typeof SpeculationMode>;

/** The speculators themselves ("auto" chooses among them). */
export const SpeculatorKind = z.enum(["draft", "lookup", "ngram"]);
export type SpeculatorKind = z.infer<typeof SpeculatorKind>;

/** The upper bound on the draft length (k <= this, chosen from measured costs); the default declared once. */
export const MaxDraftTokens = z.number().int().min(ENGINE_LIMITS.maxDraftTokens.min).max(ENGINE_LIMITS.maxDraftTokens.max).default(DEFAULT_MAX_DRAFT_TOKENS);

export const SpeculationOptions = z.object({
  mode: SpeculationMode,
  /** Upper bound on the draft length k; the engine picks k <= this from its cost model. */
  maxDraftTokens: MaxDraftTokens,
});
export type SpeculationOptions = z.infer<typeof SpeculationOptions>;

/** One target decode of a reply: how many drafted tokens it checked and how many it kept. */
export const VerifyStep = z.object({
  /** 0-based index of the target decode within the reply (the prompt's decode is step 0). */
  index: z.number().int(),
  speculator: SpeculatorKind.nullable(),
  proposed: z.number().int(),
  accepted: z.number().int(),
});
export type VerifyStep = z.infer<typeof VerifyStep>;

export const StreamedToken = z.object({
  id: z.number().int(),
  /** The text this token adds to the reply (may be "" while a multi-byte character is incomplete). */
  text: z.string(),
  source: TokenSource,
  /** Milliseconds since the generation request was received. */
  t: z.number(),
  /** Index of the target decode (VerifyStep.index) that produced this token. */
  step: z.number().int().optional(),
});
export type StreamedToken = z.infer<typeof StreamedToken>;

export const SpeculationStats = z.object({
  mode: SpeculationMode,
  /** Draft tokens proposed to the verifier, and of those the ones it kept (accepted) or threw away (rejected). */
  proposed: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  /** accepted / proposed (0 when nothing was proposed). */
  acceptanceRate: z.number(),
  /** accepted / targetDecodes: extra tokens each target decode produced on average. */
  meanAcceptedPerStep: z.number(),
  /** Target decodes that checked at least one drafted token. */
  verifySteps: z.number().int(),
  /** Emitted tokens that the target produced itself (tokens = targetTokens + accepted). */
  targetTokens: z.number().int(),
  draftMs: z.number(),
  /** Time in target decodes after the prompt (plain and verify steps). */
  verifyMs: z.number(),
  /** Of verifyMs, the decodes that checked drafts (for the cost model: v = this / verifySteps). */
  speculativeVerifyMs: z.number().optional(),
  /** Verify steps that rejected a draft (accepted < proposed): with `accepted`, the per-position acceptance α. */
  rejectingSteps: z.number().int().optional(),
  /** acceptedHistogram[a] = verify steps that accepted a drafted tokens. */
  acceptedHistogram: z.array(z.number().int()),
  /** Steps per speculator (auto mixes them; off = plain decode steps). */
  stepsBySpeculator: z.record(z.string(), z.number().int()),
  /** The draft length in use at the end of the reply (0 = speculation paused). */
  finalDraftLength: z.number().int(),
});
export type SpeculationStats = z.infer<typeof SpeculationStats>;

/** slot-hit: the conversation was still in a context slot; disk-restore: its saved state was loaded; prefix-reuse:
 * another conversation's saved state sharing its opening was loaded; cold: the prompt was evaluated from scratch. */
export const CacheOutcome = z.enum(["slot-hit", "disk-restore", "prefix-reuse", "cold"]);
export type CacheOutcome = z.infer<typeof CacheOutcome>;

export const CacheStats = z.object({
  outcome: CacheOutcome,
  /** Prompt tokens already in the slot when the reply started (not evaluated again). */
  restoredTokens: z.number().int(),
  /** Time spent paging another conversation out and loading a saved state. */
  restoreMs: z.number(),
});
export type CacheStats = z.infer<typeof CacheStats>;

export const GenerationStats = z.object({
  /** Generated tokens (the EOG token is not counted). */
  tokens: z.number().int(),
  /** Tokens of the rendered prompt (system + history + the new message). */
  promptTokens: z.number().int(),
  /** Prompt tokens that were already in the context and not evaluated again. */
  reusedPromptTokens: z.number().int(),
  /** Prompt tokens evaluated for this turn. */
  evaluatedPromptTokens: z.number().int(),
  /** Messages dropped from the start of the history to fit the context (system prompt is kept). */
  truncatedMessages: z.number().int(),
  timeToFirstTokenMs: z.number(),
  /** Decode speed after the first token. */
  tokensPerSecond: z.number(),
  durationMs: z.number(),
  stopReason: StopReason,
  threads: z.number().int(),
  backend: Backend,
  targetDecodes: z.number().int(),
  /** Present when the turn ran with speculation other than "off". */
  speculation: SpeculationStats.nullable().default(null),
  /** How the KV cache served this turn's prompt (absent in stats stored before the paged cache). */
  cache: CacheStats.optional(),
});
export type GenerationStats = z.infer<typeof GenerationStats>;

export const DraftModelInfo = z.object({
  modelPath: z.string(),
  name: z.string(),
  sizeBytes: z.number(),
  threads: z.number().int(),
  contextSize: z.number().int(),
  loadMs: z.number(),
});
export type DraftModelInfo = z.infer<typeof DraftModelInfo>;

export const GenerationResult = z.object({
  messageId: z.string(),
  text: z.string(),
  stats: GenerationStats,
});
export type GenerationResult = z.infer<typeof GenerationResult>;

/** The speculation modes a bench compares with plain decoding ("off" is always the baseline). */
export const BenchMode = SpeculationMode.exclude(["off"]);
export type BenchMode = z.infer<typeof BenchMode>;

/**
 * One bench comparison: plain decoding (the baseline) against one speculation mode on the same prompts, same
 * engine, same threads, ABBA per prompt (see engine/bench/bench.ts for how each figure is measured).
 */
export const BenchReport = z.object({
  machine: z.object({
    cpu: z.string(),
    cores: z.number().int(),
    ramGB: z.number(),
    platform: z.string(),
    backend: z.string(),
    threads: z.number().int(),
    draftThreads: z.number().int().nullable(),
  }),
  model: z.string(),
  draft: z.string().nullable(),
  mode: SpeculationMode,
  prompts: z.number().int(),
  maxTokens: z.number().int(),
  temperature: z.number(),
  baseline: z.object({ tokensPerSecond: z.number(), tokens: z.number().int() }),
  speculative: z.object({
    tokensPerSecond: z.number(),
    tokens: z.number().int(),
    acceptanceRate: z.number(),
    meanAcceptedPerStep: z.number(),
    proposed: z.number().int(),
    accepted: z.number().int(),
    rejected: z.number().int(),
    targetDecodes: z.number().int(),
    verifySteps: z.number().int(),
  }),
  /** Aggregate decode speed ratio; the median of the per-prompt ratios is given too (noisy machines). Each prompt
   * runs four times, baseline-speculative-speculative-baseline. */
  speedup: z.number(),
  speedupMedian: z.number(),
  /** Every speculative reply equals its baseline reply (greedy only; null when sampling). */
  identicalOutputs: z.boolean().nullable(),
  theoretical: z.object({
    /** Per-position acceptance (geometric MLE over verify steps). */
    alpha: z.number(),
    /** Mean drafted tokens per verify step. */
    gamma: z.number(),
    /** Draft time per drafted token / baseline time per token. */
    draftCostRatio: z.number(),
    /** Verify-step time / baseline time per token. */
    verifyCostRatio: z.number(),
    /** Share of the speculative run's decodes that checked drafts (the rest were plain steps). */
    speculativeStepShare: z.number(),
    /** Leviathan et al.'s E = (1-α^(γ+1))/(1-α) per verify step, weighted with plain steps by their share. */
    expectedSpeedup: z.number(),
  }),
  /** speedup / theoretical.expectedSpeedup. */
  efficiency: z.number(),
});
export type BenchReport = z.infer<typeof BenchReport>;

/** Whether a model (with its context, draft and cache slots) fits this machine's free memory. */
export const FitVerdict = z.enum([
  "fits", // comfortably within free RAM (and VRAM for the offloaded part)
  "tight", // fits, but uses most of the free memory (other apps may be pushed to swap)
  "wont-fit", // needs more than is free: loading would fail or swap heavily
]);
export type FitVerdict = z.infer<typeof FitVerdict>;

/** One part of a fit estimate: weights or a context (KV cache + compute buffers), in RAM and VRAM. */
export const FitPart = z.object({
  part: z.enum(["target-weights", "target-context", "draft-weights", "draft-context"]),
  ramBytes: z.number(),
  vramBytes: z.number(),
});
export type FitPart = z.infer<typeof FitPart>;

/**
 * The memory a model needs at the given context size, cache slots and GPU layers (node-llama-cpp's GGUF insights,
 * from the header only), against what this machine has free, with a suggestion when it does not fit.
 */
export const FitEstimate = z.object({
  verdict: FitVerdict,
  /** One or two sentences fit to show the user (what fits, or what to change). */
  message: z.string(),
  modelName: z.string(),
  /** Layers offloaded to the GPU in this estimate, of the model's total. */
  gpuLayers: z.number().int(),
  totalLayers: z.number().int(),
  contextSize: z.number().int(),
  cacheSlots: z.number().int(),
  parts: z.array(FitPart),
  /** Totals over the parts. */
  ramBytes: z.number(),
  vramBytes: z.number(),
  available: z.object({ ramBytes: z.number(), vramBytes: z.number() }),
  /** A context size and/or GPU layer count that would fit, when this one does not (null when it fits). */
  suggestion: z.object({ contextSize: z.number().int().optional(), gpuLayers: z.number().int().optional() }).nullable(),
});
export type FitEstimate = z.infer<typeof FitEstimate>;

// ---------------------------------------------------------------------------------------------------------------
// Methods: host -> engine requests and their results
// ---------------------------------------------------------------------------------------------------------------

const Empty = z.object({}).strict();

export const engineMethods = {
  /** Handshake; the host refuses an engine whose protocolVersion differs. */
  hello: {
    params: Empty,
    result: z.object({
      protocolVersion: z.number().int(),
      engineVersion: z.string(),
      pid: z.number().int(),
    }),
  },
  /** Initialise llama.cpp with a backend. Must be called once before loadModel. */
  init: {
    params: z.object({
      gpu: GpuChoice,
      /** Where the engine may keep its own caches (thread calibration). */
      cacheDir: z.string().min(1),
    }),
    result: SystemInfo,
  },
  getSystemInfo: { params: Empty, result: SystemInfo },
  /** Load a GGUF model (replacing any loaded one). Emits `modelLoadProgress` events. */
  loadModel: {
    params: z.object({
      modelPath: z.string().min(1),
      contextSize: ContextSizeSetting,
      threads: ThreadsSetting,
      gpuLayers: GpuLayersSetting.default("auto"),
      /** Context sequences (slots) conversations are paged between ("auto": from a memory budget). */
      cacheSlots: CacheSlotsSetting.default("auto"),
      /** Disk budget of saved conversation states, bytes. */
      cacheDiskBudgetBytes: z.number().int().positive().default(DEFAULT_CACHE_DISK_BUDGET_BYTES),
    }),
    result: LoadedModel,
  },
  unloadModel: { params: Empty, result: z.object({ unloaded: z.boolean() }) },
  /**
   * Load a draft model for the `draft` speculator (replacing any loaded one). Its tokenizer is compared with the
   * target's first; a mismatch fails with DRAFT_INCOMPATIBLE naming the difference, and nothing is loaded.
   */
  loadDraftModel: {
    params: z.object({ modelPath: z.string().min(1), threads: ThreadsSetting }),
    result: DraftModelInfo,
  },
  unloadDraftModel: { params: Empty, result: z.object({ unloaded: z.boolean() }) },
  /**
   * Run one assistant turn over the given history, or continue a raw prompt. Tokens stream as `tokens` events; the
   * result arrives when the turn ends (including after `abort`, with stopReason "abort" and the partial text).
   */
  generate: {
    params: z
      .object({
        /** The reply's id (the chat message's id in the app): `tokens` and `cacheOutcome` carry it, `abort` names it. */
        messageId: z.string().min(1),
        /** The conversation's id: its KV cache slot and saved state are kept under it for its next turn. */
        conversationId: z.string().min(1),
        /** A conversation, rendered with the model's chat template. Exactly one of `messages` and `prompt`. */
        messages: z.array(ChatMessage).min(1).optional(),
        /** Text continued as it is: tokenized without a chat template (OpenAI's legacy completions). */
        prompt: z.string().min(1).optional(),
        maxTokens: z.number().int().min(1).max(1_000_000),
        sampling: SamplingOptions,
        speculation: SpeculationOptions.default({ mode: "off", maxDraftTokens: DEFAULT_MAX_DRAFT_TOKENS }),
      })
      .refine((params) => (params.messages === undefined) !== (params.prompt === undefined), {
        message: "Give exactly one of messages and prompt",
      }),
    result: GenerationResult,
  },
  abort: {
    params: z.object({ messageId: z.string().min(1) }),
    result: z.object({ aborted: z.boolean() }),
  },
  /** The paged KV cache's slots and disk usage (all zero without a model). */
  getCacheInfo: { params: Empty, result: CacheInfo },
  /** Deletes every saved conversation state and empties idle slots; waits for a running reply to end first. */
  clearCache: { params: Empty, result: z.object({ deletedStates: z.number().int(), freedBytes: z.number() }) },
  /**
   * Bench the loaded model (and draft) in this engine: plain decoding against each mode on the prompts, greedy,
   * ABBA per prompt; emits `benchmarkProgress` after every prompt of every mode. Bench replies never teach the learned
   * n-gram table. `cancelBenchmark` ends it with ABORTED and leaves the engine usable.
   */
  runBenchmark: {
    params: z.object({
      benchmarkId: z.string().min(1),
      prompts: z.array(z.string().min(1)).min(1).max(50),
      modes: z.array(BenchMode).min(1).max(4),
      maxTokens: z.number().int().min(1).max(512),
      maxDraftTokens: MaxDraftTokens,
    }),
    result: z.object({ benchmarkId: z.string(), reports: z.array(BenchReport) }),
  },
  cancelBenchmark: {
    params: z.object({ benchmarkId: z.string().min(1) }),
    result: z.object({ cancelled: z.boolean() }),
  },
  /**
   * Estimates the memory a model needs (with its draft and cache slots) from GGUF headers only, without loading
   * weights. `modelPath`/`draftPath` may be local paths or http(s) URLs (read with ranged requests; `headers` carries
   * an Authorization header for gated repos). Works with or without a loaded model.
   */
  estimateFit: {
    params: z.object({
      modelPath: z.string().min(1),
      draftPath: z.string().min(1).nullable().default(null),
      contextSize: ContextSizeSetting,
      cacheSlots: CacheSlotsSetting.default("auto"),
      gpuLayers: GpuLayersSetting.default("auto"),
      headers: z.record(z.string(), z.string()).optional(),
    }),
    result: FitEstimate,
  },
  /** Dispose everything in order and exit the process. */
  shutdown: { params: Empty, result: z.object({}) },
} as const;

export type EngineMethod = keyof typeof engineMethods;
/** What the engine works on: a request's params as parsed, every schema default applied. */
export type EngineParams<M extends EngineMethod> = z.output<(typeof engineMethods)[M]["params"]>;
/** What a caller sends: fields with a schema default may be left out (the engine's parse fills them in). */
export type EngineRequestParams<M extends EngineMethod> = z.input<(typeof engineMethods)[M]["params"]>;

/**
 * For the in-process callers of the engine (the CLI, the bench, tests): validates params and applies the schema's
 * defaults, exactly as the engine process does for a request (parseRequestParams).
 */
export function engineParams<M extends EngineMethod>(method: M, params: EngineRequestParams<M>): EngineParams<M> {
  return engineMethods[method].params.parse(params) as EngineParams<M>;
}
export type EngineResult<M extends EngineMethod> = z.infer<(typeof engineMethods)[M]["result"]>;

// ---------------------------------------------------------------------------------------------------------------
// Events: engine -> host, unsolicited
// ---------------------------------------------------------------------------------------------------------------

export const engineEvents = {
  modelLoadProgress: z.object({ modelPath: z.string(), progress: z.number().min(0).max(1) }),
  /** The tokens one target decode produced (accepted drafts, then the target's own token), with that step. */
  tokens: z.object({ messageId: z.string(), tokens: z.array(StreamedToken).min(1), step: VerifyStep.optional() }),
  log: z.object({ level: z.enum(["debug", "info", "warn", "error"]), message: z.string() }),
  /** A bench finished one prompt of one mode (done of total prompt runs over all its modes). */
  benchmarkProgress: z.object({ benchmarkId: z.string(), done: z.number().int(), total: z.number().int(), mode: BenchMode }),
  /**
   * How the KV cache served a reply's prompt, sent as soon as the prompt is evaluated (before the reply ends).
   * evaluatedTokens: prompt tokens evaluated this turn; ms: from the request to the prompt evaluated.
   */
  cacheOutcome: z.object({
    messageId: z.string(),
    outcome: CacheOutcome,
    restoredTokens: z.number().int(),
    evaluatedTokens: z.number().int(),
    ms: z.number(),
  }),
} as const;

export type EngineEvent = keyof typeof engineEvents;
export type EngineEventData<E extends EngineEvent> = z.infer<(typeof engineEvents)[E]>;

// ---------------------------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------------------------

export const EngineErrorCode = z.enum([
  "BAD_REQUEST", // the message failed validation
  "UNKNOWN_METHOD",
  "NOT_INITIALISED", // init was not called
  "NO_MODEL", // generate without a loaded model
  "MODEL_NOT_FOUND", // the path does not exist
  "NOT_GGUF", // the file is not a GGUF model
  "MODEL_LOAD_FAILED",
  "OUT_OF_MEMORY", // a load failed for lack of RAM/VRAM (the message suggests a smaller context or fewer GPU layers)
  "REMOTE_READ_FAILED", // a remote GGUF header could not be read (network, 401/403/404)
  "PROMPT_TOO_LONG", // the newest message alone does not fit the context
  "DRAFT_INCOMPATIBLE", // the draft model's tokenizer differs from the target's
  "NO_DRAFT_MODEL", // draft speculation asked for without a loaded draft model
  "BUSY", // runBenchmark while another benchmark runs
  "ABORTED", // a benchmark was cancelled (cancelBenchmark)
  "DISK_FULL", // a write failed for lack of disk space (ENOSPC/EDQUOT)
  "INTERNAL",
]);
export type EngineErrorCode = z.infer<typeof EngineErrorCode>;

export const EngineError = z.object({ code: EngineErrorCode, message: z.string() });
export type EngineError = z.infer<typeof EngineError>;

export const RequestEnvelope = z.object({
  kind: z.literal("request"),
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown(),
});
export type RequestEnvelope = z.infer<typeof RequestEnvelope>;

export const ResponseEnvelope = z.discriminatedUnion("ok", [
  z.object({ kind: z.literal("response"), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ kind: z.literal("response"), id: z.number().int(), ok: z.literal(false), error: EngineError }),
]);
export type ResponseEnvelope = z.infer<typeof ResponseEnvelope>;

export const EventEnvelope = z.object({
  kind: z.literal("event"),
  event: z.string(),
  data: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

export const EngineToHostMessage = z.union([ResponseEnvelope, EventEnvelope]);
export type EngineToHostMessage = z.infer<typeof EngineToHostMessage>;

/** Validates a request's params against the method table; returns a typed error for the reply otherwise. */
export function parseRequestParams(
  method: string,
  params: unknown,
): { ok: true; method: EngineMethod; params: unknown } | { ok: false; error: EngineError } {
  if (!Object.hasOwn(engineMethods, method)) {
    return { ok: false, error: { code: "UNKNOWN_METHOD", message: `Unknown engine method "${method}"` } };
  }
  const m = method as EngineMethod;
  const parsed = engineMethods[m].params.safeParse(params ?? {});
  if (!parsed.success) {
    return { ok: false, error: { code: "BAD_REQUEST", message: `Invalid params for ${m}: ${z.prettifyError(parsed.error)}` } };
  }
  return { ok: true, method: m, params: parsed.data };
}

/** Validates an event's payload; null when the event is unknown or malformed. */
export function parseEvent(
  envelope: EventEnvelope,
): { [E in EngineEvent]: { event: E; data: EngineEventData<E> } }[EngineEvent] | null {
  if (!Object.hasOwn(engineEvents, envelope.event)) return null;
  const e = envelope.event as EngineEvent;
  const parsed = engineEvents[e].safeParse(envelope.data);
  if (!parsed.success) return null;
  return { event: e, data: parsed.data } as never;
}
