/**
 * A finished reply's stored per-token record (ReplyTrace) turned back into what the live `tokens` events gave this
 * window: the metrics store's event records (per-token charts, figures) and the messages store's segments (tinting).
 */
import type { Message, ReplyTrace } from "../../contracts/window/index.js";
import type { SpeculatorKind, StreamedToken, VerifyStep } from "../../contracts/engine/protocol.js";
import type { TokenEventRecord } from "./stores/metrics.js";
import { appendSegments, type StreamSegment } from "./stores/messages.js";

const SPECULATORS: ReadonlySet<string> = new Set<SpeculatorKind>(["draft", "lookup", "ngram"]);

function stepOf([, index, speculator, proposed, accepted]: ReplyTrace["events"][number]): VerifyStep | null {
  if (index < 0) return null;
  return { index, speculator: SPECULATORS.has(speculator) ? (speculator as SpeculatorKind) : null, proposed, accepted };
}

/** The trace's events with each token's text cut from `content` (empty text when the lengths do not add up). */
export function traceEvents(trace: ReplyTrace, conversationId: string, content: string): TokenEventRecord[] {
  const total = trace.events.reduce((n, e) => n + e[6].reduce((a, b) => a + b, 0), 0);
  const withText = total === content.length;
  let at = 0;
  return trace.events.map((event) => {
    const [t, , , , , sources, lengths] = event;
    const step = stepOf(event);
    const tokens: StreamedToken[] = [...sources].map((letter, i) => {
      const length = lengths[i] ?? 0;
      const text = withText ? content.slice(at, at + length) : "";
      at += length;
      return { id: -1, text, source: letter === "d" ? "draft" : "target", t, ...(step ? { step: step.index } : {}) };
    });
    return { conversationId, tokens, step };
  });
}

/** The reply's text in segments of one origin, as streaming built them; null when the trace does not fit the text. */
export function traceSegments(message: Message): StreamSegment[] | null {
  if (!message.trace) return null;
  const events = traceEvents(message.trace, message.conversationId, message.content);
  const segments = appendSegments(
    [],
    events.flatMap(({ tokens, step }) => tokens.map((token) => ({ text: token.text, source: token.source, step }))),
  );
  return segments.map((s) => s.text).join("") === message.content ? segments : null;
}
