import type { Conversation } from "../../../contracts/window/index.js";
import { isSpeculationMode } from "../../../contracts/engine/values.js";
import { useActions } from "../context.js";
import { speculationModeLabel } from "../format.js";
import { useConversationsStore } from "../stores/conversations.js";
import { useEngineStore } from "../stores/engine.js";
import { useSettingsStore } from "../stores/settings.js";
import { BoltIcon } from "./Icons.js";

const DRAFT_HINT = "Draft model needs a draft chosen in Settings.";

/**
 * The chat header's speculation menu: this conversation's mode, or "Default (…)" to follow settings. For the new chat
 * (null: not stored until its first message) the chosen mode is kept and applied when the chat is created.
 */
export function SpeculationSelect({ conversation }: { conversation: Conversation | null }) {
  const actions = useActions();
  const newChatMode = useConversationsStore((s) => s.newChatSpeculation);
  const defaultMode = useSettingsStore((s) => s.settings?.speculation ?? null);
  const draftName = useEngineStore((s) => s.status?.draftModel?.name ?? null);
  const remote = useSettingsStore((s) => s.settings?.chatEngine.kind === "remote");
  const chosen = conversation ? conversation.speculation : newChatMode;
  const effective = chosen ?? defaultMode;
  const missingDraft = effective === "draft" && draftName === null;
  const title = missingDraft
    ? `Speculative decoding: draft model, but none is loaded. ${DRAFT_HINT}`
    : `Speculative decoding for this chat${draftName ? ` (draft: ${draftName})` : ""}: it changes the speed, not the reply (identical at temperature 0).`;

  if (remote) {
    // A remote server speculates (or not) as it was started; its figures still reach the metrics panel.
    return (
      <div className="speculation-picker remote" data-testid="speculation-remote" title="Speculative decoding is configured on the remote server; its acceptance shows in the metrics panel when it reports it.">
        <BoltIcon size={14} />
        <span className="speculation-remote-label">Speculation: set on the server</span>
      </div>
    );
  }

  return (
    <div className={`speculation-picker${missingDraft ? " warn" : ""}`}>
      <BoltIcon size={14} />
      <select
        className="input speculation-select"
        data-testid="speculation-select"
        aria-label="Speculative decoding for this chat"
        title={title}
        value={chosen ?? ""}
        onChange={(e) => {
          const value = e.target.value;
          const mode = isSpeculationMode(value) ? value : null;
          if (conversation) void actions.setConversationSpeculation(conversation.id, mode);
          else actions.setNewChatSpeculation(mode);
        }}
      >
        <option value="">{defaultMode ? `Default (${speculationModeLabel[defaultMode]})` : "Default"}</option>
        <option value="off">{speculationModeLabel.off}</option>
        <option value="auto">{speculationModeLabel.auto}</option>
        <option value="draft" disabled={draftName === null} title={draftName === null ? DRAFT_HINT : undefined}>
          {draftName === null ? `${speculationModeLabel.draft} (none loaded)` : speculationModeLabel.draft}
        </option>
        <option value="lookup">{speculationModeLabel.lookup}</option>
        <option value="ngram">{speculationModeLabel.ngram}</option>
      </select>
    </div>
  );
}
