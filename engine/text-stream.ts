import type { LlamaModel, Token } from "node-llama-cpp";

/**
 * Turns generated tokens into text pieces as they arrive.
 *
 * A character can span several tokens (byte-fallback tokens of a multi-byte UTF-8 sequence); detokenizing such a
 * token alone yields U+FFFD. We hold tokens back until their text is complete, so every piece is valid text and the
 * pieces concatenate to exactly the detokenized reply. The few preceding tokens are passed as context because
 * some tokenizers render a leading space differently at the start of a text.
 */
export class IncrementalDetokenizer {
  private pending: Token[] = [];
  private history: Token[] = [];
  /** A UTF-8 character is at most 4 bytes: past that, an incomplete tail is not going to complete. */
  private static readonly MAX_PENDING = 4;

  constructor(private readonly model: LlamaModel) {}

  /** Returns the text this token completes ("" while a character is still incomplete). */
  push(token: Token): string {
    this.pending.push(token);
    const text = this.model.detokenize(this.pending, false, this.history.slice(-4));
    if (text.endsWith("\uFFFD") && this.pending.length < IncrementalDetokenizer.MAX_PENDING) return "";
    this.history.push(...this.pending);
    this.pending = [];
    return text;
  }

  /** Text of any tokens still held back (at the end of generation). */
  flush(): string {
    if (this.pending.length === 0) return "";
    const text = this.model.detokenize(this.pending, false, this.history.slice(-4));
    this.history.push(...this.pending);
    this.pending = [];
    return text;
  }
}
