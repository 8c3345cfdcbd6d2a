import { useEffect, useLayoutEffect } from "react";
import { useConversationsStore } from "../stores/conversations.js";
import { selectMessages, useMessagesStore } from "../stores/messages.js";
import { useSettingsStore } from "../stores/settings.js";
import { usePrefsStore } from "../stores/prefs.js";
import { useUiStore } from "../stores/ui.js";
import { useEngineStore } from "../stores/engine.js";
import { selectShowDatabaseScreen, useDatabaseStore } from "../stores/database.js";
import { AboutDialog } from "./AboutDialog.js";
import { Banners } from "./Banners.js";
import { CrashScreen } from "./CrashScreen.js";
import { DatabaseScreen } from "./DatabaseScreen.js";
import { WelcomeScreen } from "./WelcomeScreen.js";
import { useShowWelcome } from "../flows/first-run.js";
import { useActions } from "../context.js";
import { useMediaQuery } from "../hooks.js";
import { ChatHeader } from "./ChatHeader.js";
import { Composer } from "./Composer.js";
import { EmptyState } from "./EmptyState.js";
import { ImportDropZone } from "./ImportDropZone.js";
import { MessageList } from "./MessageList.js";
import { MetricsPanel } from "./MetricsPanel.js";
import { ModelsScreen } from "./ModelsScreen.js";
import { SettingsDialog } from "./SettingsDialog.js";
import { Sidebar } from "./Sidebar.js";
import { StatusBar } from "./StatusBar.js";

/**
 * Applies the theme setting: "system" follows the OS (prefers-color-scheme), the others override it. A layout
 * effect, so the theme is in place before any child's effects run (charts read the themed colours then).
 */
function useTheme() {
  const theme = useSettingsStore((s) => s.settings?.theme ?? "system");
  useLayoutEffect(() => {
    const root = document.documentElement;
    if (theme === "system") delete root.dataset.theme;
    else root.dataset.theme = theme;
  }, [theme]);
}

/** Where the metrics panel lies over the chat instead of taking a column (keep in step with styles.css). */
const OVERLAY_METRICS = "(max-width: 1200px)";

function ChatArea() {
  const selectedId = useConversationsStore((s) => s.selectedId);
  const count = useMessagesStore((s) => selectMessages(selectedId)(s).length);
  const failed = useEngineStore((s) => s.status?.state === "failed");
  const welcome = useShowWelcome();
  if (failed || welcome) return <div className="chat-area">{failed ? <CrashScreen /> : <WelcomeScreen />}</div>;
  return (
    <div className="chat-area">
      {selectedId && count > 0 ? <MessageList conversationId={selectedId} /> : <EmptyState hasConversation={!!selectedId} />}
    </div>
  );
}

export function App() {
  useTheme();
  const settingsOpen = useUiStore((s) => s.settingsOpen);
  const setSettingsOpen = useUiStore((s) => s.setSettingsOpen);
  const modelsScreenOpen = useUiStore((s) => s.modelsScreenOpen);
  const setModelsScreenOpen = useUiStore((s) => s.setModelsScreenOpen);
  const metricsOpen = usePrefsStore((s) => s.metricsOpen);
  const aboutOpen = useUiStore((s) => s.aboutOpen);
  const setAboutOpen = useUiStore((s) => s.setAboutOpen);
  const sidebarOpen = useUiStore((s) => s.sidebarOpen);
  const setSidebarOpen = useUiStore((s) => s.setSidebarOpen);
  const setMetricsOpen = usePrefsStore((s) => s.setMetricsOpen);
  const selectedId = useConversationsStore((s) => s.selectedId);
  const overlayMetrics = useMediaQuery(OVERLAY_METRICS);
  const actions = useActions();
  // A narrow window's conversation list is over the chat: choosing a chat (or a new one) closes it, even the chat
  // already open.
  useEffect(() => setSidebarOpen(false), [selectedId, setSidebarOpen]);
  // The first-run flow follows the host's downloads and engine for as long as the window is open.
  useEffect(() => actions.firstRun.start(), [actions]);
  const databaseScreen = useDatabaseStore(selectShowDatabaseScreen);
  // Everything else reads or writes the database: while it can't be used, its screen is all the window shows.
  if (databaseScreen) return <DatabaseScreen />;
  return (
    <div
      className={`app${metricsOpen ? " with-metrics" : ""}${sidebarOpen ? " sidebar-open" : ""}`}
      onKeyDown={(e) => {
        // Escape closes what lies over the chat in a narrow window (dialogs stop their own Escape).
        if (e.key !== "Escape" || e.defaultPrevented) return;
        if (sidebarOpen) setSidebarOpen(false);
        else if (metricsOpen && overlayMetrics) setMetricsOpen(false);
      }}
      onClick={(e) => {
        if (sidebarOpen && e.target instanceof Element && e.target.closest(".conversation-select, [data-testid='new-chat']")) setSidebarOpen(false);
      }}
    >
      <Sidebar />
      {/* Behind the conversation list when it lies over the chat (narrow windows only): a click closes it. */}
      <div className="sidebar-scrim" aria-hidden="true" onClick={() => setSidebarOpen(false)} />
      <main className="main">
        <ChatHeader />
        <div className="main-body">
          <Banners />
          <ChatArea />
          <Composer />
          {/* A narrow window's metrics panel lies over the chat, under the header, instead of squeezing it. */}
          {metricsOpen && overlayMetrics && <MetricsPanel />}
        </div>
      </main>
      {metricsOpen && !overlayMetrics && <MetricsPanel />}
      <StatusBar />
      {settingsOpen && <SettingsDialog onClose={() => setSettingsOpen(false)} />}
      {modelsScreenOpen && <ModelsScreen onClose={() => setModelsScreenOpen(false)} />}
      <ImportDropZone />
      {aboutOpen && <AboutDialog onClose={() => setAboutOpen(false)} />}
    </div>
  );
}

/** Shown instead of the app in web mode when the page was opened without its access token. */
export function MissingToken() {
  return (
    <div className="fullscreen-message" data-testid="missing-token">
      <div className="brand-mark large" aria-hidden="true" />
      <h1>Access token missing</h1>
      <p>
        Open the URL printed by <code>npm run web</code> (it contains the access token).
      </p>
    </div>
  );
}
