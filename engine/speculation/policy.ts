import type { Token } from "node-llama-cpp";
import type { SpeculationMode, SpeculatorKind } from "../protocol.js";
import type { SpeculationCostModel, SpeedupEstimate } from "./cost-model.js";
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
  /**
   * Expected speedups within 10% of break-even are within the estimates' noise (acceptance comes in bursts):
   * decode plainly. Measured on the KJV pair, a 5% margin still lost ~3% to steps that did not pay.
   */
  private static readonly AUTO_MARGIN = 1.1;
  private static readonly DRAFT_EXPLORATION_STEPS = 6;
  private static readonly OPTIMISTIC_ALPHA = 0.8;
  private shadows: Array<{ kind: SpeculatorKind; proposal: Token[]; at: number }> = [];
  /** Steps to wait before a speculator's next shadow: scoring every step costs ~2% on a 1 ms/token model. */
  private readonly shadowCooldown = new Map<SpeculatorKind, number>();
  private static readonly SHADOW_INTERVAL = 4;
  /** A speculator estimated far from paying (S < 0.9) is scored 4x less often: it has to change a lot to matter. */
  private static readonly FAR_SHADOW_INTERVAL = 16;
  /** Auto's estimates, refreshed every few steps: they move slowly, and on a small model every microsecond counts. */
  private estimates: Array<{ speculator: Speculator; estimate: SpeedupEstimate }> | undefined;
  private estimatesAge = 0;
  private estimatesMaxK = 0;
  private static readonly ESTIMATE_REFRESH_STEPS = 4;
  /** Shadow proposals are scored on this many positions (enough to see how acceptance falls with depth). */
  private static readonly SHADOW_LENGTH = 4;
  lastK = 0;

  constructor(
    readonly mode: SpeculationMode,
    private readonly speculators: ReadonlyMap<SpeculatorKind, Speculator>,
    private readonly costs: SpeculationCostModel,
    private readonly maxK: number,
  ) {}

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

    if (!this.estimates || this.estimatesMaxK !== maxK || ++this.estimatesAge >= SpeculationPolicy.ESTIMATE_REFRESH_STEPS) {
      this.estimates = [...this.speculators.values()]
        .map((speculator) => ({ speculator, estimate: this.estimate(speculator.kind, maxK) }))
        .filter((c) => c.estimate.speedup >= SpeculationPolicy.AUTO_MARGIN)
        .sort((a, b) => b.estimate.speedup - a.estimate.speedup);
      this.estimatesAge = 0;
      this.estimatesMaxK = maxK;
    }
    for (const { speculator, estimate } of this.estimates) {
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
    return this.costs.best(kind, maxK, { alphaOverride: this.costs.acceptance.get(kind)!.cautiousAlpha });
  }

  /**
   * Records what a cheap speculator would have proposed now, to score it against the coming tokens. One shadow
   * per speculator is in flight at a time: that bounds the cost, and each is scored on its whole length.
   */
  private async shadow(history: readonly Token[], maxK: number, used: SpeculatorKind | null): Promise<void> {
    for (const speculator of this.speculators.values()) {
      if (speculator.kind === used || speculator.kind === "draft") continue;
      if (this.shadows.some((s) => s.kind === speculator.kind)) continue;
      const wait = this.shadowCooldown.get(speculator.kind) ?? 0;
      if (wait > 0) {
        this.shadowCooldown.set(speculator.kind, wait - 1);
        continue;
      }
      const far = this.costs.best(speculator.kind, maxK).speedup < 0.9;
      this.shadowCooldown.set(speculator.kind, far ? SpeculationPolicy.FAR_SHADOW_INTERVAL : SpeculationPolicy.SHADOW_INTERVAL);
      const proposal = await speculator.propose(history, Math.min(maxK, SpeculationPolicy.SHADOW_LENGTH));
      if (proposal.length > 0) this.shadows.push({ kind: speculator.kind, proposal, at: history.length });
    }
  }

  /**
   * Scores shadow proposals as a verify step would have: accepted up to the first mismatch. A shadow is scored
   * once it is decided — a mismatch was emitted, or all of its positions were — because scoring only the first
   * position (the one a plain step reveals) would overrate speculators whose first guess is their best.
   */
  settleShadows(history: readonly Token[]): void {
    this.shadows = this.shadows.filter((shadow) => {
      const emitted = history.slice(shadow.at, shadow.at + shadow.proposal.length);
      let matched = 0;
      while (matched < emitted.length && emitted[matched] === shadow.proposal[matched]) matched++;
      const decided = matched < emitted.length || emitted.length === shadow.proposal.length;
      if (decided) this.costs.recordAcceptance(shadow.kind, shadow.proposal.length, matched);
      return !decided;
    });
  }
}
