/**
 * A tiny stand-in engine for the host's tests: a CommonJS script written to a temp folder and started by the real
 * nodeForkSpawner. It speaks the engine protocol and misbehaves on request (TANDEM_FAKE_* variables, which pass the
 * supervisor's env allow-list), so crash handling can be tested without a model.
 *
 * Modes (TANDEM_FAKE_MODE): normal | exit-on-start | crash-on-hello | bad-version | malformed | silent |
 * hang-after-ready | ignore-pings | ignore-shutdown.
 * Chat behaviour: the reply is "Echo: <last user message>" streamed one word per token every TANDEM_FAKE_STEP_MS;
 * a user message containing CRASH makes the engine exit mid-reply, TOOLONG gives PROMPT_TOO_LONG.
 * Speculation: with a mode other than "off" each `tokens` event carries a step and two words (an accepted draft word,
 * then the target's own); "draft" without a loaded draft fails with NO_DRAFT_MODEL. A draft file named *incompatible*
 * is refused with DRAFT_INCOMPATIBLE, *broken* with MODEL_LOAD_FAILED (either way the draft held before is gone, as in
 * the real engine); loading or unloading a target drops the draft.
 * Bench: runBenchmark emits benchmarkProgress per prompt per mode (TANDEM_FAKE_BENCH_STEP_MS apart) and answers with a
 * canned report per mode (baseline TANDEM_FAKE_BENCH_TPS tokens/s, speedup 1.5); cancelBenchmark makes it fail ABORTED.
 * TANDEM_FAKE_RECORD_CALLS: a file that gets one JSON line {method, params} per request (hello excepted).
 * estimateFit: a canned estimate from the params (see the case); *huge* models won't fit, *notgguf* ones fail.
 * A target whose path contains "oom" fails to load with OUT_OF_MEMORY.
 * KV cache: conversations (conversationId) live in cacheSlots slots ("auto" = 2), the least recently used one going "to
 * disk" (1,000 bytes per state) when a slot is needed; each reply reports slot-hit / disk-restore / cold in a
 * `cacheOutcome` event before its first token and in its stats. clearCache empties the disk and the idle slots.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROTOCOL_VERSION } from "../../../contracts/engine/protocol.js";

const SCRIPT = String.raw`
"use strict";
const fs = require("node:fs");
const env = process.env;
const mode = env.TANDEM_FAKE_MODE || "normal";
const stepMs = Number(env.TANDEM_FAKE_STEP_MS || 5);

if (env.TANDEM_FAKE_RECORD_ENV) fs.writeFileSync(env.TANDEM_FAKE_RECORD_ENV, JSON.stringify(env));
if (env.TANDEM_FAKE_LAUNCH_LOG) fs.appendFileSync(env.TANDEM_FAKE_LAUNCH_LOG, process.pid + "\n");
const launches = env.TANDEM_FAKE_LAUNCH_LOG ? fs.readFileSync(env.TANDEM_FAKE_LAUNCH_LOG, "utf8").trim().split("\n").length : 1;
if (mode === "exit-on-start" || launches <= Number(env.TANDEM_FAKE_FAIL_LAUNCHES || 0)) process.exit(3);

const send = (message) => { if (process.connected) process.send(message); };
const reply = (id, result) => send({ kind: "response", id, ok: true, result });
const fail = (id, code, message) => send({ kind: "response", id, ok: false, error: { code, message } });
const event = (name, data) => send({ kind: "event", event: name, data });

const system = {
  backend: "cpu", gpuRequested: "auto", devices: [], vram: { total: 0, used: 0, free: 0 },
  ram: { total: 8e9, free: 4e9 }, cpu: { model: "fake", cores: 2 }, llamaCppRelease: "fake", nodeLlamaCppVersion: "fake",
};
let ready = false;
let helloCount = 0;
let model = null;
let draft = null;
const running = new Map();
// The paged KV cache: conversation ids in slots (most recently used last) and on disk.
let slots = [];
let slotCount = 0;
let disk = new Set();
let diskBudgetBytes = 2 * 1024 ** 3;
const STATE_BYTES = 1000;
function cacheInfo() {
  return {
    slots: model ? slotCount : 0, slotsInUse: model ? slots.length : 0, diskBytes: disk.size * STATE_BYTES,
    diskStates: disk.size, diskBudgetBytes, memoryBytes: model ? slotCount * 1e6 : 0,
  };
}
function pageIn(key) {
  if (slots.includes(key)) { slots = [...slots.filter((k) => k !== key), key]; return "slot-hit"; }
  if (slots.length >= slotCount) disk.add(slots.shift());
  slots.push(key);
  return disk.delete(key) ? "disk-restore" : "cold";
}

function loaded(path, params) {
  return {
    modelPath: path, name: require("node:path").basename(path), sizeBytes: 1, trainedContextSize: 256,
    contextSize: params.contextSize === "auto" ? 256 : params.contextSize, threads: params.threads === "auto" ? 1 : params.threads,
    threadsSource: "user", gpuLayers: 0, chatWrapper: "fake", loadMs: 1,
    cacheSlots: params.cacheSlots === "auto" || params.cacheSlots === undefined ? 2 : params.cacheSlots, cacheMemoryBytes: 2e6,
  };
}

function draftInfo(path, params) {
  return {
    modelPath: path, name: require("node:path").basename(path), sizeBytes: 1,
    threads: params.threads === "auto" ? 1 : params.threads, contextSize: 256, loadMs: 1,
  };
}

// The bench: one benchmarkProgress per prompt per mode every TANDEM_FAKE_BENCH_STEP_MS (default 5), then a canned
// report per mode; cancelBenchmark ends it with ABORTED. TANDEM_FAKE_BENCH_TPS sets the canned baseline tokens/s.
let bench = null;
function benchReport(mode, prompts, maxTokens) {
  const name = (p) => (p ? require("node:path").basename(p.modelPath) : null);
  const base = Number(env.TANDEM_FAKE_BENCH_TPS || 100);
  return {
    machine: { cpu: "fake", cores: 2, ramGB: 8, platform: "fake", backend: "cpu", threads: model.threads, draftThreads: draft ? draft.threads : null },
    model: name(model), draft: name(draft), mode, prompts, maxTokens, temperature: 0,
    baseline: { tokensPerSecond: base, tokens: prompts * 2 * maxTokens },
    speculative: {
      tokensPerSecond: base * 1.5, tokens: prompts * 2 * maxTokens, acceptanceRate: 0.75, meanAcceptedPerStep: 1.5,
      proposed: 40, accepted: 30, rejected: 10, targetDecodes: 20, verifySteps: 10,
    },
    speedup: 1.5, speedupMedian: 1.45, identicalOutputs: true,
    theoretical: { alpha: 0.8, gamma: 4, draftCostRatio: 0.1, verifyCostRatio: 1.2, speculativeStepShare: 0.5, expectedSpeedup: 1.8 },
    efficiency: 0.833,
  };
}
async function runBenchmark(id, params) {
  if (!model) return fail(id, "NO_MODEL", "No model is loaded");
  if (bench) return fail(id, "BUSY", "A benchmark is already running");
  bench = { benchmarkId: params.benchmarkId, cancelled: false };
  const total = params.modes.length * params.prompts.length;
  let done = 0;
  for (const mode of params.modes) {
    for (let i = 0; i < params.prompts.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, Number(env.TANDEM_FAKE_BENCH_STEP_MS || 5)));
      if (bench.cancelled) { bench = null; return fail(id, "ABORTED", "The benchmark was cancelled"); }
      event("benchmarkProgress", { benchmarkId: params.benchmarkId, done: ++done, total, mode });
    }
  }
  bench = null;
  reply(id, { benchmarkId: params.benchmarkId, reports: params.modes.map((mode) => benchReport(mode, params.prompts.length, params.maxTokens)) });
}

async function generate(id, params) {
  if (!model) return fail(id, "NO_MODEL", "No model is loaded");
  const spec = params.speculation || { mode: "off", maxDraftTokens: 8 };
  if (spec.mode === "draft" && !draft) return fail(id, "NO_DRAFT_MODEL", "No draft model is loaded");
  const last = params.messages.filter((m) => m.role === "user").pop();
  const content = last ? last.content : "";
  if (content.includes("TOOLONG")) return fail(id, "PROMPT_TOO_LONG", "The message is too long for the context");
  if (env.TANDEM_FAKE_RECORD_MESSAGES) fs.writeFileSync(env.TANDEM_FAKE_RECORD_MESSAGES, JSON.stringify(params));
  const words = ("Echo: " + content).split(" ");
  // Speculating: each target decode emits one accepted draft word (source "draft") then its own word ("target").
  const speculator = spec.mode === "off" ? null : spec.mode === "auto" ? (draft ? "draft" : "lookup") : spec.mode;
  const perStep = speculator ? 2 : 1;
  const started = Date.now();
  const outcome = pageIn(params.conversationId);
  const cache = { outcome, restoredTokens: outcome === "cold" ? 0 : 8, restoreMs: outcome === "disk-restore" ? 3 : 0 };
  event("cacheOutcome", { messageId: params.messageId, outcome, restoredTokens: cache.restoredTokens, evaluatedTokens: 10 - cache.restoredTokens, ms: 4 });
  const state = { aborted: false };
  running.set(params.messageId, state);
  let text = "";
  let count = 0;
  let steps = 0;
  let proposed = 0;
  let accepted = 0;
  let stopReason = "eog";
  for (let i = 0; i < words.length; ) {
    if (state.aborted) { stopReason = "abort"; break; }
    if (count >= params.maxTokens) { stopReason = "max-tokens"; break; }
    if (content.includes("CRASH") && count >= 2) process.exit(9);
    const n = Math.min(perStep, words.length - i, params.maxTokens - count);
    const tokens = [];
    for (let k = 0; k < n; k++, i++) {
      const piece = (i === 0 ? "" : " ") + words[i];
      text += piece;
      tokens.push({ id: i, text: piece, source: k < n - 1 ? "draft" : "target", t: Date.now() - started });
    }
    count += n;
    const data = { messageId: params.messageId, tokens };
    if (speculator) {
      data.step = { index: steps, speculator, proposed: 2, accepted: n - 1 };
      proposed += 2;
      accepted += n - 1;
    }
    steps++;
    event("tokens", data);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  running.delete(params.messageId);
  const speculation = speculator
    ? {
        mode: spec.mode, proposed, accepted, rejected: proposed - accepted,
        acceptanceRate: proposed ? accepted / proposed : 0, meanAcceptedPerStep: steps ? accepted / steps : 0,
        verifySteps: steps, targetTokens: count - accepted, draftMs: 1, verifyMs: 2,
        acceptedHistogram: [0, steps], stepsBySpeculator: { [speculator]: steps }, finalDraftLength: 2,
      }
    : null;
  reply(id, {
    messageId: params.messageId, text,
    stats: {
      tokens: count, promptTokens: 10, reusedPromptTokens: 0, evaluatedPromptTokens: 10, truncatedMessages: 0,
      timeToFirstTokenMs: 1, tokensPerSecond: 100, durationMs: Date.now() - started, stopReason, threads: 1,
      backend: "cpu", targetDecodes: steps, speculation, cache,
    },
  });
}

process.on("message", (message) => {
  if (mode === "silent") return;
  if (mode === "hang-after-ready" && ready) return;
  const { id, method, params } = message;
  if (mode === "malformed") {
    send("garbage");
    send({ kind: "response", id: "not-a-number", ok: true });
    send({ kind: "event", event: "tokens", data: { messageId: 5 } });
    send({ kind: "event", event: "no-such-event", data: {} });
    send({ kind: "mystery" });
    send({ kind: "response", id: 99999, ok: true, result: {} });
  }
  if (env.TANDEM_FAKE_RECORD_CALLS && method !== "hello") fs.appendFileSync(env.TANDEM_FAKE_RECORD_CALLS, JSON.stringify({ method, params }) + "\n");
  switch (method) {
    case "hello":
      helloCount++;
      if (mode === "crash-on-hello") process.exit(4);
      if (mode === "ignore-pings" && helloCount > 1) return;
      return reply(id, { protocolVersion: mode === "bad-version" ? 999 : ${PROTOCOL_VERSION}, engineVersion: "fake", pid: process.pid });
    case "init":
      ready = true;
      return reply(id, { ...system, gpuRequested: params.gpu });
    case "getSystemInfo":
      // In malformed mode the result breaks the protocol: the host must reject the request, not crash.
      return reply(id, mode === "malformed" ? { backend: "quantum" } : system);
    case "loadModel": {
      if (params.modelPath.includes("broken")) return fail(id, "MODEL_LOAD_FAILED", "The model file is damaged");
      if (params.modelPath.includes("oom")) {
        model = null; draft = null; // like the real engine: the previous model was released before the load
        return fail(id, "OUT_OF_MEMORY", "Not enough memory for a 8192-token context (Failed to create context). Try a smaller context size, fewer cache slots or fewer GPU layers (or a smaller model).");
      }
      // Like the real engine: a target load drops the draft (its compatibility depends on the target).
      draft = null;
      event("modelLoadProgress", { modelPath: params.modelPath, progress: 0.5 });
      if (model) slots.forEach((key) => disk.add(key)); // like the real engine: unloading pages the slots out
      model = loaded(params.modelPath, params);
      slotCount = model.cacheSlots;
      slots = [];
      if (params.cacheDiskBudgetBytes) diskBudgetBytes = params.cacheDiskBudgetBytes;
      event("modelLoadProgress", { modelPath: params.modelPath, progress: 1 });
      return setTimeout(() => reply(id, model), Number(env.TANDEM_FAKE_LOAD_MS || 1));
    }
    case "unloadModel": {
      const had = !!model;
      slots.forEach((key) => disk.add(key));
      slots = [];
      model = null; draft = null; return reply(id, { unloaded: had });
    }
    case "getCacheInfo": return reply(id, cacheInfo());
    case "clearCache": {
      const freed = { deletedStates: disk.size, freedBytes: disk.size * STATE_BYTES };
      disk = new Set();
      slots = [];
      return setTimeout(() => reply(id, freed), 1);
    }
    case "loadDraftModel": {
      if (!model) return fail(id, "NO_MODEL", "Load a target model before a draft model");
      // Like the real engine: a new draft is checked before the one held so far is released.
      const base = require("node:path").basename(params.modelPath);
      if (base.includes("incompatible")) {
        return fail(id, "DRAFT_INCOMPATIBLE", "The draft model's tokenizer differs from the target's: vocabulary size 32000 vs 256");
      }
      if (base.includes("broken")) return fail(id, "MODEL_LOAD_FAILED", "The draft model file is damaged");
      draft = draftInfo(params.modelPath, params);
      return setTimeout(() => reply(id, draft), Number(env.TANDEM_FAKE_LOAD_MS || 1));
    }
    case "unloadDraftModel": { const had = !!draft; draft = null; return reply(id, { unloaded: had }); }
    case "estimateFit": {
      // A canned estimate over the params: 1 GB of weights, 1 MB per context token per slot (256 KB for the draft);
      // a model named *huge* needs 100 GB and gets a suggestion; *notgguf* fails with NOT_GGUF.
      if (params.modelPath.includes("notgguf")) return fail(id, "NOT_GGUF", params.modelPath + " is not a GGUF model");
      const contextSize = params.contextSize === "auto" ? 256 : params.contextSize;
      const cacheSlots = params.cacheSlots === "auto" ? 2 : params.cacheSlots;
      const huge = params.modelPath.includes("huge");
      const parts = [
        { part: "target-weights", ramBytes: huge ? 100e9 : 1e9, vramBytes: 0 },
        { part: "target-context", ramBytes: contextSize * cacheSlots * 1e6, vramBytes: 0 },
      ];
      if (params.draftPath) {
        parts.push({ part: "draft-weights", ramBytes: 0.1e9, vramBytes: 0 }, { part: "draft-context", ramBytes: contextSize * 0.25e6, vramBytes: 0 });
      }
      const ramBytes = parts.reduce((sum, p) => sum + p.ramBytes, 0);
      return reply(id, {
        verdict: huge ? "wont-fit" : "fits", message: huge ? "Needs about 100 GB of RAM but 4.0 GB is free." : "Fits in memory.",
        modelName: require("node:path").basename(params.modelPath), gpuLayers: 0, totalLayers: 8, contextSize, cacheSlots,
        parts, ramBytes, vramBytes: 0, available: { ramBytes: 4e9, vramBytes: 0 }, suggestion: huge ? { contextSize: 512 } : null,
      });
    }
    case "generate": return void generate(id, params);
    case "abort": {
      const state = running.get(params.messageId);
      if (state) state.aborted = true;
      return reply(id, { aborted: !!state });
    }
    case "runBenchmark": return void runBenchmark(id, params);
    case "cancelBenchmark": {
      const hit = !!bench && bench.benchmarkId === params.benchmarkId;
      if (hit) bench.cancelled = true;
      return reply(id, { cancelled: hit });
    }
    case "shutdown":
      if (mode === "ignore-shutdown") return;
      reply(id, {});
      return setTimeout(() => process.exit(0), 5);
    default:
      return fail(id, "UNKNOWN_METHOD", "Unknown method " + method);
  }
});
process.on("disconnect", () => process.exit(0));
`;

/** Writes the fake engine into a fresh temp folder and returns its path. */
export function writeFakeEngine(): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-fake-engine-"));
  const entry = join(dir, "fake-engine.cjs");
  writeFileSync(entry, SCRIPT);
  return entry;
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
