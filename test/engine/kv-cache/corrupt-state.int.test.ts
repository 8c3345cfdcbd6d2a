import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stateIdFor } from "../../../engine/kv-cache/state-store.js";
import type { ChatMessage } from "../../../contracts/engine/protocol.js";
import { engineTracker, followUp, tempDir, turn, verses } from "./helpers.js";

/**
 * A corrupt state file, when it is the one being loaded: refused (deleted, with a warning naming it) and the reply
 * re-prefilled to exactly what plain decoding gives. Each test checks which state was actually loaded — the cache
 * outcome, the restored token count and which files remain — because prefix reuse from another conversation can
 * produce the right reply without the corrupt file ever being read.
 *
 * The corruption keeps the file's size (a truncated file is caught by the size check at open, see paging.int.test):
 * one byte of K/V data flipped, which llama.cpp loads without any error, and the file's magic, which it refuses.
 */

const { open, quit } = engineTracker();

const user = (text: string): ChatMessage[] => [{ role: "user", content: text }];
const kvFolder = async (cacheDir: string) => path.join(cacheDir, "kv", (await readdir(path.join(cacheDir, "kv")))[0]!);
const stateFile = async (cacheDir: string, conversationId: string) => path.join(await kvFolder(cacheDir), `${stateIdFor(conversationId)}.state`);

type Corruption = (bytes: Buffer) => void;
const corruptions: Array<[string, Corruption]> = [
  ["a flipped byte in the K/V data", (bytes) => void (bytes[Math.floor(bytes.length * 0.8)]! ^= 0x40)],
  ["a zeroed magic number", (bytes) => void bytes.fill(0, 0, 4)],
];

async function corrupt(file: string, how: Corruption): Promise<void> {
  const bytes = await readFile(file);
  const size = bytes.length;
  how(bytes);
  await writeFile(file, bytes);
  expect((await readFile(file)).length).toBe(size);
}

describe("a corrupt saved state is refused when it is the one being loaded (real KJV model)", () => {
  for (const [what, how] of corruptions) {
    it(`the only candidate, after a restart (${what}): deleted with a warning, the reply re-prefilled identically`, async () => {
      const first = user(verses[1]!);
      const reference = (await open(tempDir("ref"))).engine;
      const firstReply = await turn(reference, "a", first);
      const next = followUp(first, firstReply, verses[2]!);
      const expected = await turn(reference, "a", next);

      const cacheDir = tempDir("corrupt-only");
      const before = (await open(cacheDir)).engine;
      expect((await turn(before, "a", first)).ids).toEqual(firstReply.ids);
      await quit(before);
      await corrupt(await stateFile(cacheDir, "a"), how);

      const { engine, warnings } = await open(cacheDir);
      expect(warnings).toEqual([]); // the size is right: only reading the file can tell
      const again = await turn(engine, "a", next);
      const id = stateIdFor("a");
      expect(warnings.join("\n")).toMatch(new RegExp(`Deleted the saved conversation state ${id}: its state file is corrupt \\(CRC-32 [0-9a-f]{8}, saved as [0-9a-f]{8}\\)`));
      expect(again.result.stats.cache).toMatchObject({ outcome: "cold", restoredTokens: 0 });
      expect(again.result.stats.evaluatedPromptTokens).toBe(again.result.stats.promptTokens);
      expect(again.ids).toEqual(expected.ids);
      expect(await readdir(await kvFolder(cacheDir))).toEqual([]);
    });
  }

  it("corrupted while the engine runs, after this process wrote it: the changed file is checked again and refused", async () => {
    const first = user(verses[3]!);
    const reference = (await open(tempDir("ref-live"), { slots: 2 })).engine;
    const firstReply = await turn(reference, "a", first);
    const next = followUp(first, firstReply, verses[4]!);
    const expected = await turn(reference, "a", next);

    const cacheDir = tempDir("corrupt-live");
    const { engine, warnings } = await open(cacheDir, { slots: 1 });
    await turn(engine, "a", first);
    await turn(engine, "b", user(verses[5]!)); // pages a out
    await corrupt(await stateFile(cacheDir, "a"), corruptions[0]![1]);
    const again = await turn(engine, "a", next); // pages b out, then tries a's state
    expect(warnings.join("\n")).toMatch(new RegExp(`Deleted the saved conversation state ${stateIdFor("a")}: its state file is corrupt`));
    expect(again.result.stats.cache?.outcome).toBe("cold");
    expect(again.ids).toEqual(expected.ids);
    expect(await readdir(await kvFolder(cacheDir))).toEqual([`${stateIdFor("b")}.json`, `${stateIdFor("b")}.state`].sort());
  });

  it("with another conversation sharing its prefix: the corrupt state is refused, and the other's is reused for the shared part", async () => {
    // A long shared system prompt: both conversations' states begin with the same 100+ tokens.
    const system = `Thou art a scribe of the king. ${verses.slice(0, 6).join(" ")}`;
    const opening = (question: string): ChatMessage[] => [
      { role: "system", content: system },
      { role: "user", content: question },
    ];
    const reference = (await open(tempDir("ref-shared"))).engine;
    const firstReply = await turn(reference, "a", opening(verses[6]!));
    const next = followUp(opening(verses[6]!), firstReply, verses[7]!);
    const expected = await turn(reference, "a", next);

    const cacheDir = tempDir("corrupt-shared");
    const before = (await open(cacheDir)).engine;
    await turn(before, "a", opening(verses[6]!));
    const other = await turn(before, "b", opening(verses[7]!));
    await quit(before); // both slots saved
    await corrupt(await stateFile(cacheDir, "a"), corruptions[0]![1]);

    const { engine, warnings } = await open(cacheDir);
    const again = await turn(engine, "a", next);
    expect(warnings.join("\n")).toMatch(new RegExp(`Deleted the saved conversation state ${stateIdFor("a")}: its state file is corrupt`));
    expect(warnings.join("\n")).not.toMatch(new RegExp(stateIdFor("b")));
    // b's state was loaded for the system prompt they share, not a's for the whole conversation.
    expect(again.result.stats.cache?.outcome).toBe("prefix-reuse");
    // At least one 64-token block of the system prompt, but less than a's own state would give (its whole first turn).
    expect(again.result.stats.cache?.restoredTokens).toBeGreaterThanOrEqual(64);
    expect(again.result.stats.cache?.restoredTokens).toBeLessThan(expected.result.stats.reusedPromptTokens);
    expect(again.result.stats.cache?.restoredTokens).toBeLessThan(other.result.stats.promptTokens);
    expect(again.result.stats.evaluatedPromptTokens).toBeGreaterThan(expected.result.stats.evaluatedPromptTokens);
    expect(again.ids).toEqual(expected.ids);
    expect(await readdir(await kvFolder(cacheDir))).toEqual([`${stateIdFor("b")}.json`, `${stateIdFor("b")}.state`].sort());
  });
});
