import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../engine/engine.js";
import type { ChatMessage, StreamedToken } from "../../contracts/engine/protocol.js";
import { TEST_THREADS, targetModel } from "../helpers/models.js";
import { engineParams } from "../../contracts/engine/protocol.js";

const cacheDir = mkdtempSync(path.join(os.tmpdir(), "tandem-engine-"));
let engine: Engine;

beforeAll(async () => {
  engine = new Engine();
  await engine.init({ gpu: "cpu", cacheDir });
  await engine.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }), () => {});
});
afterAll(async () => {
  await engine?.dispose();
});

let counter = 0;
async function turn(messages: ChatMessage[], options: { maxTokens?: number; temperature?: number; onToken?: (t: StreamedToken) => void } = {}) {
  const tokens: StreamedToken[] = [];
  const result = await engine.generate(
    engineParams("generate", {
      messageId: `g${counter++}`,
      conversationId: "s",
      messages,
      maxTokens: options.maxTokens ?? 48,
      sampling: { temperature: options.temperature ?? 0 },
    }),
    (batch) => {
      for (const token of batch) {
        tokens.push(token);
        options.onToken?.(token);
      }
    },
  );
  return { result, tokens };
}

const verse = (text: string): ChatMessage[] => [{ role: "user", content: text }];

describe("Engine with the real KJV model", () => {
  it("streams tokens whose pieces add up to the reply, with increasing timestamps", async () => {
    const { result, tokens } = await turn(verse("The LORD is my shepherd; I shall not want."));
    expect(tokens.length).toBeGreaterThan(5);
    expect(tokens.length).toBe(result.stats.tokens);
    expect(tokens.map((t) => t.text).join("")).toBe(result.text);
    expect(result.text.length).toBeGreaterThan(10);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!.t).toBeGreaterThanOrEqual(tokens[i - 1]!.t);
    expect(tokens.every((t) => t.source === "target")).toBe(true);
    expect(result.stats.threads).toBe(TEST_THREADS);
    expect(result.stats.tokensPerSecond).toBeGreaterThan(0);
    expect(["eog", "max-tokens"]).toContain(result.stats.stopReason);
  });

  it("is deterministic at temperature 0, whatever was in the context before", async () => {
    const prompt = verse("In the beginning God created the heaven and the earth.");
    const first = await turn(prompt);
    await turn(verse("Blessed are the meek: for they shall inherit the earth."));
    const second = await turn(prompt);
    expect(second.result.text).toBe(first.result.text);
    expect(second.tokens.map((t) => t.id)).toEqual(first.tokens.map((t) => t.id));
  });

  it("matches a fresh engine token for token (prefix reuse does not change the output)", async () => {
    const history: ChatMessage[] = [
      { role: "system", content: "Speak as the prophets." },
      { role: "user", content: "Hear, O Israel: The LORD our God is one LORD." },
    ];
    const reply = await turn(history);
    const next: ChatMessage[] = [...history, { role: "assistant", content: reply.result.text }, { role: "user", content: "And thou shalt love the LORD thy God." }];
    const warm = await turn(next);

    const fresh = new Engine();
    await fresh.init({ gpu: "cpu", cacheDir });
    await fresh.loadModel(engineParams("loadModel", { modelPath: targetModel(), contextSize: 256, threads: TEST_THREADS, gpuLayers: "auto" }), () => {});
    try {
      const cold = await fresh.generate(engineParams("generate", { messageId: "cold", conversationId: "x", messages: next, maxTokens: 48, sampling: { temperature: 0 } }), () => {});
      expect(warm.result.text).toBe(cold.text);
      expect(cold.stats.reusedPromptTokens).toBe(0);
    } finally {
      await fresh.dispose();
    }
  });

  it("reuses the evaluated prefix on the next turn of a conversation", async () => {
    const history: ChatMessage[] = [{ role: "user", content: "Ask, and it shall be given you; seek, and ye shall find." }];
    const first = await turn(history);
    const second = await turn([...history, { role: "assistant", content: first.result.text }, { role: "user", content: "Knock, and it shall be opened unto you." }]);
    const { promptTokens, reusedPromptTokens, evaluatedPromptTokens } = second.result.stats;
    expect(reusedPromptTokens + evaluatedPromptTokens).toBe(promptTokens);
    // Everything up to the end of the first reply was already evaluated.
    expect(reusedPromptTokens).toBeGreaterThanOrEqual(first.result.stats.promptTokens);
    expect(evaluatedPromptTokens).toBeLessThan(promptTokens / 2);
  });

  it("stops within one token of an abort", async () => {
    const controller = { id: `abort-${counter}` };
    let seen = 0;
    let abortedAt = -1;
    const result = await engine.generate(
      engineParams("generate", { messageId: controller.id, conversationId: "s", messages: verse("And the earth was without form, and void."), maxTokens: 200, sampling: { temperature: 0.8, seed: 7 } }),
      () => {
        seen++;
        if (seen === 3) {
          abortedAt = seen;
          expect(engine.abort(controller.id)).toBe(true);
        }
      },
    );
    expect(result.stats.stopReason).toBe("abort");
    expect(abortedAt).toBe(3);
    expect(result.stats.tokens).toBeLessThanOrEqual(abortedAt + 1);
    expect(engine.abort(controller.id)).toBe(false); // no longer running
  });

  it("stops at max tokens", async () => {
    const { result } = await turn(verse("Let there be light."), { maxTokens: 3 });
    expect(result.stats.tokens).toBe(3);
    expect(result.stats.stopReason).toBe("max-tokens");
  });

  it("drops the oldest messages when the history does not fit, keeping the system prompt", async () => {
    const long = "And the LORD spake unto Moses, saying, Speak unto the children of Israel. ";
    const messages: ChatMessage[] = [{ role: "system", content: "Be brief." }];
    for (let i = 0; i < 8; i++) {
      messages.push({ role: "user", content: long + i });
      messages.push({ role: "assistant", content: long });
    }
    messages.push({ role: "user", content: "Amen." });
    const { result } = await turn(messages, { maxTokens: 16 });
    expect(result.stats.truncatedMessages).toBeGreaterThan(0);
    expect(result.stats.promptTokens + 16).toBeLessThanOrEqual(256);
  });

  it("refuses a message that cannot fit the context with PROMPT_TOO_LONG", async () => {
    const huge = "Verily, verily, I say unto thee. ".repeat(80);
    await expect(turn(verse(huge))).rejects.toMatchObject({ code: "PROMPT_TOO_LONG" });
    // The engine still works afterwards.
    const { result } = await turn(verse("Amen."), { maxTokens: 4 });
    expect(result.stats.tokens).toBeGreaterThan(0);
  });

  it("ends with context-full rather than overflowing the context", async () => {
    const filler = "And Jacob went on his way, and the angels of God met him. ".repeat(11);
    const outcomes: string[] = [];
    // Sampled replies end at EOG or at the context's end; try seeds until one reaches the end.
    for (let seed = 1; seed <= 12 && !outcomes.includes("context-full"); seed++) {
      const result = await engine.generate(
        engineParams("generate", { messageId: `full-${seed}`, conversationId: "s", messages: verse(filler), maxTokens: 1000, sampling: { temperature: 1.5, seed } }),
        () => {},
      );
      const { promptTokens, tokens, stopReason } = result.stats;
      expect(promptTokens).toBeGreaterThan(150);
      expect(promptTokens + tokens).toBeLessThanOrEqual(256);
      if (stopReason === "context-full") expect(promptTokens + tokens).toBe(256);
      outcomes.push(stopReason);
    }
    expect(outcomes).toContain("context-full");
  });
});
