import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import { ngramTablePath } from "../../../engine/cache-layout.js";
import { NgramTable, loadNgramTable, saveNgramTable } from "../../../engine/speculation/ngram-table.js";
import { NgramSpeculator } from "../../../engine/speculation/ngram-speculator.js";

const t = (...ids: number[]) => ids as Token[];

describe("NgramTable", () => {
  it("predicts a continuation only once it is confident", () => {
    const table = new NgramTable({ order: 2, minCount: 2, minShare: 0.6 });
    table.learn(t(1, 2, 3));
    expect(table.predict(t(1, 2))).toBeNull(); // seen once
    table.learn(t(1, 2, 3));
    expect(table.predict(t(1, 2))).toBe(3);
    table.learn(t(1, 2, 4));
    table.learn(t(1, 2, 4));
    expect(table.predict(t(1, 2))).toBeNull(); // 3 and 4 tie: not confident
    expect(table.predict(t(9, 1))).toBe(2); // falls back to the shorter context "1"
  });

  it("stays within its size bound, dropping contexts seen once first", () => {
    const table = new NgramTable({ order: 1, maxContexts: 10, minCount: 1 });
    table.learn(t(500, 501, 500, 501)); // context 500 -> 501 seen twice
    for (let i = 0; i < 40; i++) table.learn(t(i, i + 1000));
    expect(table.size).toBeLessThanOrEqual(10);
    expect(table.predict(t(500))).toBe(501);
  });

  it("survives a restart and rebuilds a corrupted file with a warning", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-ngram-"));
    const model = path.join(dir, "model.gguf");
    writeFileSync(model, "GGUF-ish");
    const table = new NgramTable({ minCount: 1 });
    table.learn(t(7, 8, 9, 7, 8, 9));
    await saveNgramTable(dir, model, table);

    const warnings: string[] = [];
    const loaded = await loadNgramTable(dir, model, { minCount: 1 }, (m) => warnings.push(m));
    expect(loaded.size).toBe(table.size);
    expect(loaded.predict(t(7, 8))).toBe(9);
    expect(warnings).toEqual([]);

    const file = ngramTablePath(dir, model, 8);
    expect(JSON.parse(readFileSync(file, "utf8")).version).toBe(1);
    writeFileSync(file, '{"version":1,"model":{"path":"x"'); // truncated
    const rebuilt = await loadNgramTable(dir, model, {}, (m) => warnings.push(m));
    expect(rebuilt.size).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unreadable.*starting a new one/);

    writeFileSync(file, JSON.stringify({ version: 99, entries: [] }));
    expect((await loadNgramTable(dir, model, {}, (m) => warnings.push(m))).size).toBe(0);
    expect(warnings[1]).toMatch(/version 99/);
  });
});

describe("NgramSpeculator", () => {
  it("chains confident predictions from the table, stopping where it is not confident", async () => {
    const table = new NgramTable({ order: 2, minCount: 1 });
    const speculator = new NgramSpeculator(table);
    const prompt = t(1, 2, 3, 4);
    table.learn([...prompt, ...t(5, 6, 7)], prompt.length); // a finished reply: only its own tokens are learned
    await speculator.begin();
    expect(await speculator.propose(t(9, 5), 3)).toEqual(t(6, 7));
    expect(await speculator.propose(t(9, 2), 3)).toEqual([]); // the prompt's pairs were not learned
  });
});
