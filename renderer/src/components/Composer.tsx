import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useActions } from "../context.js";
import { useSendBlockedReason } from "../hooks.js";
import { useConversationsStore } from "../stores/conversations.js";
import { selectIsStreaming, useMessagesStore } from "../stores/messages.js";
import { SendIcon, StopIcon } from "./Icons.js";

const MAX_HEIGHT = 240;

export function Composer() {
  const actions = useActions();
  const conversationId = useConversationsStore((s) => s.selectedId);
  const streaming = useMessagesStore(selectIsStreaming(conversationId));
  const blockedReason = useSendBlockedReason();
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [stopping, setStopping] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  // Grow with the text, up to a limit.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(MAX_HEIGHT, el.scrollHeight)}px`;
  }, [text]);

  useEffect(() => {
    ref.current?.focus();
  }, [conversationId]);

  useEffect(() => {
    if (!streaming) setStopping(false);
  }, [streaming]);

  const canSend = !!text.trim() && !blockedReason && !streaming && !sending;

  const inFlight = useRef(false);
  const send = async () => {
    if (!canSend || inFlight.current) return;
    inFlight.current = true;
    const content = text.trim();
    setSending(true);
    setText("");
    const ok = await actions.send(content);
    inFlight.current = false;
    setSending(false);
    // Keep what was typed when it could not be sent.
    if (!ok) setText((current) => current || content);
    ref.current?.focus();
  };

  return (
    <form
      className="composer"
      aria-label="Send a message"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <div className={`composer-box${blockedReason ? " blocked" : ""}`}>
        <textarea
          ref={ref}
          className="composer-input"
          data-testid="composer-input"
          aria-label="Message"
          aria-describedby={blockedReason ? "composer-hint" : undefined}
          placeholder="Message Tandem…"
          rows={1}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        {streaming && conversationId ? (
          <button
            type="button"
            className="composer-button stop"
            data-testid="stop-button"
            aria-label="Stop generating"
            disabled={stopping}
            onClick={() => {
              setStopping(true);
              void actions.stop(conversationId);
            }}
          >
            <StopIcon size={14} />
            <span>Stop</span>
          </button>
        ) : (
          <button type="submit" className="composer-button send" data-testid="send-button" aria-label="Send message" disabled={!canSend}>
            <SendIcon size={16} />
            <span>Send</span>
          </button>
        )}
      </div>
      <p className="composer-hint" id="composer-hint" data-testid="composer-hint">
        {blockedReason ?? "Enter to send · Shift+Enter for a new line"}
      </p>
    </form>
  );
}
