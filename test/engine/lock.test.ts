import { describe, expect, it } from "vitest";
import { Mutex, SharedLock } from "../../engine/lock.js";

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

describe("SharedLock", () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("lets shared holders run together, an exclusive one alone, and a waiting exclusive one ahead of later shared ones", async () => {
    const lock = new SharedLock();
    const order: string[] = [];
    const hold = (name: string, exclusive: boolean, ms: number) =>
      lock[exclusive ? "exclusive" : "shared"](async () => {
        order.push(`${name}:start`);
        await tick(ms);
        order.push(`${name}:end`);
      });
    const a = hold("a", false, 30);
    const b = hold("b", false, 10);
    const load = hold("load", true, 10);
    const c = hold("c", false, 1); // arrives after the exclusive holder: waits for it
    await Promise.all([a, b, load, c]);
    expect(order).toEqual(["a:start", "b:start", "b:end", "a:end", "load:start", "load:end", "c:start", "c:end"]);
    expect(lock.locked).toBe(false);
  });

  it("releases on failure", async () => {
    const lock = new SharedLock();
    await expect(lock.exclusive(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    await expect(lock.shared(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(await lock.exclusive(async () => "ok")).toBe("ok");
    expect(lock.locked).toBe(false);
  });
});
