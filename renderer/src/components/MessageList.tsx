import { memo, useCallback, useLayoutEffect, useMemo, useReducer, useRef, useState, type ReactNode } from "react";
import type { Message } from "../../../contracts/window/index.js";
import { useSendBlockedReason } from "../hooks.js";
import { selectMessages, useMessagesStore } from "../stores/messages.js";
import { MessageView } from "./MessageView.js";
import { ChevronDownIcon } from "./Icons.js";

/** How close to the bottom (px) still counts as "at the bottom" for auto-scroll. */
const STICK_THRESHOLD = 48;
/** Height assumed for a row not measured yet (px). */
export const ESTIMATED_ROW_HEIGHT = 120;
/** Rows are rendered this far (px) above and below the visible part, so a fast scroll finds them ready. */
const OVERSCAN_PX = 900;
/** Rows rendered before the scroll container has been laid out (the newest ones: a list opens at its bottom). */
const UNMEASURED_ROWS = 60;

/**
 * One message in the window, measured: its height (with the gap below it) goes back to the list whenever it
 * changes (streaming text, images of code blocks, a resize).
 */
const Row = memo(function Row({ id, index, onHeight, children }: { id: string; index: number; onHeight: (id: string, height: number) => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const report = () => onHeight(id, el.offsetHeight);
    report();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(report);
    observer.observe(el);
    return () => observer.disconnect();
  }, [id, onHeight]);
  return (
    <div ref={ref} className="message-row" data-row-id={id} data-row-index={index} data-testid="message-row">
      {children}
    </div>
  );
});

/** offsets[i] = top of row i; offsets[n] = total height. */
function rowOffsets(messages: readonly Message[], heights: ReadonlyMap<string, number>): Float64Array {
  const offsets = new Float64Array(messages.length + 1);
  for (let i = 0; i < messages.length; i++) offsets[i + 1] = offsets[i] + (heights.get(messages[i].id) || ESTIMATED_ROW_HEIGHT);
  return offsets;
}

/** The first row whose bottom is below `y`. */
function rowAt(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1] <= y) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo);
}

function windowOf(offsets: Float64Array, scrollTop: number, viewport: number): [number, number] {
  const count = offsets.length - 1;
  if (count === 0) return [0, 0];
  if (viewport <= 0) return [Math.max(0, count - UNMEASURED_ROWS), count];
  const first = rowAt(offsets, scrollTop - OVERSCAN_PX);
  const last = rowAt(offsets, scrollTop + viewport + OVERSCAN_PX);
  return [first, Math.min(count, last + 1)];
}

/**
 * The conversation's messages, virtualised: only the rows near the visible part are in the DOM (spacers stand for
 * the rest, at their measured or estimated heights), so a conversation of thousands of messages opens and scrolls
 * smoothly. Follows new content while the user is at the bottom; once they scroll up their place is kept, also when
 * rows above it are measured. Subscribes to messages only: live metrics and charts never re-render it.
 */
export function MessageList({ conversationId }: { conversationId: string }) {
  const messages = useMessagesStore(selectMessages(conversationId));
  const streamingId = messages.find((m) => m.status === "streaming")?.id ?? null;
  const streamedLength = useMessagesStore((s) => (streamingId ? (s.streaming[streamingId]?.length ?? 0) : 0));
  const blockedReason = useSendBlockedReason();
  const scrollRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [showJump, setShowJump] = useState(false);

  // Measured row heights by message id; a change re-lays out the window.
  const heights = useRef(new Map<string, number>());
  const [layout, relayout] = useReducer((n: number) => n + 1, 0);
  // `layout` stands for the contents of `heights` (bumped when a row is measured).
  const offsets = useMemo(() => rowOffsets(messages, heights.current), [messages, layout]);
  const offsetsRef = useRef(offsets);
  offsetsRef.current = offsets;
  const [view, setView] = useState({ scrollTop: 0, viewport: 0 });
  const [first, last] = windowOf(offsets, view.scrollTop, view.viewport);
  const rendered = useRef<[number, number]>([first, last]);
  rendered.current = [first, last];

  /** Re-renders when the scroll position or size moves the window; plain scrolling within it costs nothing. */
  const syncView = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const next = windowOf(offsetsRef.current, el.scrollTop, el.clientHeight);
    const [a, b] = rendered.current;
    if (next[0] !== a || next[1] !== b) setView({ scrollTop: el.scrollTop, viewport: el.clientHeight });
  }, []);

  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    el.scrollTop = Math.max(el.scrollHeight, offsetsRef.current[offsetsRef.current.length - 1]);
    syncView();
  }, [syncView]);

  const onHeight = useCallback((id: string, height: number) => {
    if (height <= 0) return; // not laid out (hidden, or a test DOM)
    const before = heights.current.get(id) ?? ESTIMATED_ROW_HEIGHT;
    if (before === height) return;
    heights.current.set(id, height);
    // A row above the visible part changed height: keep what the user is reading where it is.
    const el = scrollRef.current;
    if (el && !stick.current) {
      const index = Number(el.querySelector<HTMLElement>(`[data-row-id="${CSS.escape(id)}"]`)?.dataset.rowIndex ?? -1);
      const top = index >= 0 ? offsetsRef.current[index] : Infinity;
      if (top + before <= el.scrollTop) el.scrollTop += height - before;
    }
    relayout();
  }, []);

  // A newly opened conversation starts at the bottom.
  useLayoutEffect(() => {
    stick.current = true;
    setShowJump(false);
    scrollToBottom();
  }, [conversationId, scrollToBottom]);

  // A new message at the end (the user sent, regenerated or edited) brings the view back to the bottom.
  const lastId = messages[messages.length - 1]?.id;
  useLayoutEffect(() => {
    stick.current = true;
    setShowJump(false);
  }, [lastId]);

  /**
   * Whether the view is at the bottom, from what the browser can still scroll (not the rows' estimated heights):
   * the "jump to latest" button shows only when there is something below to jump to.
   */
  const checkBottom = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    // (The rows' total only where nothing is laid out: a test DOM.)
    const height = el.scrollHeight || offsetsRef.current[offsetsRef.current.length - 1];
    const atBottom = height - el.scrollTop - el.clientHeight <= STICK_THRESHOLD;
    stick.current = atBottom;
    setShowJump(!atBottom);
  }, []);

  // Follow new content (and rows measured at the bottom) while the user is at the bottom; else the content may
  // have shrunk or been re-measured so that the view is at the bottom now.
  useLayoutEffect(() => {
    if (stick.current) scrollToBottom();
    else checkBottom();
  }, [messages, streamedLength, layout, scrollToBottom, checkBottom]);

  // The viewport's size decides how many rows are needed.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (stick.current) scrollToBottom();
      else {
        checkBottom();
        syncView();
      }
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [scrollToBottom, syncView, checkBottom]);

  const onScroll = () => {
    checkBottom();
    syncView();
  };

  const streaming = streamingId !== null;
  let lastUser = -1;
  let lastAssistant = -1;
  messages.forEach((m, i) => {
    if (m.role === "user") lastUser = i;
    else lastAssistant = i;
  });

  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const m = messages[i];
    rows.push(
      <Row key={m.id} id={m.id} index={i} onHeight={onHeight}>
        <MessageView
          message={m}
          canRegenerate={!streaming && i === lastAssistant && i === messages.length - 1}
          canEdit={!streaming && i === lastUser}
          blockedReason={blockedReason}
        />
      </Row>,
    );
  }
  const total = offsets[offsets.length - 1];

  return (
    <div className="message-scroll" ref={scrollRef} onScroll={onScroll} data-testid="message-list" data-message-count={messages.length}>
      <div className="message-column virtual" role="log" aria-label="Messages" aria-live="off">
        <div className="message-spacer" style={{ height: offsets[first] }} aria-hidden="true" />
        {rows}
        <div className="message-spacer" style={{ height: total - offsets[last] }} aria-hidden="true" />
      </div>
      {showJump && (
        <button
          type="button"
          className="jump-to-bottom"
          aria-label="Scroll to the latest message"
          onClick={() => {
            stick.current = true;
            setShowJump(false);
            scrollToBottom();
          }}
        >
          <ChevronDownIcon />
        </button>
      )}
    </div>
  );
}
