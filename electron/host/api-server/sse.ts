/**
 * Server-sent events as OpenAI streams them: `data: <json>\n\n` per chunk, then `data: [DONE]\n\n`. An error after
 * the stream started can no longer change the status code, so it goes out as a chunk of OpenAI's error shape (what
 * the official clients raise as an APIError) before the connection ends.
 */
import type { ServerResponse } from "node:http";
import type { OpenAiErrorBody } from "../../../contracts/openai/responses.js";

export class SseStream {
  private started = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly headers: Record<string, string>,
  ) {}

  /** Whether the headers went out: from then on a failure can only be reported inside the stream. */
  get isStarted(): boolean {
    return this.started;
  }

  get open(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }

  /** Sends the headers now, so the client sees the stream begin before the first token. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.response.writeHead(200, {
      ...this.headers,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      // Proxies (nginx) must pass chunks on as they come.
      "X-Accel-Buffering": "no",
    });
    this.response.flushHeaders();
    // Each chunk is small and latency matters more than packets.
    this.response.socket?.setNoDelay(true);
  }

  send(chunk: object): void {
    this.start();
    if (this.open) this.response.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  error(body: OpenAiErrorBody): void {
    this.send(body);
    this.done();
  }

  done(): void {
    this.start();
    if (!this.open) return;
    this.response.end("data: [DONE]\n\n");
  }
}
