/**
 * One API generation, whichever endpoint asked for it: admission (the bounded queue), the engine's `generate` with
 * its streamed tokens, stop strings, the client's disconnect turned into the engine's `abort`, and the figures an
 * OpenAI response carries (usage, and llama-server's `timings`) plus the metrics.
 */
import { randomUUID } from "node:crypto";
import type { ChatMessage, EngineEventData, GenerationStats, SamplingOptions, SpeculationMode } from "../../../contracts/engine/protocol.js";
import type { FinishReason, Timings, Usage } from "../../../contracts/openai/responses.js";
import type { Admission } from "./admission.js";
import type { ApiEngine } from "./engine-port.js";
import { HttpError, NO_MODEL_MESSAGE } from "./errors.js";
import type { ApiMetrics } from "./metrics.js";
import { StopMatcher } from "./stop-strings.js";

export interface GenerationInput {
  /** Exactly one of messages (chat template applied) and prompt (raw text). */
  messages?: ChatMessage[];
  prompt?: string;
  conversationId: string;
  /** Null: until the reply ends or the context is full. */
  maxTokens: number | null;
  sampling: SamplingOptions;
  speculation: SpeculationMode;
  stop: readonly string[];
  /** Aborted when the client goes away: a queued request leaves the queue, a running one is aborted in the engine. */
  signal: AbortSignal;
  /** performance.now() when the request arrived (time to first token is measured from it). */
  receivedAt: number;
  /** The first token arrived (a stream sends its headers and role chunk now). */
  onStart?(): void;
  /** Reply text as it becomes final (stop strings held back until decided). */
  onText?(text: string): void;
}

export interface GenerationOutput {
  text: string;
  finishReason: FinishReason;
  stats: GenerationStats;
  usage: Usage;
  timings: Timings;
}

export interface GenerationDeps {
  engine: ApiEngine;
  admission: Admission;
  metrics: ApiMetrics;
  /** Bound on the draft length (the engine picks k up to it); undefined or absent: the engine's default. */
  maxDraftTokens?: () => number | undefined;
}

/** The client went away: there is nobody left to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super("The client closed the connection");
  }
}

export class GenerationRunner {
  /**
   * Conversation ids of generations at the engine. The engine would make a second reply on a busy conversation
   * wait for that conversation's slot; two clients whose chats merely open alike derive the same id, so the second
   * gets an id of its own and runs at once on another slot (cold, instead of waiting for the first to end).
   */
  private readonly conversationsInUse = new Set<string>();

  constructor(private readonly deps: GenerationDeps) {}

  async run(input: GenerationInput): Promise<GenerationOutput> {
    const { engine, admission } = this.deps;
    let release: () => void;
    try {
      release = await admission.enter(input.signal);
    } catch (error) {
      if (input.signal.aborted) throw new ClientGoneError();
      throw error;
    }
    const conversationId = this.conversationsInUse.has(input.conversationId) ? `${input.conversationId}#${randomUUID()}` : input.conversationId;
    this.conversationsInUse.add(conversationId);
    try {
      const model = await engine.settledModel();
      if (!model) throw new HttpError(503, "server_error", "model_not_loaded", NO_MODEL_MESSAGE);
      if (input.signal.aborted) throw new ClientGoneError();
      return await this.generate(input, conversationId, input.maxTokens ?? model.contextSize);
    } finally {
      this.conversationsInUse.delete(conversationId);
      release();
    }
  }

  private async generate(input: GenerationInput, conversationId: string, maxTokens: number): Promise<GenerationOutput> {
    const { engine, metrics } = this.deps;
    const messageId = `api-${randomUUID()}`;
    const matcher = new StopMatcher(input.stop);
    let text = "";
    let tokensStreamed = 0;
    /** Tokens up to the one that completed a stop string: what the client is billed for. */
    let tokensAtStop: number | null = null;
    let started = false;
    let cacheEvent: EngineEventData<"cacheOutcome"> | null = null;

    const release = (piece: string) => {
      if (!piece) return;
      text += piece;
      input.onText?.(piece);
    };
    const off = engine.onEvent((event) => {
      if (event.data.messageId !== messageId) return;
      if (event.event === "cacheOutcome") {
        cacheEvent = event.data;
        metrics.recordCacheOutcome(event.data.outcome);
        return;
      }
      if (event.data.step) metrics.recordStep(event.data.step);
      if (matcher.stopped) return;
      if (!started) {
        started = true;
        metrics.timeToFirstToken.observe((performance.now() - input.receivedAt) / 1000);
        input.onStart?.();
      }
      for (const token of event.data.tokens) {
        tokensStreamed++;
        release(matcher.push(token.text));
        if (matcher.stopped) {
          tokensAtStop = tokensStreamed;
          void engine.abort(messageId);
          break;
        }
      }
    });
    const abort = () => void engine.abort(messageId);
    input.signal.addEventListener("abort", abort, { once: true });
    let result;
    try {
      result = await engine.generate({
        messageId,
        conversationId,
        ...(input.prompt !== undefined ? { prompt: input.prompt } : { messages: input.messages }),
        maxTokens,
        sampling: input.sampling,
        speculation: { mode: input.speculation, maxDraftTokens: this.deps.maxDraftTokens?.() },
      });
    } finally {
      off();
      input.signal.removeEventListener("abort", abort);
    }
    const { stats } = result;
    metrics.recordGeneration(stats);
    if (input.signal.aborted) throw new ClientGoneError();
    if (stats.stopReason === "abort" && !matcher.stopped) {
      // Nobody here asked: the engine dropped the reply (a model load or unload replaces what it runs).
      throw new HttpError(503, "server_error", "generation_interrupted", "The generation was interrupted: the model was replaced or unloaded in Tandem. Try again.");
    }
    if (!started && !matcher.stopped) input.onStart?.();
    release(matcher.flush());

    const completionTokens = tokensAtStop ?? stats.tokens;
    const promptMs = (cacheEvent as EngineEventData<"cacheOutcome"> | null)?.ms ?? stats.timeToFirstTokenMs;
    const predictedMs = Math.max(0, stats.durationMs - promptMs);
    const speculation = stats.speculation;
    return {
      text,
      finishReason: matcher.stopped || stats.stopReason === "eog" ? "stop" : "length",
      stats,
      usage: {
        prompt_tokens: stats.promptTokens,
        completion_tokens: completionTokens,
        total_tokens: stats.promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: stats.reusedPromptTokens },
      },
      timings: {
        prompt_n: stats.evaluatedPromptTokens,
        prompt_ms: round3(promptMs),
        prompt_per_second: rate(stats.evaluatedPromptTokens, promptMs),
        predicted_n: stats.tokens,
        predicted_ms: round3(predictedMs),
        predicted_per_second: rate(stats.tokens, predictedMs),
        draft_n: speculation?.proposed ?? 0,
        draft_n_accepted: speculation?.accepted ?? 0,
        cache_n: stats.reusedPromptTokens,
        verify_steps: speculation?.verifySteps ?? 0,
        speculator: speculation?.mode ?? input.speculation,
        cache_outcome: stats.cache?.outcome ?? null,
      },
    };
  }
}

function rate(count: number, ms: number): number {
  return ms > 0 ? round3((count * 1000) / ms) : 0;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
