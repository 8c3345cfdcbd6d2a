import { describeSystem, initBackend, type GetLlama, type InitialisedBackend, type LogSink } from "./backend.js";
import { fitPrompt } from "./chat-prompt.js";
import { runDecodeLoop } from "./decode-loop.js";
import { EngineFailure } from "./errors.js";
import { Mutex } from "./lock.js";
import { disposeActiveModel, loadActiveModel, type ActiveModel } from "./model-registry.js";
import type { EngineParams, GenerationResult, GpuChoice, LoadedModel, StreamedToken, SystemInfo } from "./protocol.js";

/**
 * The engine as an in-process object: what the engine process exposes over the protocol, and what the CLI and
 * the bench use directly. One lock guards the model context: loads, unloads and generations take turns on it.
 */
export class Engine {
  private backend: InitialisedBackend | undefined;
  private cacheDir = "";
  private active: ActiveModel | undefined;
  private readonly contextLock = new Mutex();
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly log: LogSink = () => {},
    private readonly options: { getLlama?: GetLlama; stepDelayMs?: number } = {},
  ) {}

  get loadedModel(): LoadedModel | undefined {
    return this.active?.info;
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
    return this.contextLock.run(async () => {
      if (this.active) {
        const previous = this.active;
        this.active = undefined;
        await disposeActiveModel(previous);
      }
      this.active = await loadActiveModel({
        llama: backend.llama,
        backend: backend.backend,
        modelPath: params.modelPath,
        contextSize: params.contextSize,
        threads: params.threads,
        gpuLayers: params.gpuLayers ?? "auto",
        cacheDir: this.cacheDir,
        onProgress,
      });
      this.log("info", `loaded ${this.active.info.name}: ${this.active.info.threads} threads (${this.active.info.threadsSource})`);
      return this.active.info;
    });
  }

  async unloadModel(): Promise<boolean> {
    this.abortAll();
    return this.contextLock.run(async () => {
      if (!this.active) return false;
      const previous = this.active;
      this.active = undefined;
      await disposeActiveModel(previous);
      return true;
    });
  }

  async generate(params: EngineParams<"generate">, onToken: (token: StreamedToken) => void): Promise<GenerationResult> {
    const startedAt = performance.now();
    const backend = this.requireBackend();
    if (this.running.has(params.generationId)) {
      throw new EngineFailure("BAD_REQUEST", `Generation ${params.generationId} is already running`);
    }
    const controller = new AbortController();
    this.running.set(params.generationId, controller);
    try {
      return await this.contextLock.run(async () => {
        const active = this.active;
        if (!active) throw new EngineFailure("NO_MODEL", "No model is loaded: choose a model first");
        const prompt = fitPrompt({
          model: active.model,
          wrapper: active.wrapper,
          messages: params.messages,
          contextSize: active.sequence.contextSize,
          maxTokens: params.maxTokens,
        });
        const outcome = await runDecodeLoop({
          sequence: active.sequence,
          model: active.model,
          promptTokens: prompt.tokens,
          maxTokens: params.maxTokens,
          sampling: params.sampling,
          signal: controller.signal,
          startedAt,
          onToken,
          stepDelayMs: this.options.stepDelayMs,
        });
        return {
          generationId: params.generationId,
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
          },
        };
      });
    } finally {
      this.running.delete(params.generationId);
    }
  }

  /** Asks a running (or queued) generation to stop after its current token. */
  abort(generationId: string): boolean {
    const controller = this.running.get(generationId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  private abortAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  /** Releases everything in a fixed order: generations, then sequence, context, model, and llama.cpp itself. */
  async dispose(): Promise<void> {
    await this.unloadModel();
    const backend = this.backend;
    this.backend = undefined;
    await backend?.llama.dispose();
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
