import { describe, expect, it } from "vitest";
import { Mutex } from "../../engine/lock.js";

describe("Mutex", () => {
  it("runs work one at a time in arrival order, and survives failures", async () => {
    const lock = new Mutex();
    const order: string[] = [];
    const slow = (name: string, ms: number) => lock.run(async () => {
      order.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${name}:end`);
      return name;
    });
    const a = slow("a", 20);
    const failing = lock.run(async () => {
      order.push("fail");
      throw new Error("boom");
    });
    const results = await Promise.allSettled([a, failing, slow("b", 1)]);
    expect(order).toEqual(["a:start", "a:end", "fail", "b:start", "b:end"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(lock.locked).toBe(false);
  });
});
