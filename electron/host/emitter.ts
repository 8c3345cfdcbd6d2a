/**
 * A minimal typed event emitter. Node's EventEmitter loses the payload types, and a throwing listener there would
 * throw into the emitter (e.g. into the supervisor's exit handler); here a listener's exception is reported and
 * contained.
 */
export class TypedEmitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(data: never) => void>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  on<K extends keyof Events>(event: K, listener: (data: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<K extends keyof Events>(event: K, data: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set] as Array<(data: Events[K]) => void>) {
      try {
        listener(data);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
