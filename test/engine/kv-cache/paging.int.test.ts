import { readdir, truncate } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Engine } from "../../../engine/engine.js";
import type { ChatMessage } from "../../../contracts/engine/protocol.js";
import { followUp, kjvEngine, tempDir, turn, verses } from "./helpers.js";

const engines: Engine[] = [];
async function open(...args: Parameters<typeof kjvEngine>) {
  const made = await kjvEngine(...args);
  engines.push(made.engine);
  return made;
}
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.dispose();
});

const user = (text: string): ChatMessage[] => [{ role: "user", content: text }];

describe("paged KV cache with the real KJV model", () => {
  for (const mode of ["off", "draft"] as const) {
    it(`a conversation paged out and back in continues token for token (speculation ${mode})`, async () => {
      const reference = (await open(tempDir("ref"), { slots: 2, draft: mode === "draft" })).engine;
      const first = await turn(reference, "a", user(verses[0]!), mode);
      const next = followUp(user(verses[0]!), first, verses[1]!);
      const expected = await turn(reference, "a", next, mode);
      expect(expected.result.stats.cache?.outcome).toBe("slot-hit");

      const { engine } = await open(tempDir("paged"), { slots: 1, draft: mode === "draft" });
      expect((await turn(engine, "a", user(verses[0]!), mode)).ids).toEqual(first.ids);
      expect((await turn(engine, "b", user(verses[2]!), mode)).result.stats.cache?.outcome).toBe("cold"); // pages a out
      const resumed = await turn(engine, "a", next, mode);
      expect(resumed.result.stats.cache?.outcome).toBe("disk-restore");
      expect(resumed.result.stats.cache?.restoredTokens).toBeGreaterThan(10);
      expect(resumed.result.stats.evaluatedPromptTokens).toBe(expected.result.stats.evaluatedPromptTokens);
      expect(resumed.ids).toEqual(expected.ids);
    });
  }

  it("a new conversation sharing a system prompt and opening reuses another's state, evaluating fewer tokens", async () => {
    const system = `Thou art a scribe of the king. ${verses.join(" ")}`;
    const opening = (question: string): ChatMessage[] => [
      { role: "system", content: system },
      { role: "user", content: question },
    ];
    const cold = (await open(tempDir("cold"))).engine;
    const expected = await turn(cold, "y", opening("Who is like unto thee?"));

    const { engine } = await open(tempDir("prefix"), { slots: 1 });
    await turn(engine, "x", opening("What is man, that thou art mindful of him?"));
    const reused = await turn(engine, "y", opening("Who is like unto thee?"));
    expect(reused.result.stats.cache?.outcome).toBe("prefix-reuse");
    expect(reused.result.stats.reusedPromptTokens).toBeGreaterThanOrEqual(64);
    expect(reused.result.stats.evaluatedPromptTokens).toBeLessThan(expected.result.stats.evaluatedPromptTokens - 60);
    expect(reused.ids).toEqual(expected.ids);
  });

  it("pages out the least recently used idle conversation", async () => {
    const { engine } = await open(tempDir("lru"), { slots: 2 });
    await turn(engine, "a", user(verses[0]!));
    await turn(engine, "b", user(verses[1]!));
    expect((await turn(engine, "a", user(verses[0]!))).result.stats.cache?.outcome).toBe("slot-hit");
    await turn(engine, "c", user(verses[2]!)); // b is the least recently used: paged out
    expect((await turn(engine, "a", user(verses[0]!))).result.stats.cache?.outcome).toBe("slot-hit");
    expect((await turn(engine, "b", user(verses[1]!))).result.stats.cache?.outcome).toBe("disk-restore"); // c goes
    expect((await turn(engine, "c", user(verses[2]!))).result.stats.cache?.outcome).toBe("disk-restore"); // a goes
  });

  it("a disk budget smaller than one state keeps nothing, and replies still work", async () => {
    const { engine } = await open(tempDir("budget"), { slots: 1, diskBudgetBytes: 1 });
    const first = await turn(engine, "a", user(verses[0]!));
    await turn(engine, "b", user(verses[1]!));
    const again = await turn(engine, "a", user(verses[0]!));
    expect(again.result.stats.cache?.outcome).toBe("cold");
    expect(again.ids).toEqual(first.ids);
  });

  it("a full disk while paging out is a warning; the replies still work", async () => {
    const { engine, warnings } = await open(tempDir("enospc"), {
      slots: 1,
      engine: {
        kvStateSaver: () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })),
      },
    });
    const first = await turn(engine, "a", user(verses[0]!));
    const other = await turn(engine, "b", user(verses[1]!));
    expect(other.result.text.length).toBeGreaterThan(0);
    expect(warnings.join("\n")).toMatch(/ENOSPC/);
    const again = await turn(engine, "a", user(verses[0]!));
    expect(again.result.stats.cache?.outcome).toBe("cold");
    expect(again.ids).toEqual(first.ids);
  });

  it("after a restart, resuming a conversation restores it from disk", async () => {
    const cacheDir = tempDir("restart");
    const before = (await open(cacheDir)).engine;
    const first = await turn(before, "a", user(verses[3]!));
    const next = followUp(user(verses[3]!), first, verses[4]!);
    const expected = await turn(before, "a", next);
    await before.dispose(); // saves the slots
    engines.splice(engines.indexOf(before), 1);

    const { engine } = await open(cacheDir);
    const resumed = await turn(engine, "a", next);
    expect(resumed.result.stats.cache?.outcome).toBe("disk-restore");
    expect(resumed.ids).toEqual(expected.ids);
  });

  it("a state truncated on disk is deleted with a warning and the prompt re-evaluated", async () => {
    const cacheDir = tempDir("corrupt");
    const before = (await open(cacheDir)).engine;
    const first = await turn(before, "a", user(verses[5]!));
    await before.dispose();
    engines.splice(engines.indexOf(before), 1);
    const folder = path.join(cacheDir, "kv", (await readdir(path.join(cacheDir, "kv")))[0]!);
    const stateFile = (await readdir(folder)).find((name) => name.endsWith(".state"))!;
    await truncate(path.join(folder, stateFile), 100);

    const { engine, warnings } = await open(cacheDir);
    const again = await turn(engine, "a", user(verses[5]!));
    expect(again.result.stats.cache?.outcome).toBe("cold");
    expect(again.ids).toEqual(first.ids);
    expect(warnings.join("\n")).toMatch(/state file has 100 bytes/);
    expect(await readdir(folder)).toEqual([]);
  });

  it("five conversations of several turns, queued concurrently over two slots, match a never-paged run", async () => {
    const keys = ["c0", "c1", "c2", "c3", "c4"];
    const reference = (await open(tempDir("five-ref"), { slots: 5 })).engine;
    const { engine } = await open(tempDir("five"), { slots: 2 });
    const histories = new Map(keys.map((key, i) => [key, user(verses[i]!)]));
    const refHistories = new Map(histories);
    const outcomes = new Set<string>();
    for (let round = 0; round < 3; round++) {
      // All five replies are requested at once: they queue on the engine's lock and page each other out.
      const paged = await Promise.all(keys.map((key) => turn(engine, key, histories.get(key)!, "off", 16)));
      for (const [i, key] of keys.entries()) {
        const expected = await turn(reference, key, refHistories.get(key)!, "off", 16);
        expect(expected.result.stats.cache?.outcome).toBe(round === 0 ? "cold" : "slot-hit");
        expect(paged[i]!.ids, `${key} round ${round}`).toEqual(expected.ids);
        outcomes.add(paged[i]!.result.stats.cache!.outcome);
        const next = verses[(i + round + 5) % verses.length]!;
        histories.set(key, followUp(histories.get(key)!, paged[i]!, next));
        refHistories.set(key, followUp(refHistories.get(key)!, expected, next));
      }
    }
    expect(outcomes).toContain("disk-restore");
  });
});
