import { describe, expect, it } from "vitest";
import { engineEvents, engineMethods, engineParams, parseEvent, parseRequestParams } from "../../../contracts/engine/protocol.js";
import { DEFAULT_CACHE_DISK_BUDGET_BYTES, DEFAULT_MAX_DRAFT_TOKENS } from "../../../contracts/engine/values.js";

describe("engine protocol", () => {
  it("accepts valid params and applies defaults", () => {
    const parsed = parseRequestParams("loadModel", { modelPath: "/m.gguf", contextSize: "auto", threads: 2 });
    expect(parsed).toEqual({ ok: true, method: "loadModel", params: { modelPath: "/m.gguf", contextSize: "auto", threads: 2, gpuLayers: "auto", cacheSlots: "auto", cacheDiskBudgetBytes: DEFAULT_CACHE_DISK_BUDGET_BYTES } });
  });

  it("engineParams gives in-process callers the same defaults the engine process applies", () => {
    const params = engineParams("generate", { messageId: "m", conversationId: "c", messages: [{ role: "user", content: "hi" }], maxTokens: 4, sampling: { temperature: 0 } });
    expect(params.speculation).toEqual({ mode: "off", maxDraftTokens: DEFAULT_MAX_DRAFT_TOKENS });
    expect(engineParams("generate", { ...params, speculation: { mode: "draft" } }).speculation.maxDraftTokens).toBe(DEFAULT_MAX_DRAFT_TOKENS);
    expect(engineParams("runBenchmark", { benchmarkId: "b", prompts: ["p"], modes: ["draft"], maxTokens: 8 }).maxDraftTokens).toBe(DEFAULT_MAX_DRAFT_TOKENS);
    expect(() => engineParams("generate", { ...params, maxTokens: 0 })).toThrow();
  });

  it("rejects unknown methods, including prototype keys", () => {
    expect(parseRequestParams("eval", {})).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
    expect(parseRequestParams("toString", {})).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
    expect(parseRequestParams("__proto__", {})).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
  });

  it("names the offending field of invalid params", () => {
    const parsed = parseRequestParams("generate", { messageId: "g", conversationId: "s", messages: [{ role: "wizard", content: "x" }], maxTokens: 5, sampling: { temperature: 0 } });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe("BAD_REQUEST");
      expect(parsed.error.message).toMatch(/role/);
    }
    expect(parseRequestParams("generate", { messageId: "g", conversationId: "s", messages: [], maxTokens: 5, sampling: { temperature: 0 } }).ok).toBe(false);
    expect(parseRequestParams("loadModel", { modelPath: "/m", contextSize: "auto", threads: 0 }).ok).toBe(false);
    expect(parseRequestParams("hello", { extra: true }).ok).toBe(false);
  });

  it("validates events and drops unknown or malformed ones", () => {
    expect(parseEvent({ kind: "event", event: "modelLoadProgress", data: { modelPath: "/m", progress: 0.5 } })).toEqual({
      event: "modelLoadProgress",
      data: { modelPath: "/m", progress: 0.5 },
    });
    expect(parseEvent({ kind: "event", event: "modelLoadProgress", data: { modelPath: "/m", progress: 7 } })).toBeNull();
    expect(parseEvent({ kind: "event", event: "constructor", data: {} })).toBeNull();
    expect(parseEvent({ kind: "event", event: "tokens", data: { messageId: "g", tokens: [] } })).toBeNull();
  });

  it("declares a params and a result schema for every method", () => {
    for (const [name, spec] of Object.entries(engineMethods)) {
      expect(spec.params, name).toBeDefined();
      expect(spec.result, name).toBeDefined();
    }
    expect(Object.keys(engineEvents).sort()).toEqual(["benchmarkProgress", "cacheOutcome", "log", "modelLoadProgress", "tokens"]);
  });
});
