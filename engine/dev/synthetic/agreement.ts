/**
 * Measures how often a draft's greedy next token equals the target's, the way speculative decoding meets it: on the
 * target's own greedy continuation of a few chat prompts, position by position, both models run in llama.cpp.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from "node-llama-cpp";

/** Chat prompts (ChatML-wrapped, as the app sends them); the words matter little to a synthetic model. */
export const AGREEMENT_PROMPTS = [
  "Tell me a story about a river and a stone bridge.",
  "What is the best way to learn music?",
  "Describe the city at night in winter.",
  "Why do people write letters?",
  "Explain how a garden grows in spring.",
  "Write about the ocean and an old island house.",
  "Give me three reasons to walk in the forest.",
  "What did the young girl find behind the door?",
];

export interface AgreementOptions {
  targetPath: string;
  draftPath: string;
  /** CPU threads for both models (always explicit: node-llama-cpp's default oversubscribes small machines). */
  threads: number;
  /** Target tokens generated per prompt (each one is a measured position). */
  tokensPerPrompt?: number;
  prompts?: readonly string[];
  /** An initialised llama.cpp to reuse; otherwise one is created (CPU). */
  llama?: Llama;
}

export interface AgreementResult {
  /** Fraction of measured positions where the draft's argmax equals the target's. */
  agreement: number;
  positions: number;
  matches: number;
  /** The target's greedy continuation of each prompt (token ids), for inspection and tests. */
  continuations: Token[][];
  /** The first continuation as text. */
  sample: string;
}

export function chatPrompt(user: string): string {
  return `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
}

async function greedyContinuation(model: LlamaModel, prompt: Token[], count: number, threads: number): Promise<Token[]> {
  const context = await model.createContext({ contextSize: prompt.length + count + 8, threads, sequences: 1 });
  try {
    const sequence = context.getSequence();
    const out: Token[] = [];
    let input = prompt;
    while (out.length < count) {
      const last = input.length - 1;
      const results = await sequence.controlledEvaluate(
        input.map((token, i) => (i === last ? [token, { generateNext: { token: true, options: { temperature: 0 } } }] : token)),
      );
      const next = results[last]?.next.token;
      if (next == null) throw new Error("the target produced no token");
      out.push(next);
      input = [next];
    }
    return out;
  } finally {
    await context.dispose();
  }
}

/** The draft's greedy choice after each prefix prompt + continuation[0..i-1], in one batched evaluation. */
async function draftChoices(model: LlamaModel, prompt: Token[], continuation: Token[], threads: number): Promise<Array<Token | null>> {
  const input = [...prompt, ...continuation.slice(0, -1)];
  const context = await model.createContext({ contextSize: input.length + 8, threads, sequences: 1, batchSize: input.length });
  try {
    const sequence = context.getSequence();
    const from = prompt.length - 1;
    const results = await sequence.controlledEvaluate(
      input.map((token, i) => (i >= from ? [token, { generateNext: { token: true, options: { temperature: 0 } } }] : token)),
    );
    return continuation.map((_, i) => results[from + i]?.next.token ?? null);
  } finally {
    await context.dispose();
  }
}

export async function measureAgreement(options: AgreementOptions): Promise<AgreementResult> {
  const llama = options.llama ?? (await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error }));
  const count = options.tokensPerPrompt ?? 64;
  const prompts = options.prompts ?? AGREEMENT_PROMPTS;
  const target = await llama.loadModel({ modelPath: options.targetPath, gpuLayers: 0 });
  try {
    const draft = await llama.loadModel({ modelPath: options.draftPath, gpuLayers: 0 });
    try {
      let matches = 0;
      let positions = 0;
      const continuations: Token[][] = [];
      for (const text of prompts) {
        const prompt = target.tokenize(chatPrompt(text), true);
        const continuation = await greedyContinuation(target, prompt, count, options.threads);
        const choices = await draftChoices(draft, prompt, continuation, options.threads);
        continuations.push(continuation);
        positions += continuation.length;
        matches += continuation.filter((token, i) => choices[i] === token).length;
      }
      return {
        agreement: matches / positions,
        positions,
        matches,
        continuations,
        sample: target.detokenize(continuations[0] ?? []),
      };
    } finally {
      await draft.dispose();
    }
  } finally {
    await target.dispose();
  }
}
