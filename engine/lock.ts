/**
 * A FIFO async mutex. The engine keeps one per resource (the model context) so a model load never races a
 * generation and two generations never interleave on one sequence.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = 0;

  get locked(): boolean {
    return this.held > 0;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    this.held++;
    try {
      await previous;
      return await work();
    } finally {
      this.held--;
      release();
    }
  }
}

/**
 * A readers-writer lock, FIFO-fair: replies hold it shared (several decode at once, each on its own sequence, and
 * node-llama-cpp batches their decodes), while loads, unloads and cache clearing hold it exclusively. A waiting
 * exclusive holder stops new shared holders from entering, so a model load is never starved by a stream of replies.
 */
export class SharedLock {
  private sharedHolders = 0;
  private exclusiveHeld = false;
  private readonly queue: Array<{ exclusive: boolean; enter: () => void }> = [];

  get locked(): boolean {
    return this.exclusiveHeld || this.sharedHolders > 0;
  }

  shared<T>(work: () => Promise<T>): Promise<T> {
    return this.hold(false, work);
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.hold(true, work);
  }

  private async hold<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    if (this.queue.length === 0 && this.canEnter(exclusive)) this.enter(exclusive);
    else await new Promise<void>((resolve) => this.queue.push({ exclusive, enter: resolve }));
    try {
      return await work();
    } finally {
      if (exclusive) this.exclusiveHeld = false;
      else this.sharedHolders--;
      this.admit();
    }
  }

  private canEnter(exclusive: boolean): boolean {
    return exclusive ? !this.exclusiveHeld && this.sharedHolders === 0 : !this.exclusiveHeld;
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = true;
    else this.sharedHolders++;
  }

  /** Lets in the waiters at the head of the queue that can enter now, in order. */
  private admit(): void {
    while (this.queue.length > 0 && this.canEnter(this.queue[0]!.exclusive)) {
      const next = this.queue.shift()!;
      this.enter(next.exclusive);
      next.enter();
    }
  }
}
