import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import { PromptLookupSpeculator } from "../../../engine/speculation/prompt-lookup-speculator.js";

const t = (...ids: number[]) => ids as Token[];

describe("PromptLookupSpeculator", () => {
  it("proposes what followed the latest earlier occurrence of the last tokens", async () => {
    const lookup = new PromptLookupSpeculator({ maxNgram: 3, minNgram: 2 });
    await lookup.begin();
    const history = t(1, 2, 3, 4, 5, 9, 9, 2, 3);
    expect(await lookup.propose(history, 2)).toEqual(t(4, 5));
    expect(await lookup.propose(history, 10)).toEqual(t(4, 5, 9, 9, 2, 3));
  });

  it("prefers the longest matching n-gram, and proposes nothing without a match", async () => {
    const lookup = new PromptLookupSpeculator({ maxNgram: 3, minNgram: 2 });
    await lookup.begin();
    // "2 3" occurs twice; only the second occurrence is preceded by 1 like the tail "1 2 3".
    expect(await lookup.propose(t(7, 2, 3, 8, 1, 2, 3, 6, 0, 1, 2, 3), 1)).toEqual(t(6));
    expect(await lookup.propose(t(5, 6, 7, 8), 3)).toEqual([]);
  });

  it("follows a growing history and restarts on a new one", async () => {
    const lookup = new PromptLookupSpeculator({ maxNgram: 2, minNgram: 2 });
    await lookup.begin();
    const history = t(1, 2, 3);
    expect(await lookup.propose(history, 1)).toEqual([]);
    history.push(...t(1, 2));
    expect(await lookup.propose(history, 2)).toEqual(t(3, 1));
    expect(await lookup.propose(t(4, 5, 4, 5), 1)).toEqual(t(4));
  });
});
