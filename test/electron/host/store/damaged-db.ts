/**
 * Real tandem.db files for the database-damage tests: filled through AppDatabase (real conversations, messages and
 * settings), then damaged the way a failing disk or a stray write does it: random bytes over whole pages.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import Database from "better-sqlite3";
import { AppDatabase } from "../../../../electron/host/store/app-database.js";
import type { Conversation, Message } from "../../../../contracts/window/index.js";

export const PAGE_SIZE = 4096;

export interface Filled {
  conversations: Conversation[];
  /** By conversation id, in order. */
  messages: Map<string, Message[]>;
}

/**
 * Creates (or adds to) the database at `file` with `count` conversations of `perConversation` messages each, and a
 * couple of settings. Messages stay well under a page, so every page of the file is a b-tree page (damage to any of
 * them is what quick_check finds).
 */
export function fillDatabase(file: string, dataDir: string, count: number, perConversation: number): Filled {
  const store = new AppDatabase(file, { dataDir });
  try {
    store.updateSettings({ systemPrompt: "Answer in the style of the King James Bible.", temperature: 0.3 });
    const conversations: Conversation[] = [];
    const messages = new Map<string, Message[]>();
    for (let c = 0; c < count; c++) {
      const conversation = store.renameConversation(store.createConversation().id, `Psalm ${c + 1}`)!;
      conversations.push(conversation);
      for (let m = 0; m < perConversation; m++) {
        store.addMessage({
          conversationId: conversation.id,
          role: m % 2 === 0 ? "user" : "assistant",
          content: `Psalm ${c + 1}, verse ${m + 1}: ${"The LORD is my shepherd; I shall not want. ".repeat(1 + ((c * 7 + m * 3) % 8))}`,
          status: "complete",
        });
      }
      messages.set(conversation.id, store.getMessages(conversation.id));
    }
    return { conversations: conversations.map((c) => store.getConversation(c.id)!), messages };
  } finally {
    store.close();
  }
}

/** Page numbers (1-based) of the database's b-tree for `name` (a table or index), from SQLite's dbstat. */
export function pagesOf(file: string, name: string, pagetype: "leaf" | "internal" = "leaf"): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno").all(name, pagetype) as Array<{ pageno: number }>).map(
      (r) => r.pageno,
    );
  } finally {
    db.close();
  }
}

/** A small seeded generator (mulberry32): the same seed damages the same pages with the same bytes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pageCount(file: string): number {
  return Math.floor(statSync(file).size / PAGE_SIZE);
}

/** `count` distinct pages picked at random (seeded) from `from` (default: every page but the header page 1). */
export function randomPages(file: string, count: number, seed: number, from?: readonly number[]): number[] {
  const random = seededRandom(seed);
  const pool = [...(from ?? Array.from({ length: pageCount(file) - 1 }, (_, i) => i + 2))];
  const picked: number[] = [];
  while (picked.length < count && pool.length > 0) picked.push(...pool.splice(Math.floor(random() * pool.length), 1));
  return picked.sort((a, b) => a - b);
}

/** Writes a page of random bytes over each of `pages` (1-based), in place. */
export function writeRandomPages(file: string, pages: readonly number[], seed: number): void {
  const random = seededRandom(seed ^ 0x5eed);
  const fd = openSync(file, "r+");
  try {
    for (const page of pages) {
      const bytes = Buffer.alloc(PAGE_SIZE);
      for (let i = 0; i < PAGE_SIZE; i++) bytes[i] = Math.floor(random() * 256);
      writeSync(fd, bytes, 0, PAGE_SIZE, (page - 1) * PAGE_SIZE);
    }
  } finally {
    closeSync(fd);
  }
}

export function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Every message of a database read straight from its table (no AppDatabase, so nothing is checked or changed). */
export function rawMessages(file: string): Array<{ id: string; conversation_id: string; content: string; seq: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT id, conversation_id, content, seq FROM messages ORDER BY conversation_id, seq").all() as Array<{
      id: string;
      conversation_id: string;
      content: string;
      seq: number;
    }>;
  } finally {
    db.close();
  }
}
