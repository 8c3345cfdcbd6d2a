import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import type { SpeculatorKind } from "../../../contracts/engine/protocol.js";
import { ProbeBackoff, SpeculationCostModel } from "../../../engine/speculation/cost-model.js";
import { SpeculationPolicy } from "../../../engine/speculation/policy.js";
import type { Speculator } from "../../../engine/speculation/speculator.js";

/** A speculator that proposes a fixed continuation and records how it was asked. */
class ScriptedSpeculator implements Speculator {
  asked: number[] = [];
  constructor(
    readonly kind: SpeculatorKind,
    private readonly proposal: Token[],
    /** Answer through a promise, as the draft model does (the cheap speculators answer synchronously). */
    private readonly async = false,
  ) {}
  async begin() {}
  propose(_history: readonly Token[], k: number) {
    this.asked.push(k);
    const proposal = this.proposal.slice(0, k);
    return this.async ? Promise.resolve(proposal) : proposal;
  }
  observe() {}
  async end() {}
}

/** A CPU-like verify curve (each extra position +40%) and a given draft cost. */
function costs(draftMsPerToken = 0.1): SpeculationCostModel {
  const model = new SpeculationCostModel();
  for (let n = 1; n <= 9; n++) model.recordVerify(n, 10 * (1 + 0.4 * (n - 1)));
  model.recordDraft("draft", 1, draftMsPerToken);
  return model;
}

const history = [1, 2, 3] as Token[];

describe("SpeculationPolicy", () => {
  it("off never speculates", async () => {
    const lookup = new ScriptedSpeculator("lookup", [4, 5] as Token[]);
    const policy = new SpeculationPolicy("off", new Map([["lookup", lookup]]), costs(), 8);
    expect((await policy.plan(history, 8)).plan.k).toBe(0);
    expect(lookup.asked).toEqual([]);
  });

  it("an explicit mode drafts with the k that maximises the expected speedup, capped by the budget", async () => {
    const model = costs();
    for (let i = 0; i < 20; i++) model.recordAcceptance("draft", 4, 4); // α close to 1
    const draft = new ScriptedSpeculator("draft", [4, 5, 6, 7, 8, 9, 10, 11] as Token[]);
    const policy = new SpeculationPolicy("draft", new Map([["draft", draft]]), model, 8);
    const { plan, proposal } = await policy.plan(history, 8);
    expect(plan.k).toBe(model.best("draft", 8).k);
    expect(proposal).toHaveLength(plan.k);
    expect((await policy.plan(history, 2)).plan.k).toBeLessThanOrEqual(2);
  });

  it("auto decodes plainly when no speculator is expected to pay, and still scores the cheap ones in the shadow", async () => {
    const model = costs();
    for (let i = 0; i < 30; i++) model.recordAcceptance("lookup", 4, 0); // lookup keeps being wrong
    const lookup = new ScriptedSpeculator("lookup", [4, 5, 6] as Token[]);
    const policy = new SpeculationPolicy("auto", new Map([["lookup", lookup]]), model, 8);
    const before = model.acceptance.get("lookup")!.observations;
    const { plan } = await policy.plan(history, 8);
    expect(plan.k).toBe(0);
    expect(lookup.asked.length).toBe(0); // planning a plain step asks nothing
    policy.idle(history, null); // while the target decodes: the shadow
    expect(lookup.asked.length).toBe(1);
    policy.idle([...history, 4, 5, 6] as Token[], null); // the target then wrote exactly what lookup proposed
    expect(model.acceptance.get("lookup")!.observations).toBe(before + 1);
    expect(policy.lastK).toBe(0);
  });

  it("auto uses a speculator once its acceptance makes it pay", async () => {
    const model = costs();
    for (let i = 0; i < 30; i++) model.recordAcceptance("ngram", 4, 4);
    const ngram = new ScriptedSpeculator("ngram", [4, 5, 6, 7, 8] as Token[]);
    const policy = new SpeculationPolicy("auto", new Map([["ngram", ngram]]), model, 8);
    const { plan, proposal } = await policy.plan(history, 8);
    expect(plan.speculator?.kind).toBe("ngram");
    expect(proposal.length).toBeGreaterThan(0);
  });

  it("auto never tries a draft model whose measured cost could not pay even at high acceptance", async () => {
    const expensive = costs(12); // drafting a token costs more than a target decode
    const draft = new ScriptedSpeculator("draft", [4, 5, 6] as Token[]);
    const policy = new SpeculationPolicy("auto", new Map([["draft", draft]]), expensive, 8);
    expect((await policy.plan(history, 8)).plan.k).toBe(0);
    expect(draft.asked).toEqual([]);

    const cheap = costs(0.1);
    const explored = new SpeculationPolicy("auto", new Map([["draft", draft]]), cheap, 8);
    expect((await explored.plan(history, 8)).plan.speculator?.kind).toBe("draft");
  });

  it("auto plans synchronously with cheap speculators, and through a promise only when a draft model is asked", async () => {
    const model = costs();
    for (let i = 0; i < 30; i++) model.recordAcceptance("ngram", 4, 4);
    const ngram = new ScriptedSpeculator("ngram", [4, 5, 6, 7, 8] as Token[]);
    const sync = new SpeculationPolicy("auto", new Map([["ngram", ngram]]), model, 8).plan(history, 8);
    expect(sync).not.toBeInstanceOf(Promise);
    expect((sync as Awaited<typeof sync>).plan.speculator?.kind).toBe("ngram");

    const draft = new ScriptedSpeculator("draft", [4, 5, 6] as Token[], true);
    const planned = new SpeculationPolicy("auto", new Map([["draft", draft]]), costs(0.1), 8).plan(history, 8);
    expect(planned).toBeInstanceOf(Promise);
    expect((await planned).plan.speculator?.kind).toBe("draft");
  });

  it("auto does no proposal work while planning a paused step, and shadows only on housekeeping steps", async () => {
    const model = costs();
    for (let i = 0; i < 30; i++) model.recordAcceptance("lookup", 4, 0);
    for (let i = 0; i < 30; i++) model.recordAcceptance("ngram", 4, 0);
    const lookup = new ScriptedSpeculator("lookup", [] as Token[]); // nothing to propose: no shadow stays in flight
    const ngram = new ScriptedSpeculator("ngram", [] as Token[]);
    const policy = new SpeculationPolicy("auto", new Map<SpeculatorKind, Speculator>([["lookup", lookup], ["ngram", ngram]]), model, 8);
    for (let step = 0; step < 64; step++) {
      const asked = lookup.asked.length + ngram.asked.length;
      expect(await policy.plan(history, 8)).toMatchObject({ plan: { k: 0 } });
      expect(lookup.asked.length + ngram.asked.length).toBe(asked);
      policy.idle(history, null);
      policy.observe(history);
    }
    // 64 steps = 16 housekeeping steps; both are far from paying, so each is shadowed on one in four of them.
    expect(lookup.asked.length).toBe(4);
    expect(ngram.asked.length).toBe(4);
  });

  it("auto backs a speculator off after real steps that lost time, longer after each loss, until wins repay the loss", async () => {
    const model = costs();
    for (let i = 0; i < 40; i++) model.recordAcceptance("lookup", 4, 4); // the estimate says: speculate
    const lookup = new ScriptedSpeculator("lookup", [4, 5, 6, 7] as Token[]);
    const policy = new SpeculationPolicy("auto", new Map([["lookup", lookup]]), model, 8);
    const backoff = model.backoff.get("lookup")!;
    /** Runs steps until lookup is used again (each used step: `accepted` of the proposal); the plain steps between. */
    const nextUse = async (accepted: number) => {
      let plain = 0;
      for (;;) {
        const { plan, proposal } = await policy.plan(history, 8);
        if (plan.speculator) {
          policy.verified("lookup", proposal.length, accepted);
          return plain;
        }
        plain++;
        expect(plain).toBeLessThan(1000);
      }
    };
    await nextUse(0); // a lost step: paused 1 step
    expect(backoff.pauseSteps).toBe(1);
    expect(await nextUse(0)).toBe(1); // lost again: paused 2
    expect(await nextUse(0)).toBe(2);
    expect(await nextUse(0)).toBe(4);
    expect(backoff.pauseSteps).toBe(8);
    // A win (5 tokens for v(5) = 2.6) after four losses does not yet cover their decayed debt: paused 16.
    expect(await nextUse(4)).toBe(8);
    expect(backoff.pauseSteps).toBe(16);
    expect(await nextUse(4)).toBe(16); // the second win does: no pause
    expect(backoff.pauseSteps).toBe(0);
    expect(await nextUse(4)).toBe(0);
  });

  it("one lost step among steps that pay does not pause a speculator", () => {
    const backoff = new ProbeBackoff();
    backoff.record(2, 1); // k = 4 at v = 2.6: 5 tokens for 2.6
    backoff.record(2, 2);
    backoff.record(-1.6, 3); // nothing accepted
    expect(backoff.paused(4)).toBe(false);
    backoff.record(-1.6, 4); // twice in a row: the credit is gone
    expect(backoff.paused(5)).toBe(true);
    expect(backoff.paused(6)).toBe(false);
  });

  it("the back-off is kept with the model's costs, so it carries into the next reply", async () => {
    const model = costs();
    for (let i = 0; i < 40; i++) model.recordAcceptance("lookup", 4, 4);
    const lookup = new ScriptedSpeculator("lookup", [4, 5, 6, 7] as Token[]);
    const first = new SpeculationPolicy("auto", new Map([["lookup", lookup]]), model, 8);
    for (let i = 0; i < 3; i++) {
      const { proposal } = await first.plan(history, 8);
      first.verified("lookup", proposal.length, 0);
    }
    const next = new SpeculationPolicy("auto", new Map([["lookup", lookup]]), model, 8);
    expect((await next.plan(history, 8)).plan.k).toBe(0);
  });
});
