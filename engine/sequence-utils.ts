import type { LlamaContextSequence } from "node-llama-cpp";

/**
 * node-llama-cpp keeps one cell of the sequence free and shifts the context (erasing its beginning) to make room
 * when an evaluation would use it. We never let it shift: a reply stops with "context-full" instead, because
 * silently forgetting the start of a conversation changes what the model is answering.
 */
export function usableContext(sequence: LlamaContextSequence): number {
  return sequence.contextSize - 1;
}

export function commonPrefixLength<T extends number>(a: readonly T[], b: readonly T[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * node-llama-cpp's batching option for our contexts: dispatch a queued decode in a microtask instead of its default
 * "nextCycle" (a setImmediate), which puts a whole event-loop turn between every decode request and the decode.
 * Requests queued in the same tick (several sequences) still go out as one batch; BatchGate makes concurrent replies
 * on the target's context queue in the same tick.
 */
export const IMMEDIATE_DISPATCH = { dispatchSchedule: (dispatch: () => void) => queueMicrotask(dispatch) } as const;
