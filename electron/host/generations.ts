/**
 * Runs assistant replies, one at a time: asks the engine to generate, streams its tokens to the window, keeps the
 * partial text in SQLite (throttled) so a crash loses at most a fraction of a second of it, and records how the
 * reply ended.
 */
import type { ChatMessage, EngineEventData, SpeculationOptions } from "../../engine/protocol.js";
import type { GenerationSettings, Message } from "../window-api.js";
import { buildEngineMessages } from "./chat-history.js";
import { EngineRequestError, apiError } from "./errors.js";
import type { HostContext } from "./host-context.js";
import { describeError } from "./logger.js";
import type { ModelManager } from "./model-manager.js";
import type { MessageOutcome } from "./store.js";

export const NO_MODEL_ERROR = "No model loaded: choose a model first.";

export const NO_DRAFT_MODEL_ERROR =
  "This conversation speculates with a draft model, but none is loaded. Choose a draft model in Settings, or pick another speculation mode.";

export interface ReplyRequest {
  conversationId: string;
  /** The assistant placeholder (status 'streaming') the reply goes into. */
  messageId: string;
  settings: GenerationSettings;
  /** How the engine speculates for this reply (the effective mode is also in `settings.speculation`). */
  speculation: SpeculationOptions;
  /** The stored conversation before the placeholder. */
  history: readonly Message[];
}

interface ActiveGeneration {
  readonly conversationId: string;
  readonly messageId: string;
  readonly settings: GenerationSettings;
  readonly speculation: SpeculationOptions;
  readonly messages: ChatMessage[];
  text: string;
  stopRequested: boolean;
  /** Set once the generate request has been sent: from then on Stop must go through the engine. */
  sentToEngine: boolean;
  persistTimer: NodeJS.Timeout | null;
  finished: Promise<void>;
}

export class Generations {
  private active: ActiveGeneration | null = null;

  constructor(
    private readonly ctx: HostContext,
    private readonly models: ModelManager,
    /** At most one partial-text write per this many milliseconds while streaming. */
    private readonly persistIntervalMs: number,
  ) {}

  get running(): { conversationId: string; messageId: string } | null {
    return this.active && { conversationId: this.active.conversationId, messageId: this.active.messageId };
  }

  /** Throws BUSY while a reply is being generated: the engine runs one generation at a time. */
  assertIdle(): void {
    if (this.active) {
      throw apiError("BUSY", "A reply is still being written. Wait for it to finish or press Stop, then try again.");
    }
  }

  /** The text streamed so far for `messageId`, when it is the reply being generated now. */
  liveText(messageId: string): string | null {
    return this.active?.messageId === messageId ? this.active.text : null;
  }

  /** Starts a reply in the background; the caller has already checked assertIdle(). */
  begin(request: ReplyRequest): void {
    this.assertIdle();
    const generation: ActiveGeneration = {
      conversationId: request.conversationId,
      messageId: request.messageId,
      settings: request.settings,
      speculation: request.speculation,
      messages: buildEngineMessages(request.settings.systemPrompt, request.history),
      text: "",
      stopRequested: false,
      sentToEngine: false,
      persistTimer: null,
      finished: Promise.resolve(),
    };
    this.active = generation;
    generation.finished = this.run(generation);
  }

  /** Engine `tokens` events: forwarded to the window and accumulated. */
  onTokens(data: EngineEventData<"tokens">): void {
    const generation = this.active;
    if (!generation || data.generationId !== generation.messageId) return;
    for (const token of data.tokens) generation.text += token.text;
    this.ctx.emit("tokens", {
      conversationId: generation.conversationId,
      messageId: generation.messageId,
      tokens: data.tokens,
      ...(data.step ? { step: data.step } : {}),
    });
    this.schedulePersist(generation);
  }

  /** Engine `cacheOutcome` events: how the cache served the running reply's prompt, forwarded to the window. */
  onCacheOutcome(data: EngineEventData<"cacheOutcome">): void {
    const generation = this.active;
    if (!generation || data.generationId !== generation.messageId) return;
    const { generationId: _generationId, ...report } = data;
    this.ctx.emit("cacheOutcome", { conversationId: generation.conversationId, messageId: generation.messageId, ...report });
  }

  /** Stops the conversation's running reply (it ends as 'stopped' with its partial text); false if none runs. */
  stop(conversationId: string): boolean {
    const generation = this.active;
    if (!generation || generation.conversationId !== conversationId) return false;
    generation.stopRequested = true;
    if (generation.sentToEngine) {
      this.ctx.supervisor
        .request("abort", { generationId: generation.messageId })
        .catch((error: unknown) => this.ctx.logger.warn(`Abort failed: ${describeError(error)}`));
    }
    return true;
  }

  /** Stops the running reply, if any, and waits up to `timeoutMs` for it to end. */
  async stopAll(timeoutMs: number): Promise<void> {
    const generation = this.active;
    if (!generation) return;
    this.stop(generation.conversationId);
    await Promise.race([generation.finished, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /** Resolves when no reply is running. */
  async whenIdle(): Promise<void> {
    while (this.active) await this.active.finished;
  }

  private async run(generation: ActiveGeneration): Promise<void> {
    let outcome: MessageOutcome;
    try {
      outcome = await this.generate(generation);
    } catch (error) {
      this.ctx.logger.error(`Generation failed unexpectedly: ${describeError(error)}`);
      outcome = { content: generation.text, status: generation.text ? "interrupted" : "error", error: `Something went wrong: ${describeError(error)}` };
    }
    try {
      this.finish(generation, outcome);
    } catch (error) {
      this.ctx.logger.error(`Could not record the end of a reply: ${describeError(error)}`);
    } finally {
      if (this.active === generation) this.active = null;
    }
    // The reply may have paged a conversation out or in: the status shows the cache as it is now.
    if (generation.sentToEngine) void this.models.refreshCache();
  }

  private async generate(generation: ActiveGeneration): Promise<MessageOutcome> {
    const { supervisor } = this.ctx;
    // Wait out an engine restart and the model (re)load that follows it rather than failing the reply.
    if (supervisor.state === "starting" || supervisor.state === "restarting") await supervisor.whenSettled();
    await this.models.whenIdle();
    if (generation.stopRequested) return { content: generation.text, status: "stopped" };
    if (supervisor.state !== "ready") {
      return { content: "", status: "error", error: "The engine is not running. Restart it from the banner and try again." };
    }
    if (!this.ctx.status.current.model) return { content: "", status: "error", error: NO_MODEL_ERROR };

    generation.sentToEngine = true;
    try {
      const result = await supervisor.request("generate", {
        generationId: generation.messageId,
        sessionKey: generation.conversationId,
        messages: generation.messages,
        maxTokens: generation.settings.maxTokens,
        sampling: { temperature: generation.settings.temperature },
        speculation: generation.speculation,
      });
      const stopped = result.stats.stopReason === "abort";
      return { content: result.text, status: stopped ? "stopped" : "complete", stats: result.stats };
    } catch (error) {
      return failureOutcome(generation.text, error);
    }
  }

  private finish(generation: ActiveGeneration, outcome: MessageOutcome): void {
    if (generation.persistTimer) clearTimeout(generation.persistTimer);
    generation.persistTimer = null;
    const store = this.ctx.store();
    const message = store.finishMessage(generation.messageId, { error: null, stats: null, ...outcome });
    // Null when the conversation was deleted while the reply was running: nothing left to report.
    if (!message) return;
    this.ctx.emit("messageCompleted", { message });
    const conversation = store.touchConversation(generation.conversationId);
    if (conversation) this.ctx.emit("conversationUpdated", { conversation });
  }

  private schedulePersist(generation: ActiveGeneration): void {
    if (generation.persistTimer) return;
    generation.persistTimer = setTimeout(() => {
      generation.persistTimer = null;
      try {
        this.ctx.store().updateMessageContent(generation.messageId, generation.text);
      } catch (error) {
        this.ctx.logger.warn(`Could not save a partial reply: ${describeError(error)}`);
      }
    }, this.persistIntervalMs);
  }
}

/** How a reply ends when the generate request failed; the partial text is always kept. */
function failureOutcome(partialText: string, error: unknown): MessageOutcome {
  if (error instanceof EngineRequestError) {
    if (error.code === "ENGINE_CRASHED") {
      const reason = error.crash?.reason ?? "crashed";
      return { content: partialText, status: "interrupted", error: `The engine stopped unexpectedly (${reason}); the reply was cut off.` };
    }
    if (error.code === "ENGINE_STOPPED") {
      return { content: partialText, status: "interrupted", error: "The engine was stopped or restarted; the reply was cut off." };
    }
    // Draft speculation without a draft fails before the first token; the engine's message cannot say where to fix it.
    if (error.code === "NO_DRAFT_MODEL") return { content: partialText, status: "error", error: NO_DRAFT_MODEL_ERROR };
    // The engine's own errors (NO_MODEL, PROMPT_TOO_LONG, …) carry messages written for the user.
    return { content: partialText, status: partialText ? "interrupted" : "error", error: error.message };
  }
  return { content: partialText, status: partialText ? "interrupted" : "error", error: `Something went wrong: ${describeError(error)}` };
}
