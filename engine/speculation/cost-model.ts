import type { SpeculatorKind } from "../../contracts/engine/protocol.js";

/**
 * Live measurements that decide whether and how far to speculate.
 *
 * Leviathan et al.: with per-position acceptance α and k drafted tokens, one verify step yields on average
 * E(k) = (1 - α^(k+1)) / (1 - α) tokens. It costs k draft tokens (c each, relative to one plain target decode) plus
 * one target decode over k+1 positions, v(k+1) relative to a one-token decode. The expected speedup over plain
 * decoding is S(k) = E(k) / (k·c + v(k+1)). On a GPU v(n) is nearly flat; on a CPU it grows with n (compute-bound),
 * and for tiny models the fixed cost per call dominates: both are measured here, not assumed.
 */
export function expectedTokensPerStep(alpha: number, k: number): number {
  if (alpha >= 1) return k + 1;
  return (1 - alpha ** (k + 1)) / (1 - alpha);
}

export function expectedSpeedup(alpha: number, k: number, draftCostRatio: number, verifyCostRatio: number): number {
  return expectedTokensPerStep(alpha, k) / (k * draftCostRatio + verifyCostRatio);
}

/**
 * Median of the last `size` observations. Step times on a busy desktop have outliers (a GC pause, another app):
 * a mean would let one slow plain decode make verifying look cheap, and the policy would speculate where it loses.
 */
class RollingMedian {
  private readonly window: number[] = [];
  /** The window's values, kept sorted as they come and go (no sort, no allocation per step). */
  private readonly sorted: number[] = [];
  constructor(private readonly size: number) {}
  add(x: number): void {
    this.window.push(x);
    this.sorted.splice(lowerBound(this.sorted, x), 0, x);
    if (this.window.length > this.size) this.sorted.splice(lowerBound(this.sorted, this.window.shift()!), 1);
  }
  get(): number | undefined {
    return this.sorted.length === 0 ? undefined : this.sorted[this.sorted.length >> 1];
  }
}

/** The first index of `sorted` whose value is >= x. */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per-position acceptance of one speculator, estimated from verify steps: a step that accepted a of k drafts
 * observed a successes and, when a < k, one failure (drafting stops at the first rejection). α = S / (S + F), with
 * old evidence decaying so the estimate follows the conversation.
 */
export class AcceptanceEstimate {
  private successes: number;
  private failures: number;
  private steps = 0;

  constructor(
    prior: { alpha: number; weight: number },
    private readonly decay = 0.97,
  ) {
    this.successes = prior.alpha * prior.weight;
    this.failures = (1 - prior.alpha) * prior.weight;
  }

  record(proposed: number, accepted: number): void {
    if (proposed <= 0) return;
    this.successes = this.successes * this.decay + accepted;
    this.failures = this.failures * this.decay + (accepted < proposed ? 1 : 0);
    this.steps++;
  }

  get alpha(): number {
    const total = this.successes + this.failures;
    return total > 0 ? Math.min(0.99, this.successes / total) : 0;
  }

  get observations(): number {
    return this.steps;
  }

  /**
   * A cautious acceptance: one standard error below the estimate (binomial, over the decayed evidence). Auto
   * decides with this, so a speculator whose estimate only just clears break-even is not trusted on noise.
   */
  get cautiousAlpha(): number {
    const n = this.successes + this.failures;
    if (n <= 0) return 0;
    const a = this.alpha;
    return Math.max(0, a - Math.sqrt((a * (1 - a)) / n));
  }
}

/**
 * Auto's back-off for one speculator, from what its real verify steps gained. Why: acceptance comes in bursts, and
 * the acceptance estimate (mostly scored in the shadow of plain steps) lags behind them, so right after a burst it
 * still says "speculate" while the next proposals fail. On a model where a verify of 4 positions costs ~2.5 plain
 * decodes, each such step loses more than a token's time (measured: KJV input-grounded, auto's realised acceptance
 * 0.4 where its estimate said 0.75).
 *
 * Each real step adds its gain in plain-decode units (tokens produced - the step's cost: k·c + v(k+1)) to a
 * decaying ledger. While the ledger is negative the speculator pauses, 1, 2, 4 … 128 steps for consecutive
 * pauses; a step that brings the ledger back to zero or above resets the back-off. One lost step among wins does
 * not pause a speculator that pays (the wins' credit covers it).
 */
export class ProbeBackoff {
  static readonly DECAY = 0.7;
  static readonly MAX_LEVEL = 8;
  private ledger = 0;
  private level = 0;
  /** The first step (on the policy's step clock) this speculator may be used again. */
  private until = 0;

  /** One real verify step's gain (plain-decode units), taken at step `now`. */
  record(gain: number, now: number): void {
    this.ledger = this.ledger * ProbeBackoff.DECAY + gain;
    if (this.ledger >= 0) {
      this.level = 0;
      return;
    }
    this.level = Math.min(this.level + 1, ProbeBackoff.MAX_LEVEL);
    this.until = now + 1 + 2 ** (this.level - 1);
  }

  /** Whether the speculator is paused at step `now`. */
  paused(now: number): boolean {
    return now < this.until;
  }

  /** Steps of the current (or last) pause: 0 before any, then 1, 2, 4 … */
  get pauseSteps(): number {
    return this.level > 0 ? 2 ** (this.level - 1) : 0;
  }
}

export interface SpeedupEstimate {
  k: number;
  speedup: number;
  alpha: number;
  draftCostRatio: number;
  verifyCostRatio: number;
}

export class SpeculationCostModel {
  /** Wall time of a target decode over n positions, ms (index n): rolling medians. */
  private readonly verifyMs = new Map<number, RollingMedian>();
  /** Decayed sums of drafting time and drafted tokens: attempts that proposed nothing still cost time. */
  private readonly drafting = new Map<SpeculatorKind, { ms: number; tokens: number }>();
  readonly acceptance = new Map<SpeculatorKind, AcceptanceEstimate>();
  /** Auto's back-off per speculator: kept with the model's costs, so it carries from one reply to the next. */
  readonly backoff = new Map<SpeculatorKind, ProbeBackoff>();
  /** Auto's step clock on this model (the back-off's time base): planned steps, across replies. */
  autoSteps = 0;

  constructor(priors: Partial<Record<SpeculatorKind, { alpha: number; weight: number }>> = {}) {
    for (const kind of ["draft", "lookup", "ngram"] as const) {
      this.acceptance.set(kind, new AcceptanceEstimate(priors[kind] ?? { alpha: 0.5, weight: 2 }));
      this.backoff.set(kind, new ProbeBackoff());
    }
  }

  /** The measured curve as sorted [positions, ms] points; rebuilt only after new measurements, when asked for. */
  private curve: Array<readonly [number, number]> | undefined;

  recordVerify(positions: number, ms: number): void {
    let e = this.verifyMs.get(positions);
    if (!e) this.verifyMs.set(positions, (e = new RollingMedian(31)));
    e.add(ms);
    this.curve = undefined;
  }

  recordDraft(kind: SpeculatorKind, tokens: number, ms: number): void {
    const sums = this.drafting.get(kind) ?? { ms: 0, tokens: 0 };
    this.drafting.set(kind, { ms: sums.ms * 0.95 + ms, tokens: sums.tokens * 0.95 + tokens });
  }

  recordAcceptance(kind: SpeculatorKind, proposed: number, accepted: number): void {
    this.acceptance.get(kind)!.record(proposed, accepted);
  }

  /** v(n): verify time of n positions relative to one, interpolated linearly between measured points. */
  verifyCostRatio(positions: number): number | undefined {
    const one = this.verifyMs.get(1)?.get();
    if (one === undefined || one <= 0) return undefined;
    const measured = (this.curve ??= [...this.verifyMs.entries()].map(([n, e]) => [n, e.get()!] as const).sort((a, b) => a[0] - b[0]));
    const exact = measured.find(([n]) => n === positions);
    if (exact) return exact[1] / one;
    let lower = measured[0]!;
    let upper = measured[measured.length - 1]!;
    for (const point of measured) {
      if (point[0] <= positions && point[0] >= lower[0]) lower = point;
      if (point[0] >= positions && point[0] <= upper[0]) upper = point;
    }
    if (upper[0] === lower[0]) {
      // Beyond the measured range: extrapolate from the last segment (never cheaper than the last point).
      const prev = measured.length > 1 ? measured[measured.length - 2]! : [0, 0];
      const slope = (upper[1] - prev[1]) / Math.max(1, upper[0] - prev[0]);
      return (upper[1] + Math.max(0, slope) * (positions - upper[0])) / one;
    }
    const t = (positions - lower[0]) / (upper[0] - lower[0]);
    return (lower[1] + t * (upper[1] - lower[1])) / one;
  }

  draftCostRatio(kind: SpeculatorKind): number | undefined {
    const one = this.verifyMs.get(1)?.get();
    const sums = this.drafting.get(kind);
    if (one === undefined || !sums || sums.tokens <= 0) return undefined;
    return sums.ms / sums.tokens / one;
  }

  /**
   * The draft length with the best expected speedup for `kind` (k in 1..maxK), given its acceptance estimate
   * (or `alphaOverride`). Unknown costs are taken as `fallbackDraftCost` / linear verify growth.
   */
  best(kind: SpeculatorKind, maxK: number, options: { alphaOverride?: number; fallbackDraftCost?: number } = {}): SpeedupEstimate {
    const alpha = options.alphaOverride ?? this.acceptance.get(kind)!.alpha;
    const c = this.draftCostRatio(kind) ?? options.fallbackDraftCost ?? 0;
    let best: SpeedupEstimate = { k: 1, speedup: 0, alpha, draftCostRatio: c, verifyCostRatio: 1 };
    for (let k = 1; k <= maxK; k++) {
      const v = this.verifyCostRatio(k + 1) ?? k + 1;
      const speedup = expectedSpeedup(alpha, k, c, v);
      if (speedup > best.speedup) best = { k, speedup, alpha, draftCostRatio: c, verifyCostRatio: v };
    }
    return best;
  }
}
