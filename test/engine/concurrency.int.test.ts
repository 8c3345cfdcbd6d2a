/**
 * Replies on different conversations run at the same time, each on its own slot, with their decodes batched; their
 * tokens are exactly those of the same replies run one after another, in every speculation mode.
 */
import { describe, expect, it } from "vitest";
import type { Engine } from "../../engine/engine.js";
import type { ActiveModel } from "../../engine/model-loader.js";
import { engineTracker, tempDir, turn, verses } from "./kv-cache/helpers.js";

const engines = engineTracker();

/** Counts llama.cpp decode calls on the engine's target context (node-llama-cpp 3.21.1's native context). */
function countDecodes(engine: Engine): { calls: () => number } {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the native context has no public type
  const context = (engine as unknown as { active: ActiveModel }).active.context as any;
  const native = context._ctx;
  let calls = 0;
  // The native object's methods are read-only: a proxy counts the calls and hands every member over, bound to it.
  context._ctx = new Proxy(native, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (key === "decodeBatch") {
        return (...args: unknown[]) => {
          calls++;
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { calls: () => calls };
}

describe("concurrent replies", () => {
  for (const mode of ["off", "draft", "auto"] as const) {
    it(`four conversations at once (${mode}): the same tokens as one at a time, with batched decodes`, async () => {
      const sequential = await engines.open(tempDir(`seq-${mode}`), { slots: 4, draft: mode !== "off" });
      const expected: number[][] = [];
      for (const [i, verse] of verses.slice(0, 4).entries()) expected.push((await turn(sequential.engine, `c${i}`, [{ role: "user", content: verse }], mode, 40)).ids);

      const { engine } = await engines.open(tempDir(`par-${mode}`), { slots: 4, draft: mode !== "off" });
      // Warm the speculation state (verify-curve calibration) outside the measured overlap.
      await turn(engine, "warm", [{ role: "user", content: verses[7]! }], mode, 8);
      const decodes = countDecodes(engine);
      const replies = await Promise.all(verses.slice(0, 4).map((verse, i) => turn(engine, `c${i}`, [{ role: "user", content: verse }], mode, 40)));

      expect(replies.map((r) => r.ids)).toEqual(expected);
      for (const reply of replies) expect(reply.result.stats.tokens).toBeGreaterThan(0);
      // They ran at the same time and their decodes went to llama.cpp together: far fewer decode calls than the
      // replies' target decodes added up (one at a time, every target decode is a call of its own; measured ~0.35).
      const targetDecodes = replies.reduce((sum, r) => sum + r.result.stats.targetDecodes, 0);
      expect(decodes.calls()).toBeLessThan(targetDecodes * 0.6);
    });
  }

  it("more conversations than slots: each waits for a slot and still gets its own tokens", async () => {
    const sequential = await engines.open(tempDir("seq-many"), { slots: 2 });
    const expected: number[][] = [];
    for (const [i, verse] of verses.slice(0, 6).entries()) expected.push((await turn(sequential.engine, `m${i}`, [{ role: "user", content: verse }])).ids);
    const { engine } = await engines.open(tempDir("par-many"), { slots: 2 });
    const replies = await Promise.all(verses.slice(0, 6).map((verse, i) => turn(engine, `m${i}`, [{ role: "user", content: verse }])));
    expect(replies.map((r) => r.ids)).toEqual(expected);
  });

  it("two replies on one conversation at once take turns on its slot", async () => {
    const { engine } = await engines.open(tempDir("same-key"), { slots: 2 });
    const messages = [{ role: "user" as const, content: verses[1]! }];
    const [a, b] = await Promise.all([turn(engine, "same", messages), turn(engine, "same", messages)]);
    expect(b.ids).toEqual(a.ids);
    // The second found the first's slot: only the last prompt token was evaluated again.
    const outcomes = [a.result.stats.cache!.outcome, b.result.stats.cache!.outcome].sort();
    expect(outcomes).toEqual(["cold", "slot-hit"]);
  });
});
