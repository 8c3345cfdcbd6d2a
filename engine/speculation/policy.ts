import type { Token } from "node-llama-cpp";
import type { SpeculationMode, SpeculatorKind } from "../../contracts/engine/protocol.js";
import type { SpeculationCostModel, SpeedupEstimate } from "./cost-model.js";
import type { Speculator } from "./speculator.js";

/** What one decode step does: draft k tokens with `speculator`, or (k = 0) a plain decode. */
export interface StepPlan {
  speculator: Speculator | null;
  k: number;
}

export interface PlannedStep {
  plan: StepPlan;
  proposal: Token[];
}

const PLAIN: PlannedStep = Object.freeze({ plan: Object.freeze({ speculator: null, k: 0 }), proposal: Object.freeze([]) as unknown as Token[] });

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
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
 * - `auto` backs off a cheap speculator whose real steps lost time (ProbeBackoff): paused 1, 2, 4 … 128 steps.
 *
 * The time between two target decodes is the cost that matters on a small model (~1 ms/token for the KJV model):
 * measured with timers around the loop's phases, auto's planning and bookkeeping there took ~35 µs per step, and
 * the next decode ran ~40 µs slower than after a plain step (2-5% of decode speed while auto was paused). So
 * `plan` only asks the candidates already expected to pay (none while paused), synchronously unless a speculator
 * is asynchronous (the draft model), and everything else (scoring shadows, refreshing the estimates, launching
 * shadows) is `idle`, which the decode loop runs while the target decodes.
 */
export class SpeculationPolicy {
  /**
   * Expected speedups within 10% of break-even are within the estimates' noise (acceptance comes in bursts):
   * decode plainly. Measured on the KJV pair, a 5% margin still lost ~3% to steps that did not pay.
   */
  private static readonly AUTO_MARGIN = 1.1;
  private static readonly DRAFT_EXPLORATION_STEPS = 6;
  private static readonly OPTIMISTIC_ALPHA = 0.8;
  /** Estimates are refreshed and shadows launched on one step in HOUSEKEEPING_STEPS (in `idle`). */
  private static readonly HOUSEKEEPING_STEPS = 4;
  /** A speculator estimated far from paying (S < 0.9) is shadowed 4x less often: it has to change a lot to matter. */
  private static readonly FAR = 0.9;
  private static readonly FAR_SHADOW_EVERY = 4;
  /** Shadow proposals are scored on this many positions (enough to see how acceptance falls with depth). */
  private static readonly SHADOW_LENGTH = 4;

  private readonly list: Speculator[];
  /** The speculators that shadow (every one but the draft model, whose proposals cost decodes). */
  private readonly shadowing: Speculator[];
  private shadows: Array<{ kind: SpeculatorKind; proposal: Token[]; at: number }> = [];
  /** Auto's estimate per speculator (same order as `list`). */
  private estimates: Array<{ speculator: Speculator; estimate: SpeedupEstimate }> = [];
  /** Those expected to pay (S >= margin), best first. */
  private candidates: Array<{ speculator: Speculator; estimate: SpeedupEstimate }> = [];
  private estimatesMaxK = -1;
  /** Steps until the next housekeeping (the first step's `idle` does one). */
  private housekeepingIn = 0;
  private housekeepings = 0;
  lastK = 0;

  constructor(
    readonly mode: SpeculationMode,
    private readonly speculators: ReadonlyMap<SpeculatorKind, Speculator>,
    private readonly costs: SpeculationCostModel,
    private readonly maxK: number,
  ) {
    this.list = [...speculators.values()];
    this.shadowing = this.list.filter((s) => s.kind !== "draft");
  }

  async begin(promptTokens: readonly Token[]): Promise<void> {
    this.shadows = [];
    for (const speculator of this.list) await speculator.begin(promptTokens);
  }

  /** After each step: let speculators learn from the new tokens. */
  observe(history: readonly Token[]): void {
    for (const speculator of this.list) speculator.observe(history);
  }

  /**
   * Auto's bookkeeping, for the decode loop to run while the target decodes (the main thread is idle then):
   * scores shadow proposals against the tokens written so far and, on one step in HOUSEKEEPING_STEPS, refreshes
   * the estimates and launches shadows on `history` (as it was when the step was planned; `used` is the
   * speculator the step drafted with). Nothing here decides the current step.
   */
  idle(history: readonly Token[], used: SpeculatorKind | null): void {
    if (this.mode !== "auto") return;
    if (this.shadows.length > 0) this.settleShadows(history);
    if (this.housekeepingIn-- > 0) return;
    this.housekeepingIn = SpeculationPolicy.HOUSEKEEPING_STEPS - 1;
    this.refreshEstimates(this.estimatesMaxK);
    this.shadow(history, this.estimatesMaxK, used);
  }

  /**
   * After each verify step: what the speculator used (null for a plain step) proposed and got accepted. In auto,
   * feeds the speculator's back-off with the step's gain over a plain decode, in plain-decode units. Not the draft
   * model's: its estimate comes from its real steps only (no shadows, so no lag to make up for), and where its
   * margin is thin (a steep CPU verify curve) single unlucky steps paused it while its acceptance paid (measured on
   * the synthetic 1B pair, one run each: auto 1.23x with the draft backed off, 1.78x without).
   */
  verified(kind: SpeculatorKind | null, proposed: number, accepted: number): void {
    if (this.mode !== "auto" || kind === null || kind === "draft" || proposed <= 0) return;
    const cost = proposed * (this.costs.draftCostRatio(kind) ?? 0) + (this.costs.verifyCostRatio(proposed + 1) ?? proposed + 1);
    this.costs.backoff.get(kind)!.record(1 + accepted - cost, this.costs.autoSteps);
  }

  async end(outputTokens: readonly Token[]): Promise<void> {
    for (const speculator of this.list) await speculator.end(outputTokens);
  }

  /**
   * Plans the next step; `budget` caps the drafted tokens (reply tokens left - 1, context room). Synchronous
   * unless an asynchronous speculator (the draft model) is asked.
   */
  plan(history: readonly Token[], budget: number): PlannedStep | Promise<PlannedStep> {
    const maxK = Math.min(this.maxK, budget);
    if (this.mode === "off" || maxK < 1) return this.plain();
    if (this.mode !== "auto") {
      const speculator = this.speculators.get(this.mode);
      if (!speculator) return this.plain();
      const { k } = this.costs.best(this.mode, maxK);
      this.lastK = k;
      const proposal = speculator.propose(history, k);
      return isPromise(proposal) ? proposal.then((p) => ({ plan: { speculator, k }, proposal: p })) : { plan: { speculator, k }, proposal };
    }

    const now = ++this.costs.autoSteps;
    // The estimates are refreshed by `idle`; here only before the first step, and when the budget caps k lower.
    if (this.estimatesMaxK < 0 || maxK < this.estimatesMaxK) this.refreshEstimates(maxK);
    return this.planAuto(history, now, 0);
  }

  /** Auto from candidate `from` on: the first candidate not backed off that proposes something, else plain. */
  private planAuto(history: readonly Token[], now: number, from: number): PlannedStep | Promise<PlannedStep> {
    for (let i = from; i < this.candidates.length; i++) {
      const { speculator, estimate } = this.candidates[i]!;
      if (this.costs.backoff.get(speculator.kind)!.paused(now)) continue;
      const k = estimate.k;
      const proposal = speculator.propose(history, k);
      if (isPromise(proposal)) {
        return proposal.then((p) => (p.length > 0 ? this.use(speculator, k, p) : this.planAuto(history, now, i + 1)));
      }
      if (proposal.length > 0) return this.use(speculator, k, proposal);
    }
    this.lastK = 0;
    return PLAIN;
  }

  private use(speculator: Speculator, k: number, proposal: Token[]): PlannedStep {
    this.lastK = k;
    return { plan: { speculator, k }, proposal };
  }

  private plain(): PlannedStep {
    this.lastK = 0;
    return PLAIN;
  }

  /**
   * Recomputes every estimate and the candidates. All of them, every time: the measured costs move with every
   * step too, and a draft model whose optimistic estimate sits near the margin gets explored when it crosses it
   * (skipping unchanged acceptance here cost the synthetic 1B pair most of its auto speedup).
   */
  private refreshEstimates(maxK: number): void {
    this.estimates = this.list.map((speculator) => ({ speculator, estimate: this.estimate(speculator.kind, maxK) }));
    this.estimatesMaxK = maxK;
    this.candidates = this.estimates
      .filter((c) => c.estimate.speedup >= SpeculationPolicy.AUTO_MARGIN)
      .sort((a, b) => b.estimate.speedup - a.estimate.speedup);
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
   * Records what a cheap speculator would have proposed now, to score it against the coming tokens (on
   * housekeeping steps; one in four of those for a speculator far from paying). One shadow per speculator is in
   * flight at a time: that bounds the cost, and each is scored on its whole length.
   */
  private shadow(history: readonly Token[], maxK: number, used: SpeculatorKind | null): void {
    const round = this.housekeepings++;
    for (const speculator of this.shadowing) {
      const kind = speculator.kind;
      if (kind === used) continue;
      if (this.shadows.some((s) => s.kind === kind)) continue;
      const estimate = this.estimates.find((e) => e.speculator === speculator)?.estimate;
      if (estimate && estimate.speedup < SpeculationPolicy.FAR && round % SpeculationPolicy.FAR_SHADOW_EVERY !== 0) continue;
      const at = history.length;
      const proposal = speculator.propose(history, Math.min(maxK, SpeculationPolicy.SHADOW_LENGTH));
      if (isPromise(proposal)) {
        void proposal.then((p) => {
          if (p.length > 0) this.shadows.push({ kind, proposal: p, at });
        });
      } else if (proposal.length > 0) this.shadows.push({ kind, proposal, at });
    }
  }

  /**
   * Scores shadow proposals as a verify step would have: accepted up to the first mismatch. A shadow is scored
   * once it is decided — a mismatch was emitted, or all of its positions were — because scoring only the first
   * position (the one a plain step reveals) would overrate speculators whose first guess is their best.
   */
  settleShadows(history: readonly Token[]): void {
    let kept = 0;
    for (const shadow of this.shadows) {
      const emitted = Math.min(history.length - shadow.at, shadow.proposal.length);
      let matched = 0;
      while (matched < emitted && history[shadow.at + matched] === shadow.proposal[matched]) matched++;
      const decided = matched < emitted || emitted === shadow.proposal.length;
      if (decided) this.costs.recordAcceptance(shadow.kind, shadow.proposal.length, matched);
      else this.shadows[kept++] = shadow;
    }
    this.shadows.length = kept;
  }
}
