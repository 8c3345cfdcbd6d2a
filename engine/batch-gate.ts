/**
 * Lines up the decodes of replies that run at the same time on one target context, so node-llama-cpp sends them to
 * llama.cpp as one batch.
 *
 * Why: a decode of several sequences costs little more than one on a memory-bound model, so N replies decoding in
 * step get nearly N times one reply's speed. Left alone they drift apart: node-llama-cpp's dispatch loop sends
 * whatever is queued the moment a decode and its sampling end, and each reply queues its next decode a few
 * microtasks later than the others (its own detokenizing, events, policy), so each batch held one or two of them
 * (measured: 98 llama.cpp decodes for 139 target decodes of four KJV replies). Here each reply waits at a barrier
 * before queueing its decode until every decoding reply has arrived, or until a short wait runs out with no decode
 * in flight (a reply busy drafting must not stall the others for long: half the recent time between two releases,
 * 1 to 20 ms).
 * All of them then queue in the same microtask turn, in sequence order, and go out together. A single reply never
 * waits.
 */
/** What a reply's sampler calls around each decode it queues (see SequenceSampler). */
export type DecodeGate = Pick<BatchGate, "arrive" | "started" | "finished">;

export class BatchGate {
  private decoding = 0;
  /** Replies whose decode is queued or running (from `started` to its end): they arrive again only after it. */
  private inFlight = 0;
  private waiters: Array<{ order: number; go: () => void }> = [];
  private deadlineAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastReleaseAt = 0;
  /** Time between two releases, smoothed: about one decode of the model. */
  private intervalMs = 4;

  /** A reply starts decoding on this context; the returned function ends it (however the reply ends). */
  enter(): () => void {
    this.decoding++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.decoding--;
      this.check();
    };
  }

  /**
   * Resolves when this reply may queue its decode; null (go on at once) when it decodes alone. The waiters go
   * when every decoding reply has arrived, or once the wait has run out while no decode is in flight: while one
   * is, llama.cpp is busy anyway and its replies will arrive as soon as it ends, so the group stays together.
   */
  arrive(sequenceId: number): Promise<void> | null {
    if (this.decoding <= 1 && this.waiters.length === 0) return null;
    const arrived = new Promise<void>((go) => this.waiters.push({ order: sequenceId, go }));
    if (this.waiters.length === 1) this.wait();
    // Checked after this reply has reached its `await`: released inside this call, it would resume after the
    // others whatever its sequence id.
    queueMicrotask(() => this.check());
    return arrived;
  }

  /** (Re)starts the short wait: from the first arrival, and again whenever a decode ends (its replies come next). */
  private wait(): void {
    const waitMs = Math.min(20, Math.max(1, this.intervalMs / 2));
    this.deadlineAt = performance.now() + waitMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), waitMs);
  }

  /** The reply's decode is about to be queued; `finished` when it (and its sampling) is done. */
  started(): void {
    this.inFlight++;
  }

  finished(): void {
    this.inFlight--;
    // The reply that just finished arrives again in a moment (after its events and policy): give it that moment
    // rather than releasing the others without it, which would split the group for good.
    if (this.waiters.length > 0) this.wait();
    this.check();
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    const everyoneHere = this.waiters.length >= this.decoding;
    if (everyoneHere || (this.inFlight === 0 && performance.now() >= this.deadlineAt)) this.release();
  }

  private release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    if (this.lastReleaseAt > 0) this.intervalMs += (Math.min(now - this.lastReleaseAt, 1000) - this.intervalMs) * 0.2;
    this.lastReleaseAt = now;
    // In sequence order: they queue their decodes in the order they resume, and llama.cpp puts sequences in one
    // ubatch only when their ids come in consecutive increasing order (llama_batch_allocr::split_equal, sequential
    // for a context whose sequences have KV streams of their own); out of order, a batch of four replies cost four
    // decodes (299 ms against 75 ms for one, on the 1B model).
    for (const { go } of this.waiters.splice(0).sort((a, b) => a.order - b.order)) go();
  }
}
