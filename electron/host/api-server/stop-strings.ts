/**
 * OpenAI's `stop`: the reply ends before the first occurrence of any stop string, which is not returned. Text is
 * released as it streams, except a tail that could still grow into a stop string: it is held back until the next
 * token decides (so a stream never shows text that the final reply would not contain).
 */
export class StopMatcher {
  private pending = "";
  private found = false;
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((stop) => stop.length));
  }

  /** Whether a stop string was found: the reply is complete, later text is ignored. */
  get stopped(): boolean {
    return this.found;
  }

  /** Adds generated text; returns what can be released now. */
  push(text: string): string {
    if (this.found) return "";
    if (this.stops.length === 0) return text;
    this.pending += text;
    let at = -1;
    for (const stop of this.stops) {
      const index = this.pending.indexOf(stop);
      if (index >= 0 && (at < 0 || index < at)) at = index;
    }
    if (at >= 0) {
      this.found = true;
      const released = this.pending.slice(0, at);
      this.pending = "";
      return released;
    }
    const held = this.heldBack();
    const released = this.pending.slice(0, this.pending.length - held);
    this.pending = this.pending.slice(this.pending.length - held);
    return released;
  }

  /** The generation ended without a stop string: the held-back tail is part of the reply after all. */
  flush(): string {
    const rest = this.found ? "" : this.pending;
    this.pending = "";
    return rest;
  }

  /** The longest tail of the pending text that is the start of some stop string. */
  private heldBack(): number {
    for (let length = Math.min(this.longest - 1, this.pending.length); length > 0; length--) {
      const tail = this.pending.slice(this.pending.length - length);
      if (this.stops.some((stop) => stop.startsWith(tail))) return length;
    }
    return 0;
  }
}
