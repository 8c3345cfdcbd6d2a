/**
 * Server-sent events as OpenAI-compatible servers stream them: `data: <json>` lines, events ended by a blank line,
 * `:` comments (keep-alives), CRLF or LF, and `data: [DONE]` at the end. Only the data of each event is returned;
 * an `event:` name is kept for servers that name error events.
 */
export interface SseEvent {
  event: string | null;
  data: string;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event: string | null = null;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const newline = this.buffer.search(/\r\n|\n|\r/);
      if (newline < 0) break;
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (width === 1 && this.buffer[newline] === "\r" && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The end of the stream: an event left without its blank line still counts. */
  end(): SseEvent[] {
    const rest = this.buffer;
    this.buffer = "";
    const events: SseEvent[] = [];
    if (rest) {
      const event = this.line(rest);
      if (event) events.push(event);
    }
    const last = this.line("");
    if (last) events.push(last);
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = null;
        return null;
      }
      const event = { event: this.event, data: this.data.join("\n") };
      this.data = [];
      this.event = null;
      return event;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    return null;
  }
}
