/**
 * A client for any OpenAI-compatible server (vLLM, SGLang, llama-server, Ollama, LM Studio, Tandem's own): the
 * model list, a streamed chat completion, and plain GETs of a server's own endpoints for detection and metrics.
 * Node's fetch only, no SDK. Timeouts and retries follow openai-node (retry-policy.ts); a stream is never retried
 * once its response was accepted. Every failure is a RemoteError with a user-facing message; one that ends a reply
 * midway carries the text received so far.
 *
 * The API key is given to the constructor and only ever leaves in the Authorization header.
 */
import { parseBaseUrl, type RemoteBase } from "./base-url.js";
import { httpError, RemoteError } from "./errors.js";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, retryDelayMs, serverRetryAfterMs, shouldRetryStatus } from "./retry-policy.js";
import { SseParser } from "./sse.js";
import { abortableDelay } from "../../../engine/abortable-delay.js";

export interface OpenAiClientOptions {
  /** With or without /v1, with or without a trailing slash. */
  baseUrl: string;
  apiKey?: string | null;
  /** Per attempt, until the response headers arrive; also the longest silence allowed inside a stream. */
  timeoutMs?: number;
  maxRetries?: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
  random?: () => number;
}

export interface RemoteModel {
  id: string;
  /** The listing's `owned_by` (servers name themselves there: "vllm", "sglang", "llamacpp"…), or null. */
  ownedBy: string | null;
}

export interface RemoteChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface StreamChatRequest {
  model: string;
  messages: RemoteChatMessage[];
  maxTokens?: number;
  temperature?: number;
  signal?: AbortSignal;
  /** Extra body fields for a server's own options (e.g. llama-server's `n_probs`); never overrides the above. */
  extraBody?: Record<string, unknown>;
}

export interface RemoteUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
}

/**
 * Server-specific fields of the last chunks, as received (the speculation stats are read from them):
 * llama-server's (and Tandem's) `timings`, vLLM's `metrics`, SGLang's `meta_info`, and the raw `usage`.
 */
export interface RemoteFinalFields {
  timings?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  meta_info?: Record<string, unknown>;
  usage?: Record<string, unknown>;
}

export interface StreamChatResult {
  text: string;
  /** The server's finish_reason ("stop", "length", …), or null if it sent none. */
  finishReason: string | null;
  usage: RemoteUsage | null;
  final: RemoteFinalFields;
  /** The model the server says answered (its chunks' `model`). */
  model: string | null;
  /** From sending the request to the first text. Null when no text came. */
  timeToFirstTokenMs: number | null;
  durationMs: number;
  /** Content pieces received (a token count for servers that send one token per chunk, when usage is absent). */
  deltas: number;
}

export type GetResult = { status: number; ok: boolean; headers: Headers; body: string };

const TIMEOUT = Symbol("timeout");

export class OpenAiClient {
  readonly base: RemoteBase;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  private readonly apiKey: string | null;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;

  constructor(options: OpenAiClientOptions) {
    this.base = parseBaseUrl(options.baseUrl);
    this.apiKey = options.apiKey?.trim() || null;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
  }

  /** How errors name the server: "The server at http://host:8000". */
  get where(): string {
    return `The server at ${this.base.root}`;
  }

  /** GET /v1/models: every model id the server offers, with its owner. */
  async listModels(signal?: AbortSignal): Promise<RemoteModel[]> {
    const { response, done } = await this.send(`${this.base.v1}/models`, { method: "GET" }, signal);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new RemoteError("malformed-stream", `${this.where} answered /v1/models with something that is not JSON`, { cause: error });
    } finally {
      done();
    }
    const data = (body as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new RemoteError("malformed-stream", `${this.where} answered /v1/models without a "data" list`);
    return data
      .filter((m): m is { id: string; owned_by?: unknown } => typeof (m as { id?: unknown })?.id === "string")
      .map((m) => ({ id: m.id, ownedBy: typeof m.owned_by === "string" ? m.owned_by : null }));
  }

  /**
   * A GET of one of the server's own endpoints (path from the root, e.g. "/props", "/metrics"): one attempt, a
   * short timeout, never throws on an HTTP status (probes expect 404s). Throws RemoteError when unreachable.
   */
  async get(path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<GetResult> {
    const once = () => this.attempt(`${this.base.root}${path}`, { method: "GET" }, options.signal, options.timeoutMs ?? Math.min(this.timeoutMs, 10_000));
    // One more try when the connection failed: fetch reuses kept-alive sockets, and a server closing an idle one as
    // the request goes out ("other side closed", seen with llama-server) is not the server being unreachable. A GET
    // is safe to send twice.
    const { response, done } = await once().catch((error: unknown) => {
      if (error instanceof RemoteError && error.code === "unreachable") return once();
      throw error;
    });
    try {
      const body = await response.text();
      return { status: response.status, ok: response.ok, headers: response.headers, body };
    } finally {
      done();
    }
  }

  /** POST /v1/chat/completions with `stream: true`: each piece of text goes to `onDelta` as it arrives. */
  async streamChat(request: StreamChatRequest, onDelta: (text: string) => void): Promise<StreamChatResult> {
    const started = performance.now();
    const body: Record<string, unknown> = {
      ...request.extraBody,
      model: request.model,
      messages: request.messages,
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    const { response, controller, done } = await this.send(
      `${this.base.v1}/chat/completions`,
      { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream" }, body: JSON.stringify(body) },
      request.signal,
      request.model,
    );

    let text = "";
    let deltas = 0;
    let finishReason: string | null = null;
    let sawDone = false;
    let model: string | null = null;
    let firstTokenAt: number | null = null;
    const final: RemoteFinalFields = {};
    const fail = (error: RemoteError) => error.withPartialText(text);

    if (!response.body) {
      done();
      throw new RemoteError("malformed-stream", `${this.where} sent an empty answer to a streamed chat`);
    }
    const contentType = response.headers.get("content-type") ?? "";
    if (contentType.includes("application/json")) {
      // A server that ignored stream: true (or answered an error with 200): read it as one completion.
      const raw = await response.text().catch(() => "");
      done();
      return this.fromNonStreamed(raw, started);
    }

    // The same timer that bounded the wait for the headers now bounds each silence of the stream.
    let idle: NodeJS.Timeout | null = null;
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => controller.abort(TIMEOUT), this.timeoutMs);
    };
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    const handle = (data: string) => {
      if (data === "[DONE]") {
        sawDone = true;
        return;
      }
      let chunk: Record<string, unknown>;
      try {
        chunk = JSON.parse(data) as Record<string, unknown>;
      } catch (error) {
        throw fail(new RemoteError("malformed-stream", `${this.where} sent a stream chunk that is not JSON: ${data.slice(0, 120)}`, { cause: error }));
      }
      if (chunk.error !== undefined && chunk.error !== null) {
        const message = errorMessage(chunk) ?? "unknown error";
        throw fail(new RemoteError("server", `${this.where} reported an error mid-reply: ${message}`, { serverMessage: message }));
      }
      if (typeof chunk.model === "string") model = chunk.model;
      const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as Record<string, unknown> | undefined) : undefined;
      const delta = choice?.delta as { content?: unknown } | undefined;
      if (typeof delta?.content === "string" && delta.content !== "") {
        if (firstTokenAt === null) firstTokenAt = performance.now();
        text += delta.content;
        deltas++;
        onDelta(delta.content);
      }
      if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
      for (const key of ["timings", "metrics", "meta_info", "usage"] as const) {
        const value = chunk[key];
        if (value && typeof value === "object") final[key] = value as Record<string, unknown>;
      }
      // SGLang's OpenAI endpoints put meta_info on the choice (with return_meta_info), not on the chunk.
      if (choice?.meta_info && typeof choice.meta_info === "object") final.meta_info = choice.meta_info as Record<string, unknown>;
    };

    try {
      armIdle();
      for (;;) {
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch (error) {
          throw fail(this.readFailure(error, controller, request.signal));
        }
        if (read.done) break;
        armIdle();
        for (const event of parser.push(decoder.decode(read.value, { stream: true }))) handle(event.data);
        if (sawDone) break;
      }
      for (const event of parser.end()) handle(event.data);
    } finally {
      if (idle) clearTimeout(idle);
      done();
      if (!sawDone) void reader.cancel().catch(() => {});
    }
    if (!sawDone && finishReason === null) {
      throw fail(
        new RemoteError(
          text ? "interrupted" : "malformed-stream",
          text ? `${this.where} ended the stream mid-reply (no finish reason, no [DONE])` : `${this.where} ended the stream without a reply`,
        ),
      );
    }
    return {
      text,
      finishReason,
      usage: usageOf(final.usage),
      final,
      model,
      timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
      durationMs: performance.now() - started,
      deltas,
    };
  }

  private fromNonStreamed(raw: string, started: number): StreamChatResult {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch (error) {
      throw new RemoteError("malformed-stream", `${this.where} answered a streamed chat with something that is neither a stream nor JSON`, { cause: error });
    }
    if (body.error) throw new RemoteError("server", `${this.where} reported an error: ${errorMessage(body) ?? "unknown error"}`);
    const choice = Array.isArray(body.choices) ? (body.choices[0] as { message?: { content?: unknown }; finish_reason?: unknown } | undefined) : undefined;
    const text = typeof choice?.message?.content === "string" ? choice.message.content : "";
    const final: RemoteFinalFields = {};
    for (const key of ["timings", "metrics", "meta_info", "usage"] as const) {
      const value = body[key];
      if (value && typeof value === "object") final[key] = value as Record<string, unknown>;
    }
    const choiceMeta = (choice as { meta_info?: unknown } | undefined)?.meta_info;
    if (choiceMeta && typeof choiceMeta === "object") final.meta_info = choiceMeta as Record<string, unknown>;
    const durationMs = performance.now() - started;
    return {
      text,
      finishReason: typeof choice?.finish_reason === "string" ? choice.finish_reason : null,
      usage: usageOf(final.usage),
      final,
      model: typeof body.model === "string" ? body.model : null,
      timeToFirstTokenMs: text ? durationMs : null,
      durationMs,
      deltas: text ? 1 : 0,
    };
  }

  /** Why reading the body failed: Stop, the idle timeout, or the connection lost. */
  private readFailure(error: unknown, controller: AbortController, signal: AbortSignal | undefined): RemoteError {
    if (signal?.aborted) return new RemoteError("aborted", "Stopped", { cause: error });
    if (controller.signal.reason === TIMEOUT) {
      return new RemoteError("timeout", `${this.where} sent nothing for ${Math.round(this.timeoutMs / 1000)} s mid-reply`, { cause: error });
    }
    return new RemoteError("interrupted", `${this.where} dropped the connection mid-reply`, { cause: error });
  }

  /**
   * Sends with openai-node's retries (connection errors, timeouts, 408/409/429/5xx or x-should-retry), then returns
   * the accepted response: from here on nothing is retried. `done` clears the request's timer.
   */
  private async send(
    url: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
    model?: string,
  ): Promise<{ response: Response; controller: AbortController; done: () => void }> {
    for (let retry = 0; ; retry++) {
      const canRetry = retry < this.maxRetries;
      let attempt: Awaited<ReturnType<OpenAiClient["attempt"]>>;
      try {
        attempt = await this.attempt(url, init, signal, this.timeoutMs);
      } catch (error) {
        if (error instanceof RemoteError && (error.code === "unreachable" || error.code === "timeout") && canRetry) {
          await this.sleep(retryDelayMs(retry, null, this.random), signal);
          continue;
        }
        throw error;
      }
      const { response, done } = attempt;
      if (response.ok) return attempt;
      if (canRetry && shouldRetryStatus(response.status, response.headers)) {
        done();
        await response.body?.cancel().catch(() => {});
        await this.sleep(retryDelayMs(retry, response.headers, this.random), signal);
        continue;
      }
      const raw = await response.text().catch(() => "");
      done();
      let message: string | null = null;
      try {
        message = errorMessage(JSON.parse(raw));
      } catch {
        message = raw.trim().slice(0, 200) || null;
      }
      throw httpError(response.status, this.where, message, serverRetryAfterMs(response.headers), model);
    }
  }

  /** One request: its own AbortController, aborted by the caller's signal or by the timeout. */
  private async attempt(url: string, init: RequestInit, signal: AbortSignal | undefined, timeoutMs: number) {
    if (signal?.aborted) throw new RemoteError("aborted", "Stopped");
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const headers = new Headers(init.headers);
    if (this.apiKey) headers.set("authorization", `Bearer ${this.apiKey}`);
    try {
      const response = await this.fetchImpl(url, { ...init, headers, signal: controller.signal });
      clearTimeout(timer);
      return { response, controller, done };
    } catch (error) {
      done();
      if (signal?.aborted) throw new RemoteError("aborted", "Stopped", { cause: error });
      if (controller.signal.reason === TIMEOUT) {
        throw new RemoteError("timeout", `${this.where} did not answer within ${Math.round(timeoutMs / 1000)} s`, { cause: error });
      }
      const reason = connectionReason(error);
      throw new RemoteError("unreachable", `Cannot reach ${this.base.root}${reason ? ` (${reason})` : ""}: check the address and that the server is running`, { cause: error });
    }
  }

  /** The back-off before a retry; Stop cuts it short as the request's own abort. */
  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return abortableDelay(ms, signal).catch(() => {
      throw new RemoteError("aborted", "Stopped");
    });
  }
}

function usageOf(raw: Record<string, unknown> | undefined): RemoteUsage | null {
  if (!raw) return null;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return { promptTokens: num(raw.prompt_tokens), completionTokens: num(raw.completion_tokens), totalTokens: num(raw.total_tokens) };
}

/** The message of an OpenAI-style error body (`{error: {message}}`, `{error: "…"}`, `{message}` or `{detail}`). */
function errorMessage(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const b = body as { error?: unknown; message?: unknown; detail?: unknown };
  if (typeof b.error === "string") return b.error;
  if (b.error && typeof b.error === "object" && typeof (b.error as { message?: unknown }).message === "string") return (b.error as { message: string }).message;
  if (typeof b.message === "string") return b.message;
  if (typeof b.detail === "string") return b.detail;
  return null;
}

/** undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND…). */
function connectionReason(error: unknown): string | null {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : null;
}
