/** Every renderer store, and putting them all back as a fresh page has them (setup.ts after each test, reloadPage). */
import { useApiServerStore } from "../../renderer/src/stores/api-server.js";
import { useBenchmarksStore } from "../../renderer/src/stores/benchmarks.js";
import { useConnectionsStore } from "../../renderer/src/stores/connections.js";
import { useConversationsStore } from "../../renderer/src/stores/conversations.js";
import { useDatabaseStore } from "../../renderer/src/stores/database.js";
import { useDownloadsStore } from "../../renderer/src/stores/downloads.js";
import { useEngineStore } from "../../renderer/src/stores/engine.js";
import { useFirstRunStore } from "../../renderer/src/flows/first-run.js";
import { useMessagesStore } from "../../renderer/src/stores/messages.js";
import { useMetricsStore } from "../../renderer/src/stores/metrics.js";
import { useModelsStore } from "../../renderer/src/stores/models.js";
import { usePrefsStore } from "../../renderer/src/stores/prefs.js";
import { useSettingsStore } from "../../renderer/src/stores/settings.js";
import { useUiStore } from "../../renderer/src/stores/ui.js";

export const stores = [
  useApiServerStore,
  useBenchmarksStore,
  useConnectionsStore,
  useConversationsStore,
  useDatabaseStore,
  useDownloadsStore,
  useEngineStore,
  useFirstRunStore,
  useMessagesStore,
  useMetricsStore,
  useModelsStore,
  usePrefsStore,
  useSettingsStore,
  useUiStore,
] as const;
const initial = stores.map((s) => s.getInitialState());

export function resetStores(): void {
  stores.forEach((store, i) => (store as { setState(s: unknown, replace: true): void }).setState(initial[i], true));
}
