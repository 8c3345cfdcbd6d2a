import { create } from "zustand";
import type { Message } from "../../../contracts/window/index.js";
import type { TokenSource, VerifyStep } from "../../../contracts/engine/protocol.js";
import { traceSegments } from "../trace.js";

/**
 * A run of streamed text with one origin: consecutive tokens of the same source and the same verify step are merged,
 * so a plain reply is a single segment and a speculative one is about two per target decode.
 */
export interface StreamSegment {
  text: string;
  /** Who produced the text; null for text that arrived before this window was listening (seeded from the host). */
  source: TokenSource | null;
  /** The target decode that produced it (shared by the segments of that decode); null without speculation. */
  step: VerifyStep | null;
}

/** Whether `next` continues `last` (same source, same verify step). */
export function sameOrigin(last: StreamSegment, next: StreamSegment): boolean {
  return last.source === next.source && (last.step?.index ?? null) === (next.step?.index ?? null);
}

/** Appends segments, merging each into the previous one when it has the same origin; returns a new array. */
export function appendSegments(list: readonly StreamSegment[], added: readonly StreamSegment[]): StreamSegment[] {
  const out = [...list];
  for (const segment of added) {
    if (!segment.text) continue;
    const last = out.at(-1);
    if (last && sameOrigin(last, segment)) out[out.length - 1] = { ...last, text: last.text + segment.text };
    else out.push(segment);
  }
  return out;
}

export interface MessagesState {
  /** Messages of the conversations loaded so far, in order. */
  byConversation: Record<string, Message[]>;
  /** Text streamed so far for assistant messages being generated, by message id. */
  streaming: Record<string, string>;
  /**
   * Where the streamed text came from (draft or target, and which verify step), by message id: the same text as
   * `streaming`, in segments. Kept after the reply completes (for messages streamed in this window) until its
   * conversation is forgotten or the reply replaced, so accepted draft text can be told apart afterwards too.
   */
  segments: Record<string, StreamSegment[]>;
  /** Replaces a conversation's messages (as fetched from the host). */
  setConversationMessages(conversationId: string, messages: Message[]): void;
  /** Adds or updates messages of a loaded conversation (a final status always wins over "streaming"). */
  upsertMessages(conversationId: string, messages: Message[]): void;
  /** Drops `fromMessageId` and everything after it, then adds `messages` (edit and resend). */
  replaceFrom(conversationId: string, fromMessageId: string, messages: Message[]): void;
  /** Drops the assistant messages after the last user message, then adds `message` (regenerate). */
  replaceLastReply(conversationId: string, message: Message): void;
  /** Appends batched token segments (one frame's worth), by message id, in one update. */
  appendTokens(batch: Record<string, StreamSegment[]>): void;
  /** An assistant message reached its final status: it replaces the streamed text. */
  completeMessage(message: Message): void;
  forgetConversation(conversationId: string): void;
}

/** Which of two versions of the same message to keep: a final status is never overwritten by "streaming". */
function newer(existing: Message | undefined, incoming: Message): Message {
  if (existing && existing.status !== "streaming" && incoming.status === "streaming") return existing;
  return incoming;
}

function merge(list: Message[], incoming: Message[]): Message[] {
  const out = [...list];
  for (const m of incoming) {
    const i = out.findIndex((x) => x.id === m.id);
    if (i >= 0) out[i] = newer(out[i], m);
    else out.push(m);
  }
  return out;
}

function withoutKeys<T>(record: Record<string, T>, keys: string[]): Record<string, T> {
  if (!keys.some((k) => k in record)) return record;
  const out = { ...record };
  for (const k of keys) delete out[k];
  return out;
}

export const useMessagesStore = create<MessagesState>()((set) => ({
  byConversation: {},
  streaming: {},
  segments: {},
  setConversationMessages: (conversationId, messages) =>
    set((s) => {
      const existing = s.byConversation[conversationId] ?? [];
      const list = messages.map((m) => newer(existing.find((x) => x.id === m.id), m));
      // A reply that is still streaming when fetched: start from the text the host has so far, unless tokens
      // have been arriving here all along.
      let streaming = s.streaming;
      let segments = s.segments;
      for (const m of list) {
        if (m.status === "streaming" && !(m.id in streaming) && m.content) {
          streaming = { ...streaming, [m.id]: m.content };
          segments = { ...segments, [m.id]: [{ text: m.content, source: null, step: null }] };
        }
      }
      // Finished replies with a stored per-token record get back where their text came from (tinting).
      for (const m of list) {
        if (m.status === "streaming" || m.id in segments) continue;
        const restored = traceSegments(m);
        if (restored) segments = { ...segments, [m.id]: restored };
      }
      const finished = list.filter((m) => m.status !== "streaming").map((m) => m.id);
      return { byConversation: { ...s.byConversation, [conversationId]: list }, streaming: withoutKeys(streaming, finished), segments };
    }),
  upsertMessages: (conversationId, messages) =>
    set((s) => ({
      byConversation: { ...s.byConversation, [conversationId]: merge(s.byConversation[conversationId] ?? [], messages) },
    })),
  replaceFrom: (conversationId, fromMessageId, messages) =>
    set((s) => {
      const list = s.byConversation[conversationId] ?? [];
      const i = list.findIndex((m) => m.id === fromMessageId);
      const keepIds = new Set(messages.map((m) => m.id));
      const head = i >= 0 ? list.slice(0, i) : list.filter((m) => !keepIds.has(m.id));
      const known = new Map(list.map((m) => [m.id, m]));
      const tail = messages.map((m) => newer(known.get(m.id), m));
      const kept = new Set([...head, ...tail].map((m) => m.id));
      const dropped = list.map((m) => m.id).filter((id) => !kept.has(id));
      return { byConversation: { ...s.byConversation, [conversationId]: [...head, ...tail] }, segments: withoutKeys(s.segments, dropped) };
    }),
  replaceLastReply: (conversationId, message) =>
    set((s) => {
      const list = s.byConversation[conversationId] ?? [];
      let lastUser = -1;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].role === "user") {
          lastUser = i;
          break;
        }
      }
      const existing = list.find((m) => m.id === message.id);
      const head = list.slice(0, lastUser + 1);
      const dropped = list.slice(lastUser + 1).map((m) => m.id).filter((id) => id !== message.id);
      return {
        byConversation: { ...s.byConversation, [conversationId]: [...head, newer(existing, message)] },
        segments: withoutKeys(s.segments, dropped),
      };
    }),
  appendTokens: (batch) =>
    set((s) => {
      const streaming = { ...s.streaming };
      const segments = { ...s.segments };
      for (const [id, added] of Object.entries(batch)) {
        let text = "";
        for (const segment of added) text += segment.text;
        streaming[id] = (streaming[id] ?? "") + text;
        segments[id] = appendSegments(segments[id] ?? [], added);
      }
      return { streaming, segments };
    }),
  completeMessage: (message) =>
    set((s) => {
      const streaming = withoutKeys(s.streaming, [message.id]);
      const list = s.byConversation[message.conversationId];
      // Conversations not loaded here are fetched whole when opened (their segments would never be shown).
      if (!list) return { streaming, segments: withoutKeys(s.segments, [message.id]) };
      return { streaming, byConversation: { ...s.byConversation, [message.conversationId]: merge(list, [message]) } };
    }),
  forgetConversation: (conversationId) =>
    set((s) => {
      const list = s.byConversation[conversationId];
      if (!list) return s;
      const byConversation = { ...s.byConversation };
      delete byConversation[conversationId];
      const ids = list.map((m) => m.id);
      return { byConversation, streaming: withoutKeys(s.streaming, ids), segments: withoutKeys(s.segments, ids) };
    }),
}));

const EMPTY: Message[] = [];

export const selectMessages =
  (conversationId: string | null) =>
  (s: MessagesState): Message[] =>
    (conversationId ? s.byConversation[conversationId] : undefined) ?? EMPTY;

/** Whether a conversation has a reply being generated. */
export const selectIsStreaming =
  (conversationId: string | null) =>
  (s: MessagesState): boolean =>
    !!conversationId && (s.byConversation[conversationId] ?? EMPTY).some((m) => m.status === "streaming");

/** The text to show for a message: the streamed text while it streams, its content otherwise. */
export function displayText(message: Message, streamed: string | undefined): string {
  if (message.status !== "streaming") return message.content;
  return streamed ?? message.content;
}
