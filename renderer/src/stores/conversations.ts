import { create } from "zustand";
import type { Conversation } from "../../../contracts/window/index.js";
import type { SpeculationMode } from "../../../contracts/engine/protocol.js";
import { rememberConversation } from "./prefs.js";

export interface ConversationsState {
  /** Conversations matching `query`, newest first. */
  list: Conversation[];
  loaded: boolean;
  selectedId: string | null;
  /** The search box text; the list holds what the host returned for it. */
  query: string;
  /** The speculation mode chosen for the new chat before it is stored (applied when its first message creates it). */
  newChatSpeculation: SpeculationMode | null;
  setList(list: Conversation[]): void;
  upsert(conversation: Conversation): void;
  remove(id: string): void;
  select(id: string | null): void;
  setQuery(query: string): void;
  setNewChatSpeculation(mode: SpeculationMode | null): void;
}

export function matchesQuery(title: string, query: string): boolean {
  const q = query.trim().toLowerCase();
  return q === "" || title.toLowerCase().includes(q);
}

const newestFirst = (a: Conversation, b: Conversation) => b.updatedAt - a.updatedAt || b.createdAt - a.createdAt;

export const useConversationsStore = create<ConversationsState>()((set) => ({
  list: [],
  loaded: false,
  selectedId: null,
  query: "",
  newChatSpeculation: null,
  setList: (list) => set({ list: [...list].sort(newestFirst), loaded: true }),
  upsert: (conversation) =>
    set((s) => {
      const previous = s.list.find((c) => c.id === conversation.id);
      const rest = s.list.filter((c) => c.id !== conversation.id);
      // Keep the list consistent with the active search: a renamed conversation may enter or leave it (one found by
      // its message text stays, with its snippet).
      const match = previous?.match ?? null;
      if (!match && !matchesQuery(conversation.title, s.query)) return rest.length === s.list.length ? s : { list: rest };
      return { list: [...rest, match ? { ...conversation, match } : conversation].sort(newestFirst) };
    }),
  remove: (id) =>
    set((s) => {
      if (s.selectedId === id) rememberConversation(null);
      return { list: s.list.filter((c) => c.id !== id), selectedId: s.selectedId === id ? null : s.selectedId };
    }),
  select: (id) => {
    // Remembered for a reload of this window (prefs.ts).
    rememberConversation(id);
    set({ selectedId: id });
  },
  setQuery: (query) => set({ query }),
  setNewChatSpeculation: (mode) => set({ newChatSpeculation: mode }),
}));

export const selectSelectedConversation = (s: ConversationsState): Conversation | null =>
  s.list.find((c) => c.id === s.selectedId) ?? null;
