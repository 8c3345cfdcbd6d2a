import { create } from "zustand";
import type { SpeculatorKind, StreamedToken, VerifyStep } from "../../../contracts/engine/protocol.js";
import type { Message } from "../../../contracts/window/index.js";
import { traceEvents } from "../trace.js";

/**
 * Live figures of the replies streamed in this window, fed by the subscriber once per animation frame. Kept apart
 * from the messages store so that charts and the metrics panel update without the message list re-rendering (the
 * list never subscribes to this store).
 */

/** One `tokens` event as the subscriber hands it over: the tokens of one target decode, with that decode's step. */
export interface TokenEventRecord {
  conversationId: string;
  tokens: readonly StreamedToken[];
  step: VerifyStep | null;
}

/** Per-event points of a reply, for the per-token charts (x = tokens emitted so far). */
export interface ReplySeries {
  tokens: number[];
  /** Milliseconds since the request, of the event's last token. */
  t: number[];
  /** Decode speed over the last second (null until two points are a measurable time apart). */
  tokensPerSecond: (number | null)[];
  /** Accepted / proposed so far (null until something was proposed). */
  acceptance: (number | null)[];
}

export interface LiveReply {
  conversationId: string;
  messageId: string;
  /** The reply reached its final status (its stats are then the authority). */
  done: boolean;
  /** Emitted tokens (StreamedTokens, including those whose text was held for a multi-byte character). */
  tokens: number;
  /** `t` of the first and latest token (ms since the request). */
  firstT: number | null;
  lastT: number | null;
  /** Target decodes seen (distinct step indices; the prompt's decode is one of them). */
  decodes: number;
  lastStepIndex: number;
  proposed: number;
  accepted: number;
  /** Decodes that checked at least one drafted token. */
  verifySteps: number;
  /** histogram[a] = verify steps that accepted a drafted tokens (as the engine's acceptedHistogram). */
  histogram: number[];
  /** The longest draft seen (the histogram's upper bound k). */
  maxProposed: number;
  stepsBySpeculator: Record<string, number>;
  /** Speculator and draft length of the latest decode that drafted. */
  speculator: SpeculatorKind | null;
  draftLength: number | null;
  /** Appended in place (a new LiveReply object is made per update, so selectors see the change). */
  series: ReplySeries;
  /** Bumped on every update. */
  version: number;
}

export interface MetricsState {
  live: Record<string, LiveReply>;
  /** Applies one frame's worth of token events, by message id, in one update. */
  applyTokens(batch: Record<string, TokenEventRecord[]>): void;
  /** The reply reached its final status. */
  complete(messageId: string): void;
  /** Rebuilds the figures of finished replies from their stored per-token records (after a reload); live ones win. */
  restore(messages: readonly Message[]): void;
  forgetConversation(conversationId: string): void;
}

/** Finished replies kept for their per-token charts (older ones are dropped). */
export const KEPT_FINISHED = 40;
const RATE_WINDOW_MS = 1000;

export function emptyReply(messageId: string, conversationId: string): LiveReply {
  return {
    conversationId,
    messageId,
    done: false,
    tokens: 0,
    firstT: null,
    lastT: null,
    decodes: 0,
    lastStepIndex: -1,
    proposed: 0,
    accepted: 0,
    verifySteps: 0,
    histogram: [],
    maxProposed: 0,
    stepsBySpeculator: {},
    speculator: null,
    draftLength: null,
    series: { tokens: [], t: [], tokensPerSecond: [], acceptance: [] },
    version: 0,
  };
}

/** Folds events into a copy of `reply` (its series arrays are appended in place). */
export function foldEvents(reply: LiveReply, events: readonly TokenEventRecord[]): LiveReply {
  const r: LiveReply = { ...reply, histogram: [...reply.histogram], stepsBySpeculator: { ...reply.stepsBySpeculator } };
  const s = r.series;
  for (const { tokens, step } of events) {
    if (tokens.length === 0) continue;
    r.tokens += tokens.length;
    r.firstT ??= tokens[0].t;
    r.lastT = tokens[tokens.length - 1].t;
    // The engine sends one event per decode; text held back for a multi-byte character can arrive once more with
    // the last decode's index, which must not count twice.
    if (step && step.index > r.lastStepIndex) {
      r.lastStepIndex = step.index;
      r.decodes++;
      if (step.speculator) r.stepsBySpeculator[step.speculator] = (r.stepsBySpeculator[step.speculator] ?? 0) + 1;
      if (step.proposed > 0) {
        r.verifySteps++;
        r.proposed += step.proposed;
        r.accepted += step.accepted;
        r.maxProposed = Math.max(r.maxProposed, step.proposed);
        while (r.histogram.length <= step.accepted) r.histogram.push(0);
        r.histogram[step.accepted]++;
        r.speculator = step.speculator;
        r.draftLength = step.proposed;
      } else if (step.index > 0) {
        // A decode that drafted nothing: the speculator is paused (draft length 0).
        r.draftLength = 0;
      }
    }
    // Per-event chart points.
    const t = r.lastT;
    let j = s.t.length - 1;
    while (j > 0 && t - s.t[j - 1] <= RATE_WINDOW_MS) j--;
    const rate = j >= 0 && t > s.t[j] ? ((r.tokens - s.tokens[j]) / (t - s.t[j])) * 1000 : null;
    s.tokens.push(r.tokens);
    s.t.push(t);
    s.tokensPerSecond.push(rate);
    s.acceptance.push(r.proposed > 0 ? r.accepted / r.proposed : null);
  }
  r.version = reply.version + 1;
  return r;
}

function prune(live: Record<string, LiveReply>): Record<string, LiveReply> {
  const finished = Object.values(live).filter((r) => r.done);
  if (finished.length <= KEPT_FINISHED) return live;
  const out = { ...live };
  for (const r of finished.slice(0, finished.length - KEPT_FINISHED)) delete out[r.messageId];
  return out;
}

export const useMetricsStore = create<MetricsState>()((set) => ({
  live: {},
  applyTokens: (batch) =>
    set((s) => {
      const live = { ...s.live };
      for (const [messageId, events] of Object.entries(batch)) {
        if (events.length === 0) continue;
        const existing = live[messageId] ?? emptyReply(messageId, events[0].conversationId);
        // Insertion order is completion order for pruning: a reply that streams again moves to the end.
        delete live[messageId];
        live[messageId] = foldEvents(existing, events);
      }
      return { live };
    }),
  complete: (messageId) =>
    set((s) => {
      const reply = s.live[messageId];
      if (!reply || reply.done) return s;
      const live = { ...s.live };
      delete live[messageId];
      live[messageId] = { ...reply, done: true, version: reply.version + 1 };
      return { live: prune(live) };
    }),
  restore: (messages) =>
    set((s) => {
      const restored: Record<string, LiveReply> = {};
      for (const m of messages) {
        if (!m.trace || m.status === "streaming" || s.live[m.id]) continue;
        const events = traceEvents(m.trace, m.conversationId, m.content);
        restored[m.id] = { ...foldEvents(emptyReply(m.id, m.conversationId), events), done: true };
      }
      if (Object.keys(restored).length === 0) return s;
      // Before the replies of this window: they are pruned first.
      return { live: prune({ ...restored, ...s.live }) };
    }),
  forgetConversation: (conversationId) =>
    set((s) => {
      const ids = Object.values(s.live)
        .filter((r) => r.conversationId === conversationId)
        .map((r) => r.messageId);
      if (ids.length === 0) return s;
      const live = { ...s.live };
      for (const id of ids) delete live[id];
      return { live };
    }),
}));

export const selectLiveReply =
  (messageId: string | null) =>
  (s: MetricsState): LiveReply | null =>
    (messageId ? s.live[messageId] : undefined) ?? null;
