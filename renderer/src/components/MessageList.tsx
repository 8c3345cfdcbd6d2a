import { useCallback, useLayoutEffect, useRef, useState } from "react";
import { useSendBlockedReason } from "../hooks.js";
import { selectMessages, useMessagesStore } from "../stores/messages.js";
import { MessageView } from "./MessageView.js";
import { ChevronDownIcon } from "./Icons.js";

/** How close to the bottom (px) still counts as "at the bottom" for auto-scroll. */
const STICK_THRESHOLD = 48;

export function MessageList({ conversationId }: { conversationId: string }) {
  const messages = useMessagesStore(selectMessages(conversationId));
  const streamingId = messages.find((m) => m.status === "streaming")?.id ?? null;
  const streamedLength = useMessagesStore((s) => (streamingId ? (s.streaming[streamingId]?.length ?? 0) : 0));
  const blockedReason = useSendBlockedReason();
  const scrollRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [showJump, setShowJump] = useState(false);

  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
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

  // Follow new content while the user is at the bottom; leave them alone once they scroll up.
  useLayoutEffect(() => {
    if (stick.current) scrollToBottom();
  }, [messages, streamedLength, scrollToBottom]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= STICK_THRESHOLD;
    stick.current = atBottom;
    setShowJump(!atBottom);
  };

  const streaming = streamingId !== null;
  let lastUser = -1;
  let lastAssistant = -1;
  messages.forEach((m, i) => {
    if (m.role === "user") lastUser = i;
    else lastAssistant = i;
  });

  return (
    <div className="message-scroll" ref={scrollRef} onScroll={onScroll} data-testid="message-list">
      <div className="message-column" role="log" aria-label="Messages" aria-live="off">
        {messages.map((m, i) => (
          <MessageView
            key={m.id}
            message={m}
            canRegenerate={!streaming && i === lastAssistant && i === messages.length - 1}
            canEdit={!streaming && i === lastUser}
            blockedReason={blockedReason}
          />
        ))}
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
