import { selectSelectedConversation, useConversationsStore } from "../stores/conversations.js";
import { usePrefsStore } from "../stores/prefs.js";
import { useUiStore } from "../stores/ui.js";
import { ChartIcon, GearIcon, HighlighterIcon, MenuIcon } from "./Icons.js";
import { ModelPicker } from "./ModelPicker.js";
import { SpeculationSelect } from "./SpeculationSelect.js";

/**
 * The chat's title and its controls. In a narrow window the conversation list hides behind the first button, and
 * the header wraps: the title keeps its row, the controls take the next (styles.css, "Narrow windows").
 */
export function ChatHeader() {
  const conversation = useConversationsStore(selectSelectedConversation);
  const openSettings = useUiStore((s) => s.setSettingsOpen);
  const sidebarOpen = useUiStore((s) => s.sidebarOpen);
  const setSidebarOpen = useUiStore((s) => s.setSidebarOpen);
  const tint = usePrefsStore((s) => s.tint);
  const setTint = usePrefsStore((s) => s.setTint);
  const metricsOpen = usePrefsStore((s) => s.metricsOpen);
  const setMetricsOpen = usePrefsStore((s) => s.setMetricsOpen);
  return (
    <header className="chat-header">
      <button
        type="button"
        className="icon-button header-button sidebar-toggle"
        data-testid="sidebar-toggle"
        aria-label="Conversations"
        aria-expanded={sidebarOpen}
        aria-controls="sidebar"
        title={sidebarOpen ? "Hide the conversations" : "Show the conversations"}
        onClick={() => setSidebarOpen(!sidebarOpen)}
      >
        <MenuIcon size={18} />
      </button>
      <h1 className="chat-title" data-testid="chat-title" title={conversation?.title}>
        {conversation ? conversation.title || "Untitled" : "New chat"}
      </h1>
      <div className="header-actions">
        <SpeculationSelect conversation={conversation} />
        <ModelPicker />
        <button
          type="button"
          className={`icon-button header-button toggle-button${tint ? " on" : ""}`}
          data-testid="tint-toggle"
          aria-label="Tint accepted draft tokens"
          aria-pressed={tint}
          title={tint ? "Accepted draft tokens are tinted (click to turn off)" : "Tint the tokens that came from accepted drafts"}
          onClick={() => setTint(!tint)}
        >
          <HighlighterIcon size={17} />
        </button>
        <button
          type="button"
          className={`icon-button header-button toggle-button${metricsOpen ? " on" : ""}`}
          data-testid="metrics-toggle"
          aria-label="Metrics panel"
          aria-pressed={metricsOpen}
          aria-controls="metrics-panel"
          title={metricsOpen ? "Hide the metrics panel" : "Show speed and acceptance metrics"}
          onClick={() => setMetricsOpen(!metricsOpen)}
        >
          <ChartIcon size={17} />
        </button>
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
