import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import type { SpeculatorKind } from "../../../engine/protocol.js";
import { SpeculationCostModel } from "../../../engine/speculation/cost-model.js";
import { SpeculationPolicy } from "../../../engine/speculation/policy.js";
import type { Speculator } from "../../../engine/speculation/speculator.js";

/** A speculator that proposes a fixed continuation and records how it was asked. */
class ScriptedSpeculator implements Speculator {
  asked: number[] = [];
  constructor(
    readonly kind: SpeculatorKind,
    private readonly proposal: Token[],
  ) {}
  async begin() {}
  async propose(_history: readonly Token[], k: number) {
    this.asked.push(k);
    return this.proposal.slice(0, k);
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
    expect(lookup.asked.length).toBe(1); // asked for the shadow only
    policy.observe([...history, 4, 5, 6] as Token[]); // the target then wrote exactly what lookup proposed
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
});
