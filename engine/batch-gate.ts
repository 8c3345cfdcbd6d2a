/**
 * Lines up the decodes of replies that run at the same time on one target context, so node-llama-cpp sends them to
 * llama.cpp as one batch.
 *
 * Why: a decode of several sequences costs little more than one on a memory-bound model, so N replies decoding in
 * step get nearly N times one reply's speed. Left alone they drift apart: node-llama-cpp's dispatch loop sends
 * whatever is queued the moment a decode and its sampling end, and each reply queues its next decode a few
 * microtasks later than the others (its own detokenizing, events, policy), so each batch held one or two of them
 * (measured: 98 llama.cpp decodes for 139 target decodes of four KJV replies). Here each reply waits at a barrier
 * before queueing its decode until every decoding reply has arrived, or until a short wait runs out (a reply busy
 * drafting must not stall the others for long: half the recent time between two releases, 1 to 20 ms).
 * All of them then queue in the same microtask turn and go out together. A single reply never waits.
 */
export class BatchGate {
  private decoding = 0;
  private waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private lastReleaseAt = 0;
  /** Time between two releases, smoothed: about one decode of the model. */
  private intervalMs = 4;

  /** node-llama-cpp's `batching` option: a queued decode goes out in a microtask, not a whole event-loop turn later. */
  readonly batching = { dispatchSchedule: (dispatch: () => void) => queueMicrotask(dispatch) } as const;

  /** A reply starts decoding on this context; the returned function ends it (however the reply ends). */
  enter(): () => void {
    this.decoding++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.decoding--;
      if (this.waiters.length > 0 && this.waiters.length >= this.decoding) this.release();
    };
  }

  get replies(): number {
    return this.decoding;
  }

  /** Resolves when this reply may queue its decode; null (go on at once) when it decodes alone. */
  arrive(): Promise<void> | null {
    if (this.decoding <= 1 && this.waiters.length === 0) return null;
    const arrived = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.waiters.length >= this.decoding) this.release();
    else this.timer ??= setTimeout(() => this.release(), Math.min(20, Math.max(1, this.intervalMs / 2)));
    return arrived;
  }

  private release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    if (this.lastReleaseAt > 0) this.intervalMs += (Math.min(now - this.lastReleaseAt, 1000) - this.intervalMs) * 0.2;
    this.lastReleaseAt = now;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
