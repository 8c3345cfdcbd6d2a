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
