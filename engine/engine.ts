import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { describeSystem, initBackend, type GetLlama, type InitialisedBackend, type LogSink } from "./backend.js";
import { fitPrompt, fitRawPrompt } from "./chat-prompt.js";
import { runDecodeLoop } from "./decode-loop.js";
import { EngineFailure } from "./errors.js";
import { kvRoot } from "./cache-layout.js";
import { Mutex, SharedLock } from "./lock.js";
import { disposeDraft, loadDraft, type ActiveDraft } from "./draft-loader.js";
import { engineFitEnvironment, estimateFit, withFitAdvice } from "./fit-estimate.js";
import { disposeActiveModel, loadActiveModel, type ActiveModel } from "./model-loader.js";
import { KvPager } from "./kv-cache/kv-pager.js";
import { modelContentHash } from "./kv-cache/model-identity.js";
import { KvStateStore, stateParamsOf, type StateSaver } from "./kv-cache/state-store.js";
import { DEFAULT_CACHE_DISK_BUDGET_BYTES } from "../contracts/engine/values.js";
import type {
  CacheInfo,
  ChatMessage,
  CacheOutcome,
  DraftModelInfo,
  EngineParams,
  FitEstimate,
  GenerationResult,
  GpuChoice,
  LoadedModel,
  SpeculationMode,
  SpeculatorKind,
  StreamedToken,
  SystemInfo,
  VerifyStep,
} from "../contracts/engine/protocol.js";
import { calibrateVerifyCurve } from "./speculation/calibration.js";
import { SpeculationCostModel } from "./speculation/cost-model.js";
import { DraftModelSpeculator, type DraftModel } from "./speculation/draft-model-speculator.js";
import { NgramSpeculator } from "./speculation/ngram-speculator.js";
import { loadNgramTable, saveNgramTable, type NgramTable } from "./speculation/ngram-table.js";
import { SpeculationPolicy } from "./speculation/policy.js";
import { PromptLookupSpeculator } from "./speculation/prompt-lookup-speculator.js";
import type { Speculator } from "./speculation/speculator.js";

/** What the engine learns about speculating on one loaded target; reset when the target changes. */
interface SpeculationState {
  costs: SpeculationCostModel;
  verifyCurveFor: number;
  /** The verify-curve measurement in progress: concurrent first replies wait for one instead of each measuring. */
  calibrating: Promise<void> | undefined;
  /** Loaded once per target, shared by concurrent replies. */
  ngram: Promise<NgramTable> | undefined;
  /** One reply at a time teaches the table and writes its file. */
  ngramLock: Mutex;
}

export interface EngineOptions {
  getLlama?: GetLlama;
  stepDelayMs?: number;
  /** Replaces the KV state writer (tests inject a full disk). */
  kvStateSaver?: StateSaver;
}

/** How the KV cache served a reply's prompt, reported as soon as the prompt is evaluated. */
export interface CacheOutcomeReport {
  outcome: CacheOutcome;
  restoredTokens: number;
  /** Prompt tokens evaluated this turn. */
  evaluatedTokens: number;
  /** From the request to the prompt evaluated. */
  ms: number;
}

/**
 * The engine as an in-process object: what the engine process exposes over the protocol, and what the CLI and
 * the bench use directly. One lock guards the inference contexts (target and draft): replies hold it shared and
 * run side by side, each on its own sequence; loads, unloads and cache clearing hold it alone. Inside a reply,
 * each shared resource has a lock of its own (the pager's slot table, the learned n-gram table's file) or is
 * lent to one reply at a time (a slot, a draft lane).
 */
export class Engine {
  private backend: InitialisedBackend | undefined;
  private cacheDir = "";
  private active: ActiveModel | undefined;
  private draft: ActiveDraft | undefined;
  private speculation: SpeculationState | undefined;
  private pager: KvPager | undefined;
  private readonly contextLock = new SharedLock();
  private readonly running = new Map<string, AbortController>();
  /** The disk budget of the loaded model's states (loadModel's; undefined before the first load). */
  private diskBudgetBytes: number | undefined;

  constructor(
    private readonly log: LogSink = () => {},
    private readonly options: EngineOptions = {},
  ) {}

  get loadedModel(): LoadedModel | undefined {
    return this.active?.info;
  }

  get loadedDraft(): DraftModelInfo | undefined {
    return this.draft?.info;
  }

  async init(options: { gpu: GpuChoice; cacheDir: string }): Promise<SystemInfo> {
    if (this.backend) {
      if (this.backend.gpuRequested !== options.gpu) {
        throw new EngineFailure("BAD_REQUEST", "The engine is already initialised with another backend; restart it to switch");
      }
    } else {
      this.backend = await initBackend(options.gpu, this.log, this.options.getLlama);
    }
    this.cacheDir = options.cacheDir;
    return describeSystem(this.backend);
  }

  async systemInfo(): Promise<SystemInfo> {
    return describeSystem(this.requireBackend());
  }

  private requireBackend(): InitialisedBackend {
    if (!this.backend) throw new EngineFailure("NOT_INITIALISED", "The engine is not initialised (call init first)");
    return this.backend;
  }

  async loadModel(params: EngineParams<"loadModel">, onProgress: (progress: number) => void): Promise<LoadedModel> {
    const backend = this.requireBackend();
    this.abortAll(); // a new model replaces the old one: running replies end now rather than after the load
    return this.contextLock.exclusive(async () => {
      await this.releaseModels();
      try {
        this.active = await loadActiveModel({
          llama: backend.llama,
          backend: backend.backend,
          modelPath: params.modelPath,
          contextSize: params.contextSize,
          threads: params.threads,
          gpuLayers: params.gpuLayers,
          slots: params.cacheSlots,
          cacheDir: this.cacheDir,
          onProgress,
        });
      } catch (error) {
        // Out of memory: say what would fit (nothing is loaded now, so the estimate sees all the free memory).
        const { modelPath, contextSize, cacheSlots, gpuLayers } = params;
        throw await withFitAdvice(error, await engineFitEnvironment(backend, {}), { modelPath, draftPath: null, contextSize, cacheSlots, gpuLayers });
      }
      this.diskBudgetBytes = params.cacheDiskBudgetBytes;
      try {
        this.pager = await this.openPager(this.active);
      } catch (error) {
        const loaded = this.active;
        this.active = undefined;
        await disposeActiveModel(loaded);
        throw error;
      }
      this.speculation = { costs: new SpeculationCostModel(), verifyCurveFor: 0, calibrating: undefined, ngram: undefined, ngramLock: new Mutex() };
      this.log("info", `loaded ${this.active.info.name}: ${this.active.info.threads} threads (${this.active.info.threadsSource})`);
      return this.active.info;
    });
  }

  /** The pager over the target's sequences, with the saved states of this exact model (content hash). */
  private async openPager(active: ActiveModel): Promise<KvPager> {
    const store = await KvStateStore.open({
      cacheDir: this.cacheDir,
      modelHash: await modelContentHash(active.info.modelPath, this.cacheDir),
      // The sequences' actual size (node-llama-cpp may pad the requested one) and KV layout: what a state must fit.
      contextSize: active.sequences[0]!.contextSize,
      params: stateParamsOf(active.context),
      budgetBytes: this.diskBudgetBytes,
      warn: (message) => this.log("warn", message),
      saveState: this.options.kvStateSaver,
    });
    return new KvPager(active.sequences, store);
  }

  /**
   * Saves the conversations held in slots, disposes the draft (it depends on the target) and then the target:
   * pager, sequences, context, model. Caller holds the context lock.
   */
  private async releaseModels(): Promise<void> {
    const pager = this.pager;
    this.pager = undefined;
    await pager?.saveAll(); // never throws: a failed save is a warning
    await this.releaseDraft();
    this.speculation = undefined;
    if (this.active) {
      const previous = this.active;
      this.active = undefined;
      await disposeActiveModel(previous);
    }
  }

  private async releaseDraft(): Promise<boolean> {
    if (!this.draft) return false;
    const previous = this.draft;
    this.draft = undefined;
    await disposeDraft(previous);
    return true;
  }

  /**
   * Loads a draft model for the loaded target, replacing any draft once the new one is loaded and checked.
   * Refuses an incompatible tokenizer (DRAFT_INCOMPATIBLE), keeping the current draft.
   */
  async loadDraftModel(params: EngineParams<"loadDraftModel">): Promise<DraftModelInfo> {
    const backend = this.requireBackend();
    return this.contextLock.exclusive(async () => {
      const target = this.active;
      if (!target) throw new EngineFailure("NO_MODEL", "Load a target model before its draft model");
      // Load and check the new draft before letting the old one go: a refused draft leaves the current one in use.
      let next: ActiveDraft;
      try {
        next = await loadDraft({
          llama: backend.llama,
          backend: backend.backend,
          target,
          modelPath: params.modelPath,
          threads: params.threads,
          cacheDir: this.cacheDir,
        });
      } catch (error) {
        const { modelPath, contextSize, gpuLayers } = target.info;
        const env = await engineFitEnvironment(backend, { target, draft: this.draft });
        throw await withFitAdvice(error, env, { modelPath, draftPath: params.modelPath, contextSize, cacheSlots: target.sequences.length, gpuLayers });
      }
      await this.releaseDraft();
      this.draft = next;
      // A first estimate of the draft's cost per token; live steps refine it.
      this.speculation?.costs.recordDraft("draft", 1, this.draft.msPerToken);
      this.log("info", `draft ${this.draft.info.name}: ${this.draft.info.threads} threads, ${this.draft.msPerToken.toFixed(2)} ms/token`);
      return this.draft.info;
    });
  }

  async unloadDraftModel(): Promise<boolean> {
    return this.contextLock.exclusive(() => this.releaseDraft());
  }

  async unloadModel(): Promise<boolean> {
    this.abortAll();
    return this.contextLock.exclusive(async () => {
      const had = this.active !== undefined;
      await this.releaseModels();
      return had;
    });
  }

  /**
   * Runs one reply. `options.learn: false` keeps the reply out of the learned n-gram table (the bench's baseline
   * runs: otherwise the table would memorise the very reply the speculative run is then measured on).
   */
  async generate(
    params: EngineParams<"generate">,
    onStep: (tokens: StreamedToken[], step: VerifyStep) => void,
    options: { learn?: boolean; onCacheOutcome?: (report: CacheOutcomeReport) => void } = {},
  ): Promise<GenerationResult> {
    const startedAt = performance.now();
    const backend = this.requireBackend();
    if (this.running.has(params.messageId)) {
      throw new EngineFailure("BAD_REQUEST", `Generation ${params.messageId} is already running`);
    }
    const controller = new AbortController();
    this.running.set(params.messageId, controller);
    try {
      // Shared: replies on different conversations decode at once, each on its own slot (the pager pins one per
      // reply), and BatchGate lines up their decodes so node-llama-cpp sends them as one batch.
      return await this.contextLock.shared(async () => {
        const active = this.active;
        const pager = this.pager;
        if (!active || !pager) throw new EngineFailure("NO_MODEL", "No model is loaded: choose a model first");
        const contextSize = active.sequences[0]!.contextSize;
        const prompt =
          params.prompt !== undefined
            ? fitRawPrompt({ model: active.model, prompt: params.prompt, contextSize })
            : fitPrompt({ model: active.model, wrapper: active.wrapper, messages: params.messages ?? [], contextSize, maxTokens: params.maxTokens });
        const { speculation } = params;
        // The conversation's slot (paged in from disk if needed) is pinned until the reply ends.
        const cache = await pager.acquire(params.conversationId, prompt.tokens);
        const leaveGate = active.gate.enter();
        // Each reply drafts on a lane of the draft context of its own; with one per target slot there is always one.
        const draftLease = speculation.mode === "draft" || speculation.mode === "auto" ? (this.draft?.lanes.take(params.conversationId) ?? null) : null;
        try {
          const policy = await this.preparePolicy(active, cache.sequence, speculation.mode, speculation.maxDraftTokens, prompt.tokens, draftLease?.lane ?? null);
          const outcome = await runDecodeLoop({
            sequence: cache.sequence,
            model: active.model,
            promptTokens: prompt.tokens,
            maxTokens: params.maxTokens,
            sampling: params.sampling,
            signal: controller.signal,
            startedAt,
            onStep,
            policy,
            costs: this.speculation?.costs,
            stepDelayMs: this.options.stepDelayMs,
            gate: active.gate,
            onPromptEvaluated: (prompt) =>
              options.onCacheOutcome?.({
                outcome: cache.outcome,
                restoredTokens: prompt.reusedTokens,
                evaluatedTokens: prompt.evaluatedTokens,
                ms: round1(prompt.at - startedAt),
              }),
          });
          leaveGate(); // learning below decodes nothing: the other replies' decodes need not wait for this one
          if (options.learn !== false) await this.learnFromReply(active, prompt.tokens.length, [...prompt.tokens, ...outcome.tokens]);
          return {
            messageId: params.messageId,
            text: outcome.text,
            stats: {
              tokens: outcome.tokens.length,
              promptTokens: prompt.tokens.length,
              reusedPromptTokens: outcome.reusedPromptTokens,
              evaluatedPromptTokens: outcome.evaluatedPromptTokens,
              truncatedMessages: prompt.truncatedMessages,
              timeToFirstTokenMs: round1(outcome.timeToFirstTokenMs),
              tokensPerSecond: round1(outcome.tokensPerSecond),
              durationMs: round1(outcome.durationMs),
              stopReason: outcome.stopReason,
              threads: active.info.threads,
              backend: backend.backend,
              targetDecodes: outcome.targetDecodes,
              speculation:
                speculation.mode === "off" ? null : outcome.metrics.toStats(speculation.mode, outcome.tokens.length, policy.lastK),
              cache: { outcome: cache.outcome, restoredTokens: cache.restoredTokens, restoreMs: round1(cache.restoreMs) },
            },
          };
        } finally {
          leaveGate();
          draftLease?.release();
          pager.release(params.conversationId);
        }
      });
    } finally {
      this.running.delete(params.messageId);
    }
  }

  /**
   * Builds this reply's speculation policy: the speculators the mode allows, sharing the model's cost model. The
   * verify-cost curve is measured before the model's first speculative reply.
   */
  private async preparePolicy(
    active: ActiveModel,
    sequence: LlamaContextSequence,
    mode: SpeculationMode,
    maxDraftTokens: number,
    promptTokens: readonly Token[],
    draftLane: DraftModel | null,
  ): Promise<SpeculationPolicy> {
    const state = this.speculation!;
    if (mode === "draft" && !this.draft) {
      throw new EngineFailure("NO_DRAFT_MODEL", "Draft speculation needs a draft model: load one, or choose another speculation mode");
    }
    const speculators = new Map<SpeculatorKind, Speculator>();
    while (mode !== "off" && state.verifyCurveFor < maxDraftTokens + 1) {
      if (state.calibrating) {
        await state.calibrating;
        continue;
      }
      state.calibrating = calibrateVerifyCurve({ sequence, tokens: promptTokens, maxPositions: maxDraftTokens + 1, costs: state.costs })
        .then(() => void (state.verifyCurveFor = maxDraftTokens + 1))
        .finally(() => (state.calibrating = undefined));
      await state.calibrating;
    }
    if ((mode === "draft" || mode === "auto") && draftLane) speculators.set("draft", new DraftModelSpeculator(draftLane));
    if (mode === "lookup" || mode === "auto") speculators.set("lookup", new PromptLookupSpeculator());
    if (mode === "ngram" || mode === "auto") speculators.set("ngram", new NgramSpeculator(await this.ngramTable(active)));
    return new SpeculationPolicy(mode, speculators, state.costs, maxDraftTokens);
  }

  private async ngramTable(active: ActiveModel): Promise<NgramTable> {
    const state = this.speculation!;
    state.ngram ??= loadNgramTable(this.cacheDir, active.info.modelPath, {}, (message) => this.log("warn", message));
    return state.ngram;
  }

  /** Every reply teaches the n-gram table its own tokens (the prompt is context only); then it is saved. */
  private async learnFromReply(active: ActiveModel, promptLength: number, history: readonly Token[]): Promise<void> {
    const table = await this.ngramTable(active);
    await this.speculation!.ngramLock.run(async () => {
      table.learn(history, promptLength);
      try {
        await saveNgramTable(this.cacheDir, active.info.modelPath, table);
      } catch (error) {
        this.log("warn", `Could not save the learned n-gram table: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  /** The paged cache's slots and this model's saved states (zeros without a model). */
  cacheInfo(): CacheInfo {
    const pager = this.pager;
    if (!pager) {
      return { slots: 0, slotsInUse: 0, diskBytes: 0, diskStates: 0, diskBudgetBytes: this.diskBudgetBytes ?? DEFAULT_CACHE_DISK_BUDGET_BYTES, memoryBytes: 0 };
    }
    return {
      slots: pager.slotCount,
      slotsInUse: pager.assignments.filter((key) => key !== undefined).length,
      diskBytes: pager.store.totalBytes,
      diskStates: pager.store.list().length,
      diskBudgetBytes: pager.store.budgetBytes,
      memoryBytes: this.active?.info.cacheMemoryBytes ?? 0,
    };
  }

  /** The memory a model (with draft and cache slots) would need here; see fit-estimate.ts. */
  async estimateFit(params: EngineParams<"estimateFit">): Promise<FitEstimate> {
    const env = await engineFitEnvironment(this.requireBackend(), { target: this.active, draft: this.draft });
    return estimateFit(env, params);
  }

  /**
   * Deletes every saved conversation state — the loaded model's (its idle slots are emptied too) and those other
   * models left in the cache folder — after any running reply, under the context lock.
   */
  async clearCache(): Promise<{ deletedStates: number; freedBytes: number }> {
    this.requireBackend();
    return this.contextLock.exclusive(async () => {
      const root = kvRoot(this.cacheDir);
      const before = await stateFiles(root);
      await this.pager?.clear();
      const ownFolder = this.pager ? path.basename(this.pager.store.folder) : undefined;
      const folders = await readdir(root).catch(() => [] as string[]);
      for (const folder of folders) if (folder !== ownFolder) await rm(path.join(root, folder), { recursive: true, force: true });
      const after = await stateFiles(root);
      return { deletedStates: before.count - after.count, freedBytes: before.bytes - after.bytes };
    });
  }

  /**
   * The exact text the loaded model evaluates for `messages` (chat template applied, special tokens written out)
   * and its token count: what the llama.cpp peer bench hands its tools, which take a raw prompt, so that both sides
   * decode from the same prompt tokens.
   */
  renderPromptText(messages: readonly ChatMessage[], maxTokens: number): { text: string; tokens: number } {
    const active = this.active;
    if (!active) throw new EngineFailure("NO_MODEL", "No model is loaded: choose a model first");
    const { tokens } = fitPrompt({ model: active.model, wrapper: active.wrapper, messages, contextSize: active.sequences[0]!.contextSize, maxTokens });
    return { text: active.model.detokenize(tokens, true), tokens: tokens.length };
  }

  /** Asks a running (or queued) generation to stop after its current token. */
  abort(messageId: string): boolean {
    const controller = this.running.get(messageId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  private abortAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  /** Releases everything in a fixed order: generations, then sequence, context, model, and llama.cpp itself. */
  async dispose(): Promise<void> {
    await this.unloadModel(); // draft, then target
    const backend = this.backend;
    this.backend = undefined;
    await backend?.llama.dispose();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Saved state files under the KV cache folder (every model's), and their total size. */
async function stateFiles(root: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for (const folder of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(root, folder)).catch(() => [] as string[])) {
      const size = await stat(path.join(root, folder, name)).then((s) => (s.isFile() ? s.size : 0), () => 0);
      bytes += size;
      if (name.endsWith(".state")) count++;
    }
  }
  return { count, bytes };
}
