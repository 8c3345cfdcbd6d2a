import { useEffect, useId, useMemo, useRef, useState } from "react";
import type { Conversation } from "../../../contracts/window/index.js";
import { MATCH_END, MATCH_START } from "../../../contracts/window/values.js";
import { useActions } from "../context.js";
import { dateGroup } from "../format.js";
import { useConversationsStore } from "../stores/conversations.js";
import { ConfirmDialog } from "./ConfirmDialog.js";
import { PencilIcon, PlusIcon, SearchIcon, TrashIcon } from "./Icons.js";

const SEARCH_DEBOUNCE_MS = 200;

export function Sidebar() {
  const actions = useActions();
  const list = useConversationsStore((s) => s.list);
  const loaded = useConversationsStore((s) => s.loaded);
  const selectedId = useConversationsStore((s) => s.selectedId);
  const query = useConversationsStore((s) => s.query);
  const [search, setSearch] = useState(query);
  const [confirmDelete, setConfirmDelete] = useState<Conversation | null>(null);

  useEffect(() => {
    if (search === useConversationsStore.getState().query) return;
    const timer = setTimeout(() => void actions.search(search), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search, actions]);

  const groups = useMemo(() => {
    const out: { label: string; items: Conversation[] }[] = [];
    const now = Date.now();
    for (const c of list) {
      const label = dateGroup(c.updatedAt, now);
      const last = out[out.length - 1];
      if (last && last.label === label) last.items.push(c);
      else out.push({ label, items: [c] });
    }
    return out;
  }, [list]);

  return (
    <aside className="sidebar" id="sidebar" aria-label="Conversations">
      <div className="sidebar-header">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Tandem</span>
        </div>
        <button type="button" className="btn btn-new-chat" data-testid="new-chat" onClick={() => void actions.newChat()}>
          <PlusIcon />
          <span>New chat</span>
        </button>
        <div className="search">
          <SearchIcon />
          <input
            type="search"
            className="search-input"
            placeholder="Search chats"
            aria-label="Search conversations"
            data-testid="conversation-search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape" && search) {
                e.preventDefault();
                setSearch("");
              }
            }}
          />
        </div>
      </div>
      <nav className="conversation-nav" aria-label="Conversation list">
        {loaded && list.length === 0 ? (
          <p className="sidebar-empty" data-testid="conversations-empty">
            {query.trim() ? `No chats match “${query.trim()}”.` : "No conversations yet. Start a new chat."}
          </p>
        ) : (
          groups.map((group) => (
            <section key={group.label} className="conversation-group" aria-label={group.label}>
              <h2 className="group-label">{group.label}</h2>
              <ul className="conversation-list">
                {group.items.map((c) => (
                  <ConversationItem
                    key={c.id}
                    conversation={c}
                    selected={c.id === selectedId}
                    onSelect={() => void actions.selectConversation(c.id)}
                    onRename={(title) => actions.renameConversation(c.id, title)}
                    onDelete={() => setConfirmDelete(c)}
                  />
                ))}
              </ul>
            </section>
          ))
        )}
      </nav>
      {confirmDelete && (
        <ConfirmDialog
          title="Delete this chat?"
          confirmLabel="Delete"
          danger
          onCancel={() => setConfirmDelete(null)}
          onConfirm={() => {
            const id = confirmDelete.id;
            setConfirmDelete(null);
            void actions.deleteConversation(id);
          }}
        >
          <p>
            “{confirmDelete.title || "Untitled"}” and all its messages will be deleted. This can’t be undone.
          </p>
        </ConfirmDialog>
      )}
    </aside>
  );
}

interface ItemProps {
  conversation: Conversation;
  selected: boolean;
  onSelect: () => void;
  onRename: (title: string) => Promise<boolean>;
  onDelete: () => void;
}

function ConversationItem({ conversation, selected, onSelect, onRename, onDelete }: ItemProps) {
  const [editing, setEditing] = useState(false);
  const title = conversation.title || "Untitled";
  const matchId = useId();

  return (
    <li
      className={`conversation-item${selected ? " selected" : ""}`}
      data-testid="conversation-item"
      data-id={conversation.id}
      aria-current={selected ? "true" : undefined}
    >
      {editing ? (
        <RenameField
          initial={conversation.title}
          onDone={async (value) => {
            if (value !== null && value.trim() && value.trim() !== conversation.title) {
              if (!(await onRename(value.trim()))) return;
            }
            setEditing(false);
          }}
        />
      ) : (
        <>
          <button
            type="button"
            className={`conversation-select${conversation.match ? " with-match" : ""}`}
            onClick={onSelect}
            title={title}
            aria-label={conversation.match ? title : undefined}
            aria-describedby={conversation.match ? matchId : undefined}
            onKeyDown={(e) => {
              if (e.key === "F2") {
                e.preventDefault();
                setEditing(true);
              } else if (e.key === "Delete") {
                e.preventDefault();
                onDelete();
              }
            }}
          >
            <span className="conversation-title">{title}</span>
            {conversation.match && (
              <span className="conversation-match" id={matchId} data-testid="conversation-match">
                <MatchSnippet snippet={conversation.match} />
              </span>
            )}
          </button>
          <div className="conversation-actions">
            <button
              type="button"
              className="icon-button"
              aria-label={`Rename “${title}”`}
              title="Rename"
              data-testid="rename-conversation"
              onClick={() => setEditing(true)}
            >
              <PencilIcon size={15} />
            </button>
            <button
              type="button"
              className="icon-button danger"
              aria-label={`Delete “${title}”`}
              title="Delete"
              data-testid="delete-conversation"
              onClick={onDelete}
            >
              <TrashIcon size={15} />
            </button>
          </div>
        </>
      )}
    </li>
  );
}

/** A search result's snippet of message text, its matched words marked. */
function MatchSnippet({ snippet }: { snippet: string }) {
  // Split on the start marker: each part after the first begins with a matched word, up to the end marker.
  const [before, ...marked] = snippet.split(MATCH_START);
  return (
    <>
      {before}
      {marked.map((part, i) => {
        const end = part.indexOf(MATCH_END);
        return end < 0 ? (
          <span key={i}>{part}</span>
        ) : (
          <span key={i}>
            <mark>{part.slice(0, end)}</mark>
            {part.slice(end + 1)}
          </span>
        );
      })}
    </>
  );
}

/** Inline title editor: Enter saves, Escape cancels, leaving the field saves. `onDone(null)` means cancelled. */
function RenameField({ initial, onDone }: { initial: string; onDone: (value: string | null) => void | Promise<void> }) {
  const [value, setValue] = useState(initial);
  const done = useRef(false);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, []);

  const finish = (result: string | null) => {
    if (done.current) return;
    done.current = true;
    void Promise.resolve(onDone(result)).finally(() => {
      done.current = false;
    });
  };

  return (
    <input
      ref={inputRef}
      className="rename-input"
      aria-label="Conversation title"
      data-testid="rename-input"
      value={value}
      maxLength={200}
      onChange={(e) => setValue(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          finish(value);
        } else if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          finish(null);
        }
      }}
      onBlur={() => finish(value)}
    />
  );
}
