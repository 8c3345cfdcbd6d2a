/** A damaged n-gram table file: an order far past any real table is refused, so loading starts a new table. */
import { describe, expect, it } from "vitest";
import { NgramTable, NGRAM_FILE_VERSION } from "../../../engine/speculation/ngram-table.js";

const model = { path: "/m/a.gguf", size: 10 };
const file = (order: unknown) => ({ version: NGRAM_FILE_VERSION, model, order, entries: [["1,2", [[3, 2]]]] });

describe("NgramTable.fromJSON and the file's order", () => {
  it("accepts the orders a table is built with", () => {
    expect(NgramTable.fromJSON(file(3), {}, model).order).toBe(3);
    expect(NgramTable.fromJSON(file(undefined), { order: 2 }, model).order).toBe(2);
  });

  it("refuses an order that would make learning build huge keys", () => {
    for (const order of [0, -1, 2.5, 100_000, "3", null]) {
      expect(() => NgramTable.fromJSON(file(order), {}, model)).toThrow(/order/);
    }
  });
});
