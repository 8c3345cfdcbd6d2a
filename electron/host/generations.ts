/**
 * Runs assistant replies, one at a time: asks the engine to generate, streams its tokens to the window, keeps the
 * partial text in SQLite (throttled) so a crash loses at most a fraction of a second of it, and records how the
 * reply ended. When that record can't be written (a full disk), the window still gets the reply's end, as an error
 * with the text it has, and the write is retried until it lands (see `saveUnsaved`).
 */
import type { ChatMessage, EngineEventData, SpeculationOptions } from "../../contracts/engine/protocol.js";
import type { GenerationSettings, Message, RemoteReply, ReplyTraceEvent } from "../../contracts/window/index.js";
import { buildEngineMessages } from "./chat-history.js";
import { EngineRequestError, apiError, isDiskFull, toTandemApiError, withoutStackTrace } from "./errors.js";
import type { HostContext } from "./host-context.js";
import { describeError } from "./logger.js";
import type { LoadQueue } from "./models/load-queue.js";
import { RemoteError } from "./remote/errors.js";
import { remoteChat, replyStats } from "./remote/remote-chat.js";
import { remoteReplyOf, type ReplyConnection } from "./remote/remote-engines.js";
import type { MessageOutcome } from "./store/app-database.js";

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
  /** Set when a remote engine writes the reply (settings.chatEngine), instead of this machine's engine. */
  remote?: ReplyConnection | null;
}

interface ActiveGeneration {
  readonly conversationId: string;
  readonly messageId: string;
  readonly settings: GenerationSettings;
  readonly speculation: SpeculationOptions;
  readonly messages: ChatMessage[];
  text: string;
  /** The reply's per-token record, stored with its end (ReplyTrace). */
  readonly trace: ReplyTraceEvent[];
  stopRequested: boolean;
  /** Set once the generate request has been sent: from then on Stop must go through the engine. */
  sentToEngine: boolean;
  /** A remote reply's server and the abort of its request (Stop); null for this machine's engine. */
  readonly remote: { target: ReplyConnection; abort: AbortController } | null;
  persistTimer: NodeJS.Timeout | null;
  /** A partial-text write has failed already (warned once, not on every throttled write of a full disk). */
  persistFailed: boolean;
  finished: Promise<void>;
}

/** How a reply ended, as it must be written to the store. */
interface ReplyEnd {
  readonly conversationId: string;
  readonly messageId: string;
  readonly outcome: MessageOutcome;
}

/** A reply end the store refused to write: what the window was told meanwhile, until the write lands. */
interface UnsavedEnd extends ReplyEnd {
  readonly shown: Message;
}

/** Retrying the writes of reply ends the store refused: doubling delays, then only at the next reply and at dispose. */
export interface SaveRetryTiming {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Timed retries stop after this long (a disk that stays full is not polled all day); later replies still retry. */
  giveUpAfterMs: number;
}

const DEFAULT_SAVE_RETRY: SaveRetryTiming = { firstDelayMs: 1_000, maxDelayMs: 60_000, giveUpAfterMs: 60 * 60_000 };

/** What the window shows on a reply whose end could not be saved yet. */
export const UNSAVED_DISK_FULL_ERROR =
  "The disk is full, so this reply could not be saved. Free some space: Tandem saves it by itself once there is room.";

export class Generations {
  private active: ActiveGeneration | null = null;
  /** Reply ends not written yet (the store threw), by message id, oldest first. */
  private readonly unsaved = new Map<string, UnsavedEnd>();
  private readonly saveRetry: SaveRetryTiming;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAttempts = 0;
  private retryingSince = 0;
  private closed = false;

  constructor(
    private readonly ctx: HostContext,
    private readonly models: LoadQueue,
    /** At most one partial-text write per this many milliseconds while streaming. */
    private readonly persistIntervalMs: number,
    saveRetry: Partial<SaveRetryTiming> = {},
  ) {
    this.saveRetry = { ...DEFAULT_SAVE_RETRY, ...saveRetry };
  }

  get running(): { conversationId: string; messageId: string } | null {
    return this.active && { conversationId: this.active.conversationId, messageId: this.active.messageId };
  }

  /** Throws BUSY while a reply is being written: the window writes one reply at a time (API clients may use the engine meanwhile, on other slots). */
  assertIdle(): void {
    if (this.active) {
      throw apiError("BUSY", "A reply is still being written. Wait for it to finish or press Stop, then try again.");
    }
  }

  /** The text streamed so far for `messageId`, when it is the reply being generated now. */
  liveText(messageId: string): string | null {
    return this.active?.messageId === messageId ? this.active.text : null;
  }

  /**
   * A stored message as the window must see it: the reply being generated with the text streamed so far (saved
   * only every ~200 ms), a reply whose end is not saved yet as the window was told when it ended.
   */
  shown(message: Message): Message {
    const unsaved = this.unsaved.get(message.id);
    if (unsaved) return unsaved.shown;
    const live = this.liveText(message.id);
    return live === null ? message : { ...message, content: live };
  }

  /**
   * Tries again to write the reply ends the store refused (called on a timer with backoff, before every new reply,
   * and at dispose). Each one written is pushed again as `messageCompleted`, now as stored. True when none is left.
   */
  saveUnsaved(): boolean {
    for (const end of [...this.unsaved.values()]) {
      // Still failing: the others would fail the same way (the disk is still full), and the retry is rescheduled.
      if (!this.record(end)) return false;
      this.ctx.logger.info(`Saved the end of reply ${end.messageId}, which could not be saved before`);
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAttempts = 0;
    return true;
  }

  /** Disposing: a last try at the unsaved reply ends, and no more timers. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.unsaved.size === 0) return;
    if (!this.saveUnsaved()) {
      // Not lost for good: the next start marks what is still 'streaming' in the database as interrupted.
      this.ctx.logger.warn(`${this.unsaved.size} reply end(s) could not be saved before closing`);
    }
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
      trace: [],
      stopRequested: false,
      sentToEngine: false,
      remote: request.remote ? { target: request.remote, abort: new AbortController() } : null,
      persistTimer: null,
      persistFailed: false,
      finished: Promise.resolve(),
    };
    this.active = generation;
    generation.finished = this.run(generation);
  }

  /** Engine `tokens` events: forwarded to the window and accumulated. */
  onTokens(data: EngineEventData<"tokens">): void {
    const generation = this.active;
    if (!generation || data.messageId !== generation.messageId) return;
    if (data.tokens.length > 0) {
      const step = data.step;
      generation.trace.push([
        Math.round(data.tokens[data.tokens.length - 1]!.t * 10) / 10,
        step?.index ?? -1,
        step?.speculator ?? "",
        step?.proposed ?? 0,
        step?.accepted ?? 0,
        data.tokens.map((token) => (token.source === "draft" ? "d" : "t")).join(""),
        data.tokens.map((token) => token.text.length),
      ]);
    }
    this.stream(generation, data.tokens, data.step);
  }

  /** Text of the running reply, from the engine or a remote server: kept, sent to the window, saved (throttled). */
  private stream(generation: ActiveGeneration, tokens: EngineEventData<"tokens">["tokens"], step?: EngineEventData<"tokens">["step"]): void {
    for (const token of tokens) generation.text += token.text;
    this.ctx.emit("tokens", {
      conversationId: generation.conversationId,
      messageId: generation.messageId,
      tokens,
      ...(step ? { step } : {}),
    });
    this.schedulePersist(generation);
  }

  /** Engine `cacheOutcome` events: how the cache served the running reply's prompt, forwarded to the window. */
  onCacheOutcome(data: EngineEventData<"cacheOutcome">): void {
    const generation = this.active;
    if (!generation || data.messageId !== generation.messageId) return;
    const { messageId: _messageId, ...report } = data;
    this.ctx.emit("cacheOutcome", { conversationId: generation.conversationId, messageId: generation.messageId, ...report });
  }

  /** Stops the conversation's running reply (it ends as 'stopped' with its partial text); false if none runs. */
  stop(conversationId: string): boolean {
    const generation = this.active;
    if (!generation || generation.conversationId !== conversationId) return false;
    generation.stopRequested = true;
    generation.remote?.abort.abort();
    if (generation.sentToEngine && !generation.remote) {
      this.ctx.supervisor
        .request("abort", { messageId: generation.messageId })
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
      outcome = { content: generation.text, status: generation.text ? "interrupted" : "error", error: `Something went wrong: ${withoutStackTrace(describeError(error))}` };
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
    if (generation.remote) return this.generateRemote(generation, generation.remote.target, generation.remote.abort.signal);
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
        messageId: generation.messageId,
        conversationId: generation.conversationId,
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

  /**
   * A reply from a remote engine: streamed into the window like the engine's tokens (as text: a server says nothing
   * per token about drafts), its figures and speculation counters recorded with the message. Stop aborts the HTTP
   * request; a failure keeps the text that arrived and says what went wrong in the server's terms.
   */
  private async generateRemote(generation: ActiveGeneration, target: ReplyConnection, signal: AbortSignal): Promise<MessageOutcome> {
    const started = performance.now();
    const source = (stats: RemoteReply["stats"]): RemoteReply => remoteReplyOf(target, stats);
    let index = 0;
    try {
      const result = await remoteChat(
        target.client,
        target.connection.kind,
        {
          model: target.model,
          messages: generation.messages.map((m) => ({ role: m.role, content: m.content })),
          maxTokens: generation.settings.maxTokens,
          temperature: generation.settings.temperature,
          signal,
        },
        (text) => this.stream(generation, [{ id: -1 - index++, text, source: "target", t: performance.now() - started }]),
      );
      const stats = replyStats(result);
      return {
        content: result.text,
        status: "complete",
        remote: source({ ...stats, durationMs: Math.round(result.durationMs), speculation: result.speculation }),
      };
    } catch (error) {
      if (error instanceof RemoteError) {
        const text = error.partialText || generation.text;
        if (error.code === "aborted" || generation.stopRequested) return { content: text, status: "stopped", remote: source(null) };
        return { content: text, status: text ? "interrupted" : "error", error: `${target.connection.name}: ${error.message}`, remote: source(null) };
      }
      if (generation.stopRequested) return { content: generation.text, status: "stopped", remote: source(null) };
      throw error;
    }
  }

  private finish(generation: ActiveGeneration, outcome: MessageOutcome): void {
    if (generation.persistTimer) clearTimeout(generation.persistTimer);
    generation.persistTimer = null;
    // A remote reply's tokens are text chunks, not the engine's tokens: nothing to tint or chart per token.
    const trace = generation.remote || generation.trace.length === 0 ? null : { events: generation.trace };
    this.record({ conversationId: generation.conversationId, messageId: generation.messageId, outcome: { trace, ...outcome } }, generation.settings);
  }

  /**
   * Writes how a reply ended and pushes it to the window. When the store throws (SQLITE_FULL on a full disk), the
   * window gets the end all the same, as an error keeping the text, and the write is kept for a retry: otherwise the
   * message would stay 'streaming' for good. False when the write failed.
   */
  private record(end: ReplyEnd, settings: GenerationSettings | null = null): boolean {
    let message: Message | null;
    try {
      message = this.ctx.store().finishMessage(end.messageId, { error: null, stats: null, ...end.outcome });
    } catch (error) {
      this.keepUnsaved(end, settings, error);
      return false;
    }
    this.unsaved.delete(end.messageId);
    // Null when the conversation was deleted while the reply was running: nothing left to report.
    if (!message) return true;
    this.ctx.emit("messageCompleted", { message });
    try {
      const conversation = this.ctx.store().touchConversation(end.conversationId);
      if (conversation) this.ctx.emit("conversationUpdated", { conversation });
    } catch (error) {
      // Only the conversation's place in the list is lost.
      this.ctx.logger.warn(`Could not mark conversation ${end.conversationId} as updated: ${describeError(error)}`);
    }
    return true;
  }

  private keepUnsaved(end: ReplyEnd, settings: GenerationSettings | null, error: unknown): void {
    if (!this.unsaved.has(end.messageId)) {
      const base = this.storedOrNew(end, settings);
      // Gone (its conversation was deleted meanwhile): nothing to save or to report.
      if (!base) return;
      this.ctx.logger.error(`Could not record the end of a reply: ${describeError(error)}; it is kept and saved again later`);
      const problem = isDiskFull(error) ? UNSAVED_DISK_FULL_ERROR : `This reply could not be saved: ${toTandemApiError(error).message}`;
      const shown: Message = {
        ...base,
        content: end.outcome.content,
        // "error" rather than "interrupted": the window shows an error's message, and this one says what to do.
        status: "error",
        error: end.outcome.error ? `${problem} (${end.outcome.error})` : problem,
        stats: end.outcome.stats ?? null,
      };
      this.unsaved.set(end.messageId, { ...end, shown });
      this.ctx.emit("messageCompleted", { message: shown });
    }
    this.scheduleRetry();
  }

  /**
   * The message as stored (reading usually works on a full disk), else rebuilt from what the reply knows when the
   * store can't be read either; null when it is not stored any more.
   */
  private storedOrNew(end: ReplyEnd, settings: GenerationSettings | null): Message | null {
    try {
      return this.ctx.store().getMessage(end.messageId);
    } catch {
      // Fall through: the window needs the end of the reply more than the placeholder's exact fields.
    }
    return {
      id: end.messageId,
      conversationId: end.conversationId,
      role: "assistant",
      content: end.outcome.content,
      status: "error",
      error: null,
      model: this.ctx.status.current.model?.name ?? null,
      settings,
      stats: null,
      createdAt: Date.now(),
    };
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer || this.unsaved.size === 0) return;
    if (this.retryAttempts === 0) this.retryingSince = Date.now();
    else if (Date.now() - this.retryingSince > this.saveRetry.giveUpAfterMs) return; // the next reply (or dispose) tries again
    const delay = Math.min(this.saveRetry.maxDelayMs, this.saveRetry.firstDelayMs * 2 ** this.retryAttempts++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.saveUnsaved();
    }, delay);
    // A pending retry must not keep the process alive (the CLI, tests): dispose makes the last try.
    this.retryTimer.unref();
  }

  private schedulePersist(generation: ActiveGeneration): void {
    if (generation.persistTimer) return;
    generation.persistTimer = setTimeout(() => {
      generation.persistTimer = null;
      try {
        this.ctx.store().updateMessageContent(generation.messageId, generation.text);
      } catch (error) {
        // Once per reply: on a full disk every throttled write fails the same way.
        if (!generation.persistFailed) this.ctx.logger.warn(`Could not save a partial reply: ${describeError(error)}`);
        generation.persistFailed = true;
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
    // The engine's own errors (NO_MODEL, PROMPT_TOO_LONG, DISK_FULL, …) carry messages written for the user.
    return { content: partialText, status: partialText ? "interrupted" : "error", error: withoutStackTrace(error.message) };
  }
  // The message is shown on the reply: never a stack trace (the log has the details).
  return { content: partialText, status: partialText ? "interrupted" : "error", error: `Something went wrong: ${withoutStackTrace(describeError(error))}` };
}
