import { memo, useEffect, useRef, useState } from "react";
import type { Message } from "../../../contracts/window/index.js";
import type { GenerationStats } from "../../../contracts/engine/protocol.js";
import { useActions } from "../context.js";
import { cacheDetail, cacheOutcome, speculationDetail, speculationSummary, statsDetail, statsParts } from "../format.js";
import { remoteStatsLine } from "../remote-format.js";
import { displayText, useMessagesStore } from "../stores/messages.js";
import { usePrefsStore } from "../stores/prefs.js";
import { PencilIcon, RefreshIcon } from "./Icons.js";
import { CopyButton, Markdown } from "./Markdown.js";

interface MessageViewProps {
  message: Message;
  /** Show "Regenerate" (the last assistant message, nothing streaming). */
  canRegenerate: boolean;
  /** Show "Edit" (the last user message, nothing streaming). */
  canEdit: boolean;
  /** Why generating is not possible now, if it is not (disables Regenerate and Edit's resend). */
  blockedReason: string | null;
}

export const MessageView = memo(function MessageView(props: MessageViewProps) {
  return props.message.role === "user" ? <UserMessage {...props} /> : <AssistantMessage {...props} />;
});

function UserMessage({ message, canEdit, blockedReason }: MessageViewProps) {
  const [editing, setEditing] = useState(false);
  return (
    <article className="message message-user" data-testid="message-user" data-status={message.status} data-id={message.id} aria-label="Your message">
      {editing ? (
        <EditForm message={message} blockedReason={blockedReason} onDone={() => setEditing(false)} />
      ) : (
        <>
          <div className="bubble user-bubble">{message.content}</div>
          {canEdit && (
            <div className="message-actions">
              <button type="button" className="action-button" data-testid="edit-button" aria-label="Edit message" onClick={() => setEditing(true)}>
                <PencilIcon size={14} />
                <span>Edit</span>
              </button>
            </div>
          )}
        </>
      )}
    </article>
  );
}

function EditForm({ message, blockedReason, onDone }: { message: Message; blockedReason: string | null; onDone: () => void }) {
  const actions = useActions();
  const [text, setText] = useState(message.content);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const submit = async () => {
    if (!text.trim() || busy || blockedReason) return;
    setBusy(true);
    const ok = await actions.editAndResend(message.conversationId, message.id, text.trim());
    setBusy(false);
    if (ok) onDone();
  };

  return (
    <form
      className="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        ref={ref}
        className="edit-input"
        aria-label="Edit message"
        data-testid="edit-input"
        value={text}
        rows={Math.min(10, Math.max(2, text.split("\n").length))}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void submit();
          } else if (e.key === "Escape") {
            e.preventDefault();
            onDone();
          }
        }}
      />
      <div className="edit-actions">
        {blockedReason && <span className="hint">{blockedReason}</span>}
        <button type="button" className="btn btn-small" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-small btn-primary" data-testid="edit-save" disabled={!text.trim() || busy || !!blockedReason}>
          Save &amp; send
        </button>
      </div>
    </form>
  );
}

function statusLabel(message: Message): string | null {
  switch (message.status) {
    case "stopped":
      return "Stopped";
    case "interrupted":
      // The host says why when it knows (Tandem closed mid-reply, the engine crashed); else the engine stopped.
      return message.error ? `Interrupted: ${message.error}` : "Interrupted — the engine stopped";
    case "error":
      return message.error || "Generation failed";
    default:
      return null;
  }
}

/** The speculation part of the stats line, with the raw counts in its own tooltip; nothing for a plain reply. */
function SpeculationStats({ stats }: { stats: GenerationStats }) {
  const summary = speculationSummary(stats);
  if (!summary) return null;
  return (
    <span className="message-spec-stats" data-testid="message-spec-stats" title={speculationDetail(stats)}>
      {summary}
    </span>
  );
}

/** The KV cache outcome of the reply's prompt, when the stats carry one. */
function CacheOutcome({ stats }: { stats: GenerationStats }) {
  const outcome = cacheOutcome(stats);
  if (!outcome) return null;
  return (
    <span className="message-cache" data-testid="message-cache" title={cacheDetail(stats)}>
      cache: {outcome}
    </span>
  );
}

function AssistantMessage({ message, canRegenerate, blockedReason }: MessageViewProps) {
  const actions = useActions();
  const streaming = message.status === "streaming";
  const streamed = useMessagesStore((s) => (streaming ? s.streaming[message.id] : undefined));
  const text = displayText(message, streamed);
  const label = statusLabel(message);
  // Where the text came from (kept for replies streamed in this window): tinted when the toolbar says so.
  const tint = usePrefsStore((s) => s.tint);
  const segments = useMessagesStore((s) => (tint ? s.segments[message.id] : undefined));

  return (
    <article
      className={`message message-assistant status-${message.status}`}
      data-testid="message-assistant"
      data-status={message.status}
      data-id={message.id}
      aria-label="Assistant message"
      aria-busy={streaming || undefined}
    >
      <div className="assistant-body">
        {text ? <Markdown text={text} segments={segments} /> : streaming ? null : <p className="muted">(no text)</p>}
        {streaming &&
          (text ? (
            <span className="caret" aria-hidden="true" />
          ) : (
            <span className="typing" aria-label="Generating">
              <span />
              <span />
              <span />
            </span>
          ))}
      </div>
      {label && (
        <div className={`message-status status-${message.status}`} data-testid="message-status" role={message.status === "error" ? "alert" : undefined}>
          {label}
        </div>
      )}
      {!streaming && (
        <div className="message-footer">
          {message.stats && (
            <div className="message-stats" data-testid="message-stats" title={statsDetail(message.stats)}>
              {statsParts(message.stats).map((part, i) => (
                <span key={i}>{part}</span>
              ))}
              <SpeculationStats stats={message.stats} />
              <CacheOutcome stats={message.stats} />
            </div>
          )}
          {message.remote && (
            <div className="message-stats message-remote" data-testid="message-remote" title={message.remote.baseUrl}>
              <span>
                {message.model ?? "remote model"} on {message.remote.connectionName}
              </span>
              {message.remote.stats && <span>{remoteStatsLine(message.remote.stats)}</span>}
            </div>
          )}
          <div className="message-actions">
            {text && <CopyButton text={text} ariaLabel="Copy message" testId="copy-message" />}
            {canRegenerate && (
              <button
                type="button"
                className="action-button"
                data-testid="regenerate-button"
                aria-label="Regenerate reply"
                title={blockedReason ?? "Regenerate"}
                disabled={!!blockedReason}
                onClick={() => void actions.regenerate(message.conversationId)}
              >
                <RefreshIcon size={14} />
                <span>Regenerate</span>
              </button>
            )}
          </div>
        </div>
      )}
    </article>
  );
}
