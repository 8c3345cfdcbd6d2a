/** Conversation titles derived from the first user message. */

const MAX_TITLE_LENGTH = 40;

/** The first ~40 characters of `content` on one line, cut at a word boundary when there is one. */
export function titleFromMessage(content: string): string {
  const text = content.replace(/\s+/g, " ").trim();
  if (text.length <= MAX_TITLE_LENGTH) return text;
  const cut = text.slice(0, MAX_TITLE_LENGTH + 1);
  const lastSpace = cut.lastIndexOf(" ");
  // A single very long word has no boundary to cut at: cut it mid-word rather than produce an empty title.
  const head = lastSpace >= MAX_TITLE_LENGTH / 2 ? cut.slice(0, lastSpace) : text.slice(0, MAX_TITLE_LENGTH);
  return `${head.trimEnd()}…`;
}
