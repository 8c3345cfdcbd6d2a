import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { Engine, type EngineOptions } from "../../../engine/engine.js";
import type { ChatMessage, GenerationResult, SpeculationMode } from "../../../contracts/engine/protocol.js";
import { TEST_THREADS, sharedModel, targetModel } from "../../helpers/models.js";
import { engineParams } from "../../../contracts/engine/protocol.js";

export const tempDir = (name: string) => mkdtempSync(path.join(os.tmpdir(), `tandem-kv-${name}-`));

export interface TestEngine {
  engine: Engine;
  warnings: string[];
}

/** An engine with the KJV model (context 256, 1 thread) and `slots` conversation slots. */
export async function kjvEngine(
  cacheDir: string,
  options: { slots?: number; draft?: boolean; contextSize?: number; diskBudgetBytes?: number; engine?: EngineOptions } = {},
): Promise<TestEngine> {
  const warnings: string[] = [];
  const engine = new Engine((level, message) => {
    if (level === "warn") warnings.push(message);
  }, options.engine);
  await engine.init({ gpu: "cpu", cacheDir });
  await engine.loadModel(
    engineParams("loadModel", { modelPath: targetModel(), contextSize: options.contextSize ?? 256, threads: TEST_THREADS, gpuLayers: "auto", cacheSlots: options.slots ?? 2, cacheDiskBudgetBytes: options.diskBudgetBytes }),
    () => {},
  );
  if (options.draft) await engine.loadDraftModel({ modelPath: sharedModel("kjv-chat-draft-1m.gguf"), threads: TEST_THREADS });
  return { engine, warnings };
}

let counter = 0;

/**
 * KJV engines opened by a test file, each disposed after its test; `quit` disposes one at once, which pages its slots
 * out to disk, as an app quitting does.
 */
export function engineTracker() {
  const engines: Engine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.dispose();
  });
  return {
    async open(...args: Parameters<typeof kjvEngine>): Promise<TestEngine> {
      const made = await kjvEngine(...args);
      engines.push(made.engine);
      return made;
    },
    /** Tracks an engine made some other way. */
    track(engine: Engine): Engine {
      engines.push(engine);
      return engine;
    },
    async quit(engine: Engine): Promise<void> {
      engines.splice(engines.indexOf(engine), 1);
      await engine.dispose();
    },
  };
}

export interface Turn {
  result: GenerationResult;
  ids: number[];
}

/** One greedy turn of conversation `conversationId`. */
export async function turn(engine: Engine, conversationId: string, messages: ChatMessage[], mode: SpeculationMode = "off", maxTokens = 24): Promise<Turn> {
  const ids: number[] = [];
  const result = await engine.generate(
    { messageId: `kv${counter++}`, conversationId, messages, maxTokens, sampling: { temperature: 0 }, speculation: { mode, maxDraftTokens: 4 } },
    (batch) => ids.push(...batch.map((t) => t.id)),
  );
  return { result, ids };
}

/** A conversation's history after its reply, plus the next user message. */
export function followUp(messages: ChatMessage[], reply: Turn, next: string): ChatMessage[] {
  return [...messages, { role: "assistant", content: reply.result.text }, { role: "user", content: next }];
}

export const verses = [
  "In the beginning God created the heaven and the earth.",
  "The LORD is my shepherd; I shall not want.",
  "Blessed are the meek: for they shall inherit the earth.",
  "And God said, Let there be light: and there was light.",
  "Hear, O Israel: The LORD our God is one LORD.",
  "For God so loved the world, that he gave his only begotten Son.",
  "Honour thy father and thy mother.",
  "Thy word is a lamp unto my feet, and a light unto my path.",
];
