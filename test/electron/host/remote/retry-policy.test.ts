/** openai-node's retry rules (electron/host/remote/retry-policy.ts cites them): statuses, headers, backoff. */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, retryDelayMs, serverRetryAfterMs, shouldRetryStatus } from "../../../../electron/host/remote/retry-policy.js";

const headers = (h: Record<string, string> = {}) => new Headers(h);

describe("retry policy (openai-node conventions)", () => {
  it("defaults to a 10 minute timeout and 2 retries", () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(600_000);
    expect(DEFAULT_MAX_RETRIES).toBe(2);
  });

  it("retries 408, 409, 429 and 5xx, not other 4xx; x-should-retry overrides", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504]) expect(shouldRetryStatus(status, headers()), String(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 422]) expect(shouldRetryStatus(status, headers()), String(status)).toBe(false);
    expect(shouldRetryStatus(400, headers({ "x-should-retry": "true" }))).toBe(true);
    expect(shouldRetryStatus(503, headers({ "x-should-retry": "false" }))).toBe(false);
  });

  it("backs off from 0.5 s doubling to at most 8 s, with up to 25 % jitter taken off", () => {
    expect([0, 1, 2, 3, 4, 5].map((i) => retryDelayMs(i, null, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(retryDelayMs(0, null, () => 1)).toBe(375);
    expect(retryDelayMs(4, null, () => 0.5)).toBe(7000);
  });

  it("honours retry-after-ms, then retry-after (seconds or a date) when under 60 s", () => {
    expect(retryDelayMs(0, headers({ "retry-after-ms": "1234" }), () => 0)).toBe(1234);
    expect(retryDelayMs(0, headers({ "retry-after": "3" }), () => 0)).toBe(3000);
    expect(retryDelayMs(0, headers({ "retry-after-ms": "250", "retry-after": "9" }), () => 0)).toBe(250);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryDelayMs(0, headers({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), () => 0, now)).toBe(5000);
    // 60 s or more, zero, or garbage: the default backoff.
    expect(retryDelayMs(1, headers({ "retry-after": "120" }), () => 0)).toBe(1000);
    expect(retryDelayMs(1, headers({ "retry-after": "0" }), () => 0)).toBe(1000);
    expect(retryDelayMs(1, headers({ "retry-after": "soon" }), () => 0)).toBe(1000);
    expect(serverRetryAfterMs(headers({ "retry-after": "120" }))).toBe(120_000);
  });
});
