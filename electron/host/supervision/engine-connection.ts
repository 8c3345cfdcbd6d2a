/**
 * The typed request/response channel to one engine process: numbers requests, matches responses to them, validates
 * everything the engine sends (envelope, then the method's result schema or the event's payload schema) and
 * re-emits events typed. A malformed message is logged and dropped: a buggy or hostile engine can make its own
 * requests fail, never the host.
 */
import { z } from "zod";
import {
  EventEnvelope,
  ResponseEnvelope,
  engineMethods,
  parseEvent,
  type EngineMethod,
  type EngineRequestParams,
  type EngineResult,
} from "../../../contracts/engine/protocol.js";
import { EngineRequestError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { EngineChild } from "../types.js";

export type ParsedEngineEvent = NonNullable<ReturnType<typeof parseEvent>>;

export interface RequestOptions {
  /** Reject with TIMEOUT when no response arrives in time. Omit for requests that may legitimately run long. */
  timeoutMs?: number;
}

interface PendingRequest {
  method: EngineMethod;
  resolve(result: unknown): void;
  reject(error: EngineRequestError): void;
  timer: NodeJS.Timeout | null;
}

/** Only the discriminating fields, to route a message before validating it fully. */
const MessageHead = z.object({ kind: z.string(), id: z.number().optional() });

export class EngineConnection {
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private closedWith: EngineRequestError | null = null;
  private readonly eventListeners = new Set<(event: ParsedEngineEvent) => void>();
  private readonly activityListeners = new Set<() => void>();

  constructor(
    private readonly child: EngineChild,
    private readonly logger: Logger,
  ) {
    child.onMessage((message) => this.receive(message));
  }

  request<M extends EngineMethod>(method: M, params: EngineRequestParams<M>, options: RequestOptions = {}): Promise<EngineResult<M>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<EngineResult<M>>((resolve, reject) => {
      const timer =
        options.timeoutMs === undefined
          ? null
          : setTimeout(() => {
              this.pending.delete(id);
              reject(new EngineRequestError("TIMEOUT", `The engine did not answer "${method}" within ${options.timeoutMs} ms`));
            }, options.timeoutMs);
      // The result was validated against this method's schema in receive(), so it has this method's result type.
      this.pending.set(id, { method, resolve: (result) => resolve(result as EngineResult<M>), reject, timer });
      try {
        this.child.postMessage({ kind: "request", id, method, params });
      } catch (error) {
        this.settle(id, new EngineRequestError("ENGINE_UNAVAILABLE", `Could not send "${method}" to the engine: ${String(error)}`));
      }
    });
  }

  /** Subscribes to validated engine events. */
  onEvent(listener: (event: ParsedEngineEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called for every message from the engine, valid or not: proof that the process is alive. */
  onActivity(listener: () => void): () => void {
    this.activityListeners.add(listener);
    return () => this.activityListeners.delete(listener);
  }

  /** Rejects every pending request and all later ones with `error` (the process is gone or going). */
  close(error: EngineRequestError): void {
    if (!this.closedWith) this.closedWith = error;
    for (const id of [...this.pending.keys()]) this.settle(id, error);
  }

  private receive(message: unknown): void {
    for (const listener of this.activityListeners) listener();
    const head = MessageHead.safeParse(message);
    if (!head.success) {
      this.logger.warn(`Dropped a malformed message from the engine: ${preview(message)}`);
      return;
    }
    if (head.data.kind === "response") this.receiveResponse(message, head.data.id);
    else if (head.data.kind === "event") this.receiveEvent(message);
    else this.logger.warn(`Dropped an engine message of unknown kind "${head.data.kind}"`);
  }

  private receiveResponse(message: unknown, id: number | undefined): void {
    const envelope = ResponseEnvelope.safeParse(message);
    if (!envelope.success) {
      this.logger.warn(`Dropped a malformed engine response: ${preview(message)}`);
      // Fail the request it claims to answer instead of leaving it pending forever.
      if (id !== undefined && this.pending.has(id)) {
        this.settle(id, new EngineRequestError("BAD_RESPONSE", "The engine sent a malformed response"));
      }
      return;
    }
    const response = envelope.data;
    const request = this.pending.get(response.id);
    if (!request) {
      this.logger.warn(`Dropped an engine response to unknown request ${response.id}`);
      return;
    }
    if (!response.ok) {
      this.settle(response.id, new EngineRequestError(response.error.code, response.error.message));
      return;
    }
    const result = engineMethods[request.method].result.safeParse(response.result);
    if (!result.success) {
      this.logger.warn(`The engine's result for "${request.method}" does not match the protocol: ${z.prettifyError(result.error)}`);
      this.settle(response.id, new EngineRequestError("BAD_RESPONSE", `The engine sent an invalid result for "${request.method}"`));
      return;
    }
    this.settle(response.id, null, result.data);
  }

  private receiveEvent(message: unknown): void {
    const envelope = EventEnvelope.safeParse(message);
    const event = envelope.success ? parseEvent(envelope.data) : null;
    if (!event) {
      this.logger.warn(`Dropped a malformed or unknown engine event: ${preview(message)}`);
      return;
    }
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(`An engine event listener failed: ${String(error)}`);
      }
    }
  }

  private settle(id: number, error: EngineRequestError | null, result?: unknown): void {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    if (request.timer) clearTimeout(request.timer);
    if (error) request.reject(error);
    else request.resolve(result);
  }
}

function preview(message: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(message) ?? String(message);
  } catch {
    text = String(message);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
