/**
 * Timeouts and retries, the OpenAI SDK's way (openai-node, `src/client.ts`: `shouldRetry`, `retryRequest`,
 * `calculateDefaultRetryTimeoutMillis`, `DEFAULT_TIMEOUT`; read in node_modules/openai 6.49.0 and in the
 * openai/openai-node source history):
 *
 * - timeout 10 minutes per attempt (`static DEFAULT_TIMEOUT = 600000`), counted until the response headers arrive;
 * - `maxRetries` 2 (`this.maxRetries = options.maxRetries ?? 2`);
 * - retried: connection errors and timeouts, and the statuses 408 (request timeout), 409 (lock timeout),
 *   429 (rate limit) and >= 500; a server's `x-should-retry: true|false` header overrides that choice;
 * - the wait: `retry-after-ms` (milliseconds), else `retry-after` (seconds, or an HTTP date) when it is a
 *   "reasonable amount" (`0 <= ms < 60 * 1000`, the rule of openai-node 4.x-5.x; 6.x obeys any value: a desktop
 *   chat keeps the 60 s bound rather than sit silent for minutes), else exponential backoff: 0.5 s doubling per
 *   retry, at most 8 s, minus up to 25 % jitter (`sleepSeconds * (1 - Math.random() * 0.25)`);
 * - a streaming body is never retried once it began (openai-node: "streaming body cannot be retried"): here, no
 *   retry after the response of a stream was accepted.
 */

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
const INITIAL_RETRY_DELAY_S = 0.5;
const MAX_RETRY_DELAY_S = 8;
const MAX_HONOURED_RETRY_AFTER_MS = 60_000;

export interface HeadersLike {
  get(name: string): string | null;
}

/** Whether a response with this status (and headers) is worth another attempt. */
export function shouldRetryStatus(status: number, headers: HeadersLike): boolean {
  const told = headers.get("x-should-retry");
  if (told === "true") return true;
  if (told === "false") return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait the server asked for (`retry-after-ms`, else `retry-after` in seconds or as a date), or null. */
export function serverRetryAfterMs(headers: HeadersLike | null, now = Date.now()): number | null {
  if (!headers) return null;
  const ms = headers.get("retry-after-ms");
  if (ms) {
    const value = parseFloat(ms);
    if (!Number.isNaN(value)) return value;
  }
  const after = headers.get("retry-after");
  if (after) {
    const seconds = parseFloat(after);
    if (!Number.isNaN(seconds)) return seconds * 1000;
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return date - now;
  }
  return null;
}

/**
 * How long to wait before retry number `retryIndex` (0 for the first retry): the server's figure when it gave a
 * reasonable one, else the backoff with jitter. `random` is injectable for tests.
 */
export function retryDelayMs(retryIndex: number, headers: HeadersLike | null, random: () => number = Math.random, now = Date.now()): number {
  const asked = serverRetryAfterMs(headers, now);
  if (asked !== null && asked > 0 && asked < MAX_HONOURED_RETRY_AFTER_MS) return asked;
  const sleepSeconds = Math.min(INITIAL_RETRY_DELAY_S * Math.pow(2, retryIndex), MAX_RETRY_DELAY_S);
  const jitter = 1 - random() * 0.25;
  return sleepSeconds * jitter * 1000;
}
