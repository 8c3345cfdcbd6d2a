import type { ControlledEvaluateInputItem, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { SamplingOptions, StopReason, StreamedToken } from "./protocol.js";
import { IncrementalDetokenizer } from "./text-stream.js";

/**
 * The engine's own decode loop over one context sequence.
 *
 * We drive llama.cpp through `controlledEvaluate` rather than node-llama-cpp's chat session so that the loop is
 * ours: prefix reuse is explicit, every token is timed and attributed, abort is checked between tokens, and the
 * speculative verifier (which must evaluate [last, d1..dk] in one batch) slots into the same step.
 */
export interface DecodeRequest {
  sequence: LlamaContextSequence;
  model: LlamaModel;
  promptTokens: readonly Token[];
  maxTokens: number;
  sampling: SamplingOptions;
  signal: AbortSignal;
  /** performance.now() when the request arrived; token timestamps and TTFT are measured from it. */
  startedAt: number;
  onToken(token: StreamedToken): void;
  /** Extra wait after each token: simulates a slower machine (tests that must act mid-reply use it). */
  stepDelayMs?: number;
}

export interface DecodeOutcome {
  text: string;
  tokens: Token[];
  stopReason: StopReason;
  reusedPromptTokens: number;
  evaluatedPromptTokens: number;
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  durationMs: number;
  /** Target model evaluations that produced a token (prefill counts once). */
  targetDecodes: number;
}

const REPEAT_PENALTY_WINDOW = 64;

/**
 * node-llama-cpp keeps one cell of the sequence free and shifts the context (erasing its beginning) to make room
 * when an evaluation would use it. We never let it shift: a reply stops with "context-full" instead, because
 * silently forgetting the start of a conversation changes what the model is answering.
 */
export function usableContext(sequence: LlamaContextSequence): number {
  return sequence.contextSize - 1;
}

export function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function generateNextOptions(sampling: SamplingOptions, generated: readonly Token[]) {
  return {
    token: true as const,
    options: {
      temperature: sampling.temperature,
      ...(sampling.topK !== undefined ? { topK: sampling.topK } : {}),
      ...(sampling.topP !== undefined ? { topP: sampling.topP } : {}),
      ...(sampling.minP !== undefined ? { minP: sampling.minP } : {}),
      ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
      ...(sampling.repeatPenalty !== undefined && sampling.repeatPenalty !== 1
        ? { repeatPenalty: { punishTokens: () => generated.slice(-REPEAT_PENALTY_WINDOW), penalty: sampling.repeatPenalty } }
        : {}),
    },
  };
}

/** Evaluates `tokens` and returns the token sampled after the last one. */
async function evaluateAndSample(
  sequence: LlamaContextSequence,
  tokens: readonly Token[],
  sampling: SamplingOptions,
  generated: readonly Token[],
): Promise<Token> {
  const last = tokens.length - 1;
  const input: ControlledEvaluateInputItem[] = tokens.map((token, index) =>
    index === last ? [token, { generateNext: generateNextOptions(sampling, generated) }] : token,
  );
  const results = await sequence.controlledEvaluate(input);
  const next = results[last]?.next.token;
  if (next == null) throw new Error("llama.cpp returned no token for the last position");
  return next;
}

export async function runDecodeLoop(request: DecodeRequest): Promise<DecodeOutcome> {
  const { sequence, model, promptTokens, sampling, signal } = request;
  if (promptTokens.length === 0) throw new Error("empty prompt");

  // Reuse the evaluated prefix: keep what matches, erase the rest. At least the last prompt token is evaluated
  // again, because its logits are what the first reply token is sampled from.
  const reused = Math.min(commonPrefixLength(sequence.contextTokens, promptTokens), promptTokens.length - 1);
  if (reused < sequence.nextTokenIndex) {
    await sequence.eraseContextTokenRanges([{ start: reused, end: sequence.nextTokenIndex }]);
  }
  const detokenizer = new IncrementalDetokenizer(model);
  const generated: Token[] = [];
  let text = "";
  let firstTokenAt = 0;
  let targetDecodes = 0;
  let stopReason: StopReason | undefined;
  // Tokens whose text is not complete yet (part of a multi-byte character) are held back and emitted together
  // with the token that completes it, so that every event carries valid text and events map 1:1 to tokens.
  let held: StreamedToken[] = [];
  const emit = (token: Token, piece: string, at: number): void => {
    held.push({ id: token, text: "", source: "target", t: at - request.startedAt });
    if (piece === "") return;
    held[held.length - 1]!.text = piece;
    for (const item of held) request.onToken(item);
    held = [];
  };

  let next = await evaluateAndSample(sequence, promptTokens.slice(reused), sampling, generated);
  targetDecodes++;

  for (;;) {
    if (model.isEogToken(next)) {
      stopReason = "eog";
      break;
    }
    generated.push(next);
    const piece = detokenizer.push(next);
    text += piece;
    const now = performance.now();
    if (generated.length === 1) firstTokenAt = now;
    emit(next, piece, now);

    if (generated.length >= request.maxTokens) stopReason = "max-tokens";
    else if (signal.aborted) stopReason = "abort";
    else if (sequence.nextTokenIndex + 1 > usableContext(sequence)) stopReason = "context-full";
    if (stopReason) break;

    if (request.stepDelayMs) await new Promise((resolve) => setTimeout(resolve, request.stepDelayMs));
    next = await evaluateAndSample(sequence, [next], sampling, generated);
    targetDecodes++;
    if (signal.aborted && !model.isEogToken(next)) {
      // The token sampled after the abort is dropped: the user asked to stop.
      stopReason = "abort";
      break;
    }
  }

  const tail = detokenizer.flush();
  text += tail;
  if (held.length > 0) {
    held[held.length - 1]!.text = tail;
    for (const item of held) request.onToken(item);
  }
  const end = performance.now();
  const decodeSeconds = (end - firstTokenAt) / 1000;
  return {
    text,
    tokens: generated,
    stopReason: stopReason ?? "eog",
    reusedPromptTokens: reused,
    evaluatedPromptTokens: promptTokens.length - reused,
    timeToFirstTokenMs: generated.length > 0 ? firstTokenAt - request.startedAt : end - request.startedAt,
    tokensPerSecond: generated.length > 1 && decodeSeconds > 0 ? (generated.length - 1) / decodeSeconds : 0,
    durationMs: end - request.startedAt,
    targetDecodes,
  };
}
