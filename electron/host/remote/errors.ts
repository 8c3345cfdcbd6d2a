/**
 * What can go wrong talking to a remote engine, as one error type with a code the UI can branch on and a message a
 * user can read ("the server refused the API key", not "HTTP 401"). A reply that breaks after text arrived carries
 * that text (`partialText`), so the chat can keep it and mark the message interrupted.
 */

export type RemoteErrorCode =
  /** No connection: DNS, refused, reset before any answer. */
  | "unreachable"
  /** 401/403: a wrong or missing API key. */
  | "auth"
  /** 404: the model (or the endpoint) does not exist on that server. */
  | "not-found"
  /** 429, after the retries. */
  | "rate-limited"
  /** No answer within the timeout (or a stream silent that long). */
  | "timeout"
  /** 5xx after the retries, or another status the server refused the request with. */
  | "server"
  /** 400/422: the server refused the request itself. */
  | "bad-request"
  /** The stream was not what the OpenAI format promises (unparsable data, an end without a finish). */
  | "malformed-stream"
  /** The connection was lost after the reply began (the server died or dropped it). */
  | "interrupted"
  /** The caller aborted (Stop). */
  | "aborted";

export interface RemoteErrorDetails {
  status?: number;
  /** For 429: how long the server asked to wait, when it said. */
  retryAfterMs?: number | null;
  /** Text that arrived before the failure (empty when none). */
  partialText?: string;
  /** The server's own message, when its error body had one. */
  serverMessage?: string | null;
  cause?: unknown;
}

export class RemoteError extends Error {
  override name = "RemoteError";
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly partialText: string;
  readonly serverMessage: string | null;

  constructor(
    readonly code: RemoteErrorCode,
    message: string,
    details: RemoteErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
    this.partialText = details.partialText ?? "";
    this.serverMessage = details.serverMessage ?? null;
  }

  /** The same error with the text received so far (a stream that broke mid-reply). */
  withPartialText(partialText: string): RemoteError {
    return new RemoteError(this.code, this.message, {
      status: this.status ?? undefined,
      retryAfterMs: this.retryAfterMs,
      partialText,
      serverMessage: this.serverMessage,
      cause: this.cause,
    });
  }
}

/** The user-facing error for an HTTP status the server answered with (after any retries). */
export function httpError(status: number, where: string, serverMessage: string | null, retryAfterMs: number | null, model?: string): RemoteError {
  const detail = serverMessage ? ` (${serverMessage})` : "";
  const details = { status, serverMessage, retryAfterMs };
  if (status === 401 || status === 403) {
    return new RemoteError("auth", `${where} refused the API key (HTTP ${status}): check the key set for this connection${detail}`, details);
  }
  if (status === 404) {
    const what = model ? `the model "${model}"` : "that endpoint";
    return new RemoteError("not-found", `${where} has no ${what} (HTTP 404)${detail}`, details);
  }
  if (status === 429) {
    const wait = retryAfterMs !== null ? `: it asks to wait ${Math.ceil(retryAfterMs / 1000)} s` : "";
    return new RemoteError("rate-limited", `${where} is rate limiting requests (HTTP 429)${wait}${detail}`, details);
  }
  if (status === 400 || status === 422) return new RemoteError("bad-request", `${where} refused the request (HTTP ${status})${detail}`, details);
  if (status >= 500) return new RemoteError("server", `${where} failed with a server error (HTTP ${status})${detail}`, details);
  return new RemoteError("server", `${where} answered HTTP ${status}${detail}`, details);
}
