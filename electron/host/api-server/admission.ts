/**
 * Admission of generation requests: at most `maxRunning` at the engine at once, at most `maxWaiting` waiting in a
 * FIFO queue behind them, and 503 server_busy (with Retry-After) beyond that. A bounded queue keeps a flood of
 * requests from piling up unbounded memory and latency; a client that gives up while waiting just leaves the queue.
 *
 * maxRunning follows the engine: its replies run concurrently, one per cache slot (a request beyond the slots would
 * only wait inside the engine, where it could not be counted as waiting nor leave the queue cheaply). It is read at
 * every admission, so a model loaded with another slot count applies at once.
 */
import { HttpError } from "./errors.js";

interface Waiter {
  admit(): void;
  signal: AbortSignal;
  onAbort(): void;
}

export class ServerBusyError extends HttpError {
  constructor(waiting: number) {
    super(503, "server_error", "server_busy", `Tandem is busy: ${waiting} requests are already waiting. Try again shortly.`, null, { "Retry-After": "2" });
  }
}

export class Admission {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly maxRunning: () => number,
    private maxWaiting: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  setMaxWaiting(maxWaiting: number): void {
    this.maxWaiting = maxWaiting;
  }

  /**
   * Resolves with `release` (call it exactly once, when the request is done with the engine) once the request may
   * run; throws ServerBusyError when the queue is full, and rejects with the signal's reason if it aborts first.
   */
  async enter(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.active < Math.max(1, this.maxRunning()) && this.queue.length === 0) return this.admitNow();
    if (this.queue.length >= this.maxWaiting) throw new ServerBusyError(this.queue.length);
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        admit: () => {
          signal.removeEventListener("abort", waiter.onAbort);
          resolve(this.admitNow());
        },
        onAbort: () => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private admitNow(): () => void {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.next();
    };
  }

  private next(): void {
    while (this.active < Math.max(1, this.maxRunning()) && this.queue.length > 0) this.queue.shift()!.admit();
  }
}
