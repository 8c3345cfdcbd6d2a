import { selectSelectedConversation, useConversationsStore } from "../stores/conversations.js";
import { useUiStore } from "../stores/ui.js";
import { GearIcon } from "./Icons.js";
import { ModelPicker } from "./ModelPicker.js";
import { SpeculationSelect } from "./SpeculationSelect.js";

export function ChatHeader() {
  const conversation = useConversationsStore(selectSelectedConversation);
  const openSettings = useUiStore((s) => s.setSettingsOpen);
  return (
    <header className="chat-header">
      <h1 className="chat-title" data-testid="chat-title" title={conversation?.title}>
        {conversation ? conversation.title || "Untitled" : "New chat"}
      </h1>
      <div className="header-actions">
        {conversation && <SpeculationSelect conversation={conversation} />}
        <ModelPicker />
        <button
          type="button"
          className="icon-button header-button"
          data-testid="settings-button"
          aria-label="Settings"
          title="Settings"
          onClick={() => openSettings(true)}
        >
          <GearIcon size={17} />
        </button>
      </div>
    </header>
  );
}
