import type { SpeculationMode, SpeculationStats, SpeculatorKind } from "../../contracts/engine/protocol.js";

/**
 * Counters of one reply's decode steps. Ours, not node-llama-cpp's: its `tokenPredictions` counters are inflated
 * by its one-accepted-token-per-decode defect. Invariants (checked in tests): proposed = accepted + rejected, and
 * every emitted token is either accepted from a draft or produced by a target decode.
 */
export class SpeculationMetrics {
  targetDecodes = 0;
  proposed = 0;
  accepted = 0;
  verifySteps = 0;
  draftMs = 0;
  verifyMs = 0;
  speculativeVerifyMs = 0;
  rejectingSteps = 0;
  private readonly histogram: number[] = [];
  private readonly steps = new Map<string, number>();

  recordPrefill(): void {
    this.targetDecodes++;
  }

  recordStep(kind: SpeculatorKind | null, proposed: number, accepted: number, draftMs: number, verifyMs: number): void {
    this.targetDecodes++;
    const key = kind ?? "none";
    this.steps.set(key, (this.steps.get(key) ?? 0) + 1);
    this.verifyMs += verifyMs;
    this.draftMs += draftMs;
    if (proposed === 0) return;
    this.verifySteps++;
    this.speculativeVerifyMs += verifyMs;
    if (accepted < proposed) this.rejectingSteps++;
    this.proposed += proposed;
    this.accepted += accepted;
    while (this.histogram.length <= accepted) this.histogram.push(0);
    this.histogram[accepted]!++;
  }

  toStats(mode: SpeculationMode, emittedTokens: number, finalDraftLength: number): SpeculationStats {
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      mode,
      proposed: this.proposed,
      accepted: this.accepted,
      rejected: this.proposed - this.accepted,
      acceptanceRate: this.proposed > 0 ? round(this.accepted / this.proposed) : 0,
      meanAcceptedPerStep: this.targetDecodes > 0 ? round(this.accepted / this.targetDecodes) : 0,
      verifySteps: this.verifySteps,
      targetTokens: emittedTokens - this.accepted,
      draftMs: Math.round(this.draftMs * 10) / 10,
      verifyMs: Math.round(this.verifyMs * 10) / 10,
      speculativeVerifyMs: Math.round(this.speculativeVerifyMs * 10) / 10,
      rejectingSteps: this.rejectingSteps,
      acceptedHistogram: [...this.histogram],
      stepsBySpeculator: Object.fromEntries(this.steps),
      finalDraftLength,
    };
  }
}
