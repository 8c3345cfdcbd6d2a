import type { Token } from "node-llama-cpp";
import type { SpeculationMode, SpeculatorKind } from "../protocol.js";
import type { SpeculationCostModel } from "./cost-model.js";
import type { Speculator } from "./speculator.js";

/** What one decode step does: draft k tokens with `speculator`, or (k = 0) a plain decode. */
export interface StepPlan {
  speculator: Speculator | null;
  k: number;
}

/**
 * Chooses, before every target decode, whether to speculate, with which speculator, and how many tokens.
 *
 * - Explicit modes use their speculator with the k that maximises the expected speedup from measured costs.
 * - `auto` compares the speculators' expected speedups and decodes plainly when none is expected to pay
 *   (S < 1 + margin). The prompt-lookup and n-gram speculators cost next to nothing to ask, so in steps where they
 *   are not used their proposals are still checked against what the target then writes ("shadow" acceptance): the
 *   policy keeps learning their acceptance without paying for a verify. The draft model costs real time, so it
 *   is only tried (a few steps) when its measured draft cost would let even a good acceptance (0.8) pay.
 */
export class SpeculationPolicy {
  private static readonly AUTO_MARGIN = 1.03;
  private static readonly DRAFT_EXPLORATION_STEPS = 6;
  private static readonly OPTIMISTIC_ALPHA = 0.8;
  private shadows: Array<{ kind: SpeculatorKind; proposal: Token[]; at: number }> = [];
  lastK = 0;

  constructor(
    readonly mode: SpeculationMode,
    private readonly speculators: ReadonlyMap<SpeculatorKind, Speculator>,
    private readonly costs: SpeculationCostModel,
    private readonly maxK: number,
  ) {}

  uses(kind: SpeculatorKind): boolean {
    return this.speculators.has(kind);
  }

  async begin(promptTokens: readonly Token[]): Promise<void> {
    this.shadows = [];
    for (const speculator of this.speculators.values()) await speculator.begin(promptTokens);
  }

  /** After each step: score shadow proposals, let speculators learn from the new tokens. */
  observe(history: readonly Token[]): void {
    this.settleShadows(history);
    for (const speculator of this.speculators.values()) speculator.observe(history);
  }

  async end(outputTokens: readonly Token[]): Promise<void> {
    for (const speculator of this.speculators.values()) await speculator.end(outputTokens);
  }

  /** Plans the next step; `budget` caps the drafted tokens (reply tokens left - 1, context room). */
  async plan(history: readonly Token[], budget: number): Promise<{ plan: StepPlan; proposal: Token[] }> {
    const maxK = Math.min(this.maxK, budget);
    if (this.mode === "off" || maxK < 1) return this.plain();
    if (this.mode !== "auto") {
      const speculator = this.speculators.get(this.mode);
      if (!speculator) return this.plain();
      const { k } = this.costs.best(this.mode, maxK);
      this.lastK = k;
      return { plan: { speculator, k }, proposal: await speculator.propose(history, k) };
    }

    const candidates = [...this.speculators.values()]
      .map((speculator) => ({ speculator, estimate: this.estimate(speculator.kind, maxK) }))
      .filter((c) => c.estimate.speedup >= SpeculationPolicy.AUTO_MARGIN)
      .sort((a, b) => b.estimate.speedup - a.estimate.speedup);
    for (const { speculator, estimate } of candidates) {
      const proposal = await speculator.propose(history, estimate.k);
      if (proposal.length === 0) continue;
      this.lastK = estimate.k;
      await this.shadow(history, maxK, speculator.kind);
      return { plan: { speculator, k: estimate.k }, proposal };
    }
    this.lastK = 0;
    await this.shadow(history, maxK, null);
    return { plan: { speculator: null, k: 0 }, proposal: [] };
  }

  private plain(): { plan: StepPlan; proposal: Token[] } {
    this.lastK = 0;
    return { plan: { speculator: null, k: 0 }, proposal: [] };
  }

  private estimate(kind: SpeculatorKind, maxK: number) {
    if (kind === "draft" && this.costs.acceptance.get("draft")!.observations < SpeculationPolicy.DRAFT_EXPLORATION_STEPS) {
      // Unexplored: worth trying only if a good acceptance would pay at the measured draft cost.
      const optimistic = this.costs.best("draft", maxK, { alphaOverride: SpeculationPolicy.OPTIMISTIC_ALPHA });
      return optimistic.speedup >= SpeculationPolicy.AUTO_MARGIN ? optimistic : { ...optimistic, speedup: 0 };
    }
    return this.costs.best(kind, maxK);
  }

  /** Records what the cheap speculators would have proposed now, to score them against the coming tokens. */
  private async shadow(history: readonly Token[], maxK: number, used: SpeculatorKind | null): Promise<void> {
    for (const speculator of this.speculators.values()) {
      if (speculator.kind === used || speculator.kind === "draft") continue;
      const proposal = await speculator.propose(history, this.costs.best(speculator.kind, maxK).k);
      if (proposal.length > 0) this.shadows.push({ kind: speculator.kind, proposal, at: history.length });
    }
  }

  /** Scores pending shadow proposals against the tokens emitted since they were made. */
  settleShadows(history: readonly Token[]): void {
    for (const shadow of this.shadows) {
      const emitted = history.slice(shadow.at, shadow.at + shadow.proposal.length);
      const checked = Math.min(emitted.length, shadow.proposal.length);
      let accepted = 0;
      while (accepted < checked && emitted[accepted] === shadow.proposal[accepted]) accepted++;
      this.costs.recordAcceptance(shadow.kind, checked, accepted);
    }
    this.shadows = [];
  }
}
