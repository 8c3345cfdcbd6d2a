import { create } from "zustand";
import type { Message } from "../../../electron/window-api.js";

export interface MessagesState {
  /** Messages of the conversations loaded so far, in order. */
  byConversation: Record<string, Message[]>;
  /** Text streamed so far for assistant messages being generated, by message id. */
  streaming: Record<string, string>;
  /** Replaces a conversation's messages (as fetched from the host). */
  setConversationMessages(conversationId: string, messages: Message[]): void;
  /** Adds or updates messages of a loaded conversation (a final status always wins over "streaming"). */
  upsertMessages(conversationId: string, messages: Message[]): void;
  /** Drops `fromMessageId` and everything after it, then adds `messages` (edit and resend). */
  replaceFrom(conversationId: string, fromMessageId: string, messages: Message[]): void;
  /** Drops the assistant messages after the last user message, then adds `message` (regenerate). */
  replaceLastReply(conversationId: string, message: Message): void;
  /** Appends batched token text, by message id, in one update. */
  appendTokens(batch: Record<string, string>): void;
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

function withoutKeys(record: Record<string, string>, keys: string[]): Record<string, string> {
  if (!keys.some((k) => k in record)) return record;
  const out = { ...record };
  for (const k of keys) delete out[k];
  return out;
}

export const useMessagesStore = create<MessagesState>()((set) => ({
  byConversation: {},
  streaming: {},
  setConversationMessages: (conversationId, messages) =>
    set((s) => {
      const existing = s.byConversation[conversationId] ?? [];
      const list = messages.map((m) => newer(existing.find((x) => x.id === m.id), m));
      // A reply that is still streaming when fetched: start from the text the host has so far, unless tokens
      // have been arriving here all along.
      let streaming = s.streaming;
      for (const m of list) {
        if (m.status === "streaming" && !(m.id in streaming) && m.content) streaming = { ...streaming, [m.id]: m.content };
      }
      const finished = list.filter((m) => m.status !== "streaming").map((m) => m.id);
      return { byConversation: { ...s.byConversation, [conversationId]: list }, streaming: withoutKeys(streaming, finished) };
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
      return { byConversation: { ...s.byConversation, [conversationId]: [...head, ...tail] } };
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
      return { byConversation: { ...s.byConversation, [conversationId]: [...head, newer(existing, message)] } };
    }),
  appendTokens: (batch) =>
    set((s) => {
      const streaming = { ...s.streaming };
      for (const [id, text] of Object.entries(batch)) streaming[id] = (streaming[id] ?? "") + text;
      return { streaming };
    }),
  completeMessage: (message) =>
    set((s) => {
      const streaming = withoutKeys(s.streaming, [message.id]);
      const list = s.byConversation[message.conversationId];
      // Conversations not loaded here are fetched whole when opened.
      if (!list) return { streaming };
      return { streaming, byConversation: { ...s.byConversation, [message.conversationId]: merge(list, [message]) } };
    }),
  forgetConversation: (conversationId) =>
    set((s) => {
      const list = s.byConversation[conversationId];
      if (!list) return s;
      const byConversation = { ...s.byConversation };
      delete byConversation[conversationId];
      return { byConversation, streaming: withoutKeys(s.streaming, list.map((m) => m.id)) };
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
