import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { usableContext } from "../sequence-utils.js";
import type { SpeculationCostModel } from "./cost-model.js";

/**
 * Measures v(n), the cost of one target decode over n positions (each sampling a token, as the verifier does),
 * at the sequence's current end, then erases what it evaluated. Run once per loaded model before its first
 * speculative reply; the decode loop keeps refining the curve with every real step.
 */
export async function calibrateVerifyCurve(options: {
  sequence: LlamaContextSequence;
  tokens: readonly Token[];
  maxPositions: number;
  costs: SpeculationCostModel;
  repeats?: number;
}): Promise<void> {
  const { sequence, costs } = options;
  // Kept short (it delays the model's first speculative reply: ~1 s for a 1B model on 2 cores); every real step
  // adds a measurement afterwards.
  const repeats = options.repeats ?? 2;
  const room = usableContext(sequence) - sequence.nextTokenIndex;
  const points = [...new Set([1, 2, 3, 4, 6, options.maxPositions])]
    .filter((n) => n <= options.maxPositions && n <= room)
    .sort((a, b) => a - b);
  const pool = options.tokens.length > 0 ? options.tokens : ([0] as Token[]);
  for (const n of points) {
    const samples: number[] = [];
    for (let r = 0; r <= repeats; r++) {
      const start = sequence.nextTokenIndex;
      const batch = Array.from({ length: n }, (_, i) => pool[(i + r) % pool.length]!);
      const began = performance.now();
      await sequence.controlledEvaluate(batch.map((token) => [token, { generateNext: { token: true, options: { temperature: 0 } } }]));
      const ms = performance.now() - began;
      await sequence.eraseContextTokenRanges([{ start, end: sequence.nextTokenIndex }]);
      if (r > 0) samples.push(ms); // the first run warms caches
    }
    samples.sort((a, b) => a - b);
    costs.recordVerify(n, samples[samples.length >> 1]!);
  }
}
