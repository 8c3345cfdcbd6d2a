import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { useConversationsStore } from "../../renderer/src/stores/conversations.js";
import { useEngineStore } from "../../renderer/src/stores/engine.js";
import { useMessagesStore } from "../../renderer/src/stores/messages.js";
import { useModelsStore } from "../../renderer/src/stores/models.js";
import { useSettingsStore } from "../../renderer/src/stores/settings.js";
import { useUiStore } from "../../renderer/src/stores/ui.js";

// Every test starts from empty stores.
const stores = [useConversationsStore, useEngineStore, useMessagesStore, useModelsStore, useSettingsStore, useUiStore] as const;
const initial = stores.map((s) => s.getInitialState());

afterEach(() => {
  cleanup();
  stores.forEach((store, i) => (store as { setState(s: unknown, replace: true): void }).setState(initial[i], true));
  delete document.documentElement.dataset.theme;
});
