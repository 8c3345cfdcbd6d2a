/**
 * What the UI can do: each action calls the host through the client. State the host pushes as an event reaches the
 * stores by that event alone (the subscriber): an action that changes a conversation, the settings, the draft, the
 * cache, a download or the engine does not also write its result there. An action records a result only where no
 * event carries it: the messages a send creates, a library listing the host returns for a change it made itself,
 * what a fetch returns. Components get these through `useActions()` (see context.tsx), never the client directly.
 */
import type {
  AppFolder,
  DatabaseRecovery,
  FitEstimate,
  HfTokenStatus,
  HubFile,
  HubModel,
  ModelFile,
  Settings,
  SettingsPatch,
  TandemClient,
  WindowParams,
  WindowResult,
} from "../../contracts/window/index.js";
import type { SpeculationMode } from "../../contracts/engine/protocol.js";
import { errorCode, errorMessage } from "./api/client.js";
import { isUploadCapable } from "./api/upload.js";
import { createConnectionActions } from "./connection-actions.js";
import { createBenchmarkActions } from "./benchmark-actions.js";
import { createFirstRun } from "./flows/first-run.js";
import { useApiServerStore } from "./stores/api-server.js";
import { useConversationsStore } from "./stores/conversations.js";
import { useDatabaseStore } from "./stores/database.js";
import { useDownloadsStore } from "./stores/downloads.js";
import { useEngineStore } from "./stores/engine.js";
import { useMessagesStore } from "./stores/messages.js";
import { useMetricsStore } from "./stores/metrics.js";
import { rememberedConversation } from "./stores/prefs.js";
import { useModelsStore } from "./stores/models.js";
import { useSettingsStore } from "./stores/settings.js";

export type Actions = ReturnType<typeof createActions>;

/** What an import or upload did: the message to show, and the new library file on success. */
export type ImportOutcome = { ok: true; message: string; model: ModelFile } | { ok: false; message: string };

export function createActions(client: TandemClient) {
  const notice = (error: unknown) => {
    // A lost connection has its own banner.
    if (errorCode(error) === "DISCONNECTED") return;
    useEngineStore.getState().setNotice(errorMessage(error));
  };

  /** Runs an action, showing its failure in the notice banner; resolves to undefined on failure. */
  async function attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      notice(error);
      return undefined;
    }
  }

  let searchSeq = 0;

  async function refreshDatabaseStatus(): Promise<void> {
    try {
      useDatabaseStore.getState().setStatus(await client.getDatabaseStatus({}));
    } catch (error) {
      // Not a passing failure: nothing works without the database, so the window shows its own screen for it.
      if (errorCode(error) !== "DATABASE_UNAVAILABLE") throw error;
      useDatabaseStore.getState().setUnavailable(errorMessage(error));
    }
  }

  async function refreshConversations(): Promise<void> {
    const seq = ++searchSeq;
    const query = useConversationsStore.getState().query.trim();
    const list = await client.listConversations(query ? { query } : {});
    // An older search answering late must not overwrite a newer one.
    if (seq === searchSeq) useConversationsStore.getState().setList(list);
  }

  async function openConversation(id: string): Promise<void> {
    const { conversation, messages } = await client.getConversation({ id });
    useConversationsStore.getState().upsert(conversation);
    useMessagesStore.getState().setConversationMessages(id, messages);
    useMetricsStore.getState().restore(messages);
  }

  async function refreshModels(): Promise<void> {
    try {
      useModelsStore.getState().setListing(await client.listModels({}));
    } catch (error) {
      useModelsStore.getState().setListError(errorMessage(error));
    }
  }

  /**
   * Creates a conversation and selects it. A creation still in flight is shared: "New chat" followed at once by
   * Enter must put the message in that new chat, not create a second one.
   */
  let creating: Promise<string> | null = null;
  /** Conversations created here for a first message (see dropIfEmpty). */
  const createdHere = new Set<string>();
  function createAndSelect(): Promise<string> {
    creating ??= (async () => {
      try {
        // The list gets it from the conversationUpdated event; it has no messages yet.
        const conversation = await client.createConversation({});
        createdHere.add(conversation.id);
        // The mode chosen in the header for the new chat, before it existed (the event brings it to the list).
        const mode = useConversationsStore.getState().newChatSpeculation;
        if (mode) {
          await client.setConversationSpeculation({ id: conversation.id, mode });
          useConversationsStore.getState().setNewChatSpeculation(null);
        }
        useMessagesStore.getState().setConversationMessages(conversation.id, []);
        useConversationsStore.getState().select(conversation.id);
        return conversation.id;
      } finally {
        creating = null;
      }
    })();
    return creating;
  }

  /**
   * Deletes a conversation this window created for a first message that then failed, once the user leaves it empty
   * (the conversationDeleted event drops it from the stores).
   */
  async function dropIfEmpty(id: string | null): Promise<void> {
    if (!id || creating || !createdHere.has(id)) return;
    const messages = useMessagesStore.getState().byConversation[id];
    if (!messages || messages.length > 0) {
      createdHere.delete(id);
      return;
    }
    createdHere.delete(id);
    await attempt(() => client.deleteConversation({ id }));
  }

  const connections = createConnectionActions(client);

  const actions = {
    ...connections,

    /** Fetches everything the window shows; called at start, after a lost connection comes back, after a recovery. */
    async loadInitial(): Promise<void> {
      useEngineStore.getState().setNotice(null);
      const results = await Promise.allSettled([
        refreshDatabaseStatus(),
        client.getAppInfo({}).then((info) => useSettingsStore.getState().setAppInfo(info)),
        client.getSettings({}).then((settings) => useSettingsStore.getState().setSettings(settings)),
        client.getEngineStatus({}).then((status) => {
          useEngineStore.getState().setStatus(status);
          if (status.loadingModelPath) useModelsStore.getState().setLoading({ path: status.loadingModelPath, progress: 0 });
        }),
        client.getApiServerStatus({}).then((status) => useApiServerStore.getState().setStatus(status)),
        connections.refreshConnections(),
        client.listDownloads({}).then((list) => useDownloadsStore.getState().setList(list)),
        refreshModels(),
        refreshConversations(),
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) notice(failed.reason);
      // A reload opens the conversation the window showed (unless it was deleted meanwhile: then a new chat).
      const remembered = rememberedConversation();
      if (!useConversationsStore.getState().selectedId && remembered && !useDatabaseStore.getState().unavailable) {
        useConversationsStore.getState().select(remembered);
      }
      const selected = useConversationsStore.getState().selectedId;
      if (selected) {
        try {
          await openConversation(selected);
        } catch (error) {
          if (errorCode(error) === "NOT_FOUND") useConversationsStore.getState().remove(selected);
          else notice(error);
        }
      }
    },

    /**
     * Backup-and-recover of a damaged database ("recover": keep what is readable; "empty": start over); the outcome
     * goes to the database store, which the recovery screen shows. Then everything is fetched again: what the window
     * holds came from the damaged database, or failed to.
     */
    async recoverDatabase(mode: DatabaseRecovery["mode"]): Promise<void> {
      useDatabaseStore.getState().startRecovery(mode);
      let report: DatabaseRecovery;
      try {
        report = await client.recoverDatabase({ mode });
      } catch (error) {
        useDatabaseStore.getState().recoveryFailed(errorMessage(error));
        return;
      }
      useDatabaseStore.getState().recovered(report);
      // A conversation selected before may not have survived (and never does in "empty").
      useConversationsStore.getState().select(null);
      await actions.loadInitial();
    },

    /** Leaves the recovery report for the chats. */
    dismissDatabaseReport(): void {
      useDatabaseStore.getState().dismissReport();
    },

    /**
     * Opens one of Tandem's folders in the file manager (the app only); resolves to the error message, or null when
     * the host answered (`opened` says whether the file manager took it).
     */
    async openFolder(folder: AppFolder): Promise<{ opened: boolean; error: string | null }> {
      try {
        const { opened } = await client.openFolder({ folder });
        return { opened, error: null };
      } catch (error) {
        return { opened: false, error: errorMessage(error) };
      }
    },

    /** The last lines of a log file (the crash screen); throws on failure. */
    async readLogTail(log: "engine" | "host", lines: number): Promise<string[]> {
      return (await client.readLogTail({ log, lines })).lines;
    },

    search(query: string): Promise<void> {
      useConversationsStore.getState().setQuery(query);
      return attempt(refreshConversations).then(() => undefined);
    },

    /**
     * Shows a new, empty chat. It is stored only with its first message (send creates it), so clicking "New chat"
     * again and again leaves nothing behind; an empty chat left selected (its first send failed) is deleted on leaving.
     */
    async newChat(): Promise<void> {
      const left = useConversationsStore.getState().selectedId;
      useConversationsStore.getState().select(null);
      await dropIfEmpty(left);
    },

    async selectConversation(id: string): Promise<void> {
      const left = useConversationsStore.getState().selectedId;
      useConversationsStore.getState().select(id);
      if (left !== id) void dropIfEmpty(left);
      await attempt(() => openConversation(id));
    },

    /** Resolves false when the host refused the new title. */
    async renameConversation(id: string, title: string): Promise<boolean> {
      const conversation = await attempt(() => client.renameConversation({ id, title }));
      return conversation !== undefined;
    },

    /** The conversationDeleted event drops it from the stores. */
    async deleteConversation(id: string): Promise<void> {
      await attempt(() => client.deleteConversation({ id }));
    },

    /** Sends a message in the selected conversation (creating one when none is selected). False on failure. */
    async send(content: string): Promise<boolean> {
      const result = await attempt(async () => {
        const conversationId = (await creating) ?? useConversationsStore.getState().selectedId ?? (await createAndSelect());
        const sent = await client.sendMessage({ conversationId, content });
        useMessagesStore.getState().upsertMessages(conversationId, [sent.userMessage, sent.assistantMessage]);
        return sent;
      });
      return !!result;
    },

    async stop(conversationId: string): Promise<void> {
      await attempt(() => client.stopGeneration({ conversationId }));
    },

    async regenerate(conversationId: string): Promise<void> {
      const result = await attempt(() => client.regenerate({ conversationId }));
      if (result) useMessagesStore.getState().replaceLastReply(conversationId, result.assistantMessage);
    },

    async editAndResend(conversationId: string, messageId: string, content: string): Promise<boolean> {
      const result = await attempt(() => client.editAndResend({ conversationId, messageId, content }));
      if (!result) return false;
      useMessagesStore.getState().replaceFrom(conversationId, messageId, [result.userMessage, result.assistantMessage]);
      return true;
    },

    refreshModels,

    /** Opens the native folder chooser (app only); the new listing arrives as `modelsChanged`. */
    async chooseModelsFolder(): Promise<void> {
      await attempt(() => client.chooseModelsFolder({}));
    },

    /** Opens the native GGUF file chooser (app only); resolves to the chosen path, or null (cancelled or failed). */
    async chooseModelFile(): Promise<string | null> {
      return (await attempt(() => client.chooseModelFile({}))) ?? null;
    },

    /** Imports a GGUF into the models folder (the new listing arrives as `modelsChanged`); resolves to what happened or the error. */
    async importModel(path: string, mode: "copy" | "link"): Promise<ImportOutcome> {
      try {
        const result = await client.importModel({ path, mode });
        const how = result.method === "linked" ? "linked" : mode === "link" ? "copied (a link is not possible across drives)" : "copied";
        return { ok: true, message: `Imported ${result.model.name} (${how}).`, model: result.model };
      } catch (error) {
        return { ok: false, message: errorMessage(error) };
      }
    },

    /** Whether this client can upload files from the browser (web mode). */
    canUpload: isUploadCapable(client),

    /** Uploads a GGUF chosen or dropped in the browser (web mode) into the models folder; resolves to what happened. */
    async uploadModel(file: File, onProgress?: (fraction: number) => void): Promise<ImportOutcome> {
      if (!isUploadCapable(client)) return { ok: false, message: "Uploading is only possible in the browser; import the file by its path instead." };
      if (!file.name.toLowerCase().endsWith(".gguf")) return { ok: false, message: `"${file.name}" is not a GGUF model file (.gguf).` };
      try {
        const result = await client.uploadModel(file, onProgress);
        return { ok: true, message: `Uploaded ${result.model.name}.`, model: result.model };
      } catch (error) {
        return { ok: false, message: errorMessage(error) };
      }
    },

    /** Deletes a model file (and its learned caches; the new listing arrives as `modelsChanged`); resolves to the error, or null. */
    async deleteModel(path: string): Promise<string | null> {
      try {
        await client.deleteModel({ path });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    /**
     * Adds (a typed path, or with null the folder chooser of the app) or removes an extra library folder; the new
     * listing arrives as `modelsChanged`, like every change of the library. Resolves to the error message, or null.
     */
    async addLibraryFolder(path: string | null): Promise<string | null> {
      try {
        if (path === null) await client.chooseLibraryFolder({});
        else await client.addModelsFolder({ path });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    async removeLibraryFolder(path: string): Promise<string | null> {
      try {
        await client.removeModelsFolder({ path });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    /** The memory a model (and draft) would need here; throws the host's error. */
    estimateFit(params: WindowParams<"estimateFit">): Promise<FitEstimate> {
      return client.estimateFit(params);
    },

    /** Hugging Face Hub search and a repo's GGUF files; both throw the host's error. */
    async searchHub(query: string): Promise<HubModel[]> {
      return (await client.searchHub({ query })).results;
    },
    async listHubFiles(repo: string): Promise<HubFile[]> {
      return (await client.listHubFiles({ repo })).files;
    },

    /** Whether a Hugging Face token is set (never the token); setting one (null removes it) gives the new status. */
    getHfToken(): Promise<HfTokenStatus> {
      return client.getHfToken({});
    },
    setHfToken(token: string | null): Promise<HfTokenStatus> {
      return client.setHfToken({ token });
    },

    ...createBenchmarkActions(client),

    /** Uses a typed folder path; resolves to the error message, or null on success. */
    async setModelsFolder(path: string): Promise<string | null> {
      try {
        await client.setModelsFolder({ path });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    async loadModel(path: string): Promise<void> {
      const engine = useEngineStore.getState();
      engine.setLastModelPath(path);
      engine.setModelError(null);
      useModelsStore.getState().setLoading({ path, progress: 0 });
      try {
        await client.loadModel({ path });
      } catch (error) {
        useEngineStore.getState().setModelError({ message: errorMessage(error), path });
      } finally {
        // A load refused before it reached the engine sends no status that would end it.
        if (useModelsStore.getState().loading?.path === path) useModelsStore.getState().setLoading(null);
      }
    },

    /** Saves settings (the settingsChanged event updates the store); throws the host's error so the dialog can show it. */
    async saveSettings(patch: SettingsPatch): Promise<Settings> {
      return client.updateSettings(patch);
    },

    /**
     * Sets the API server's key (null clears it); resolves to the host's error message, or null. The key is never
     * read back: the new status (`keySet`, and a restart it may cause) arrives through the apiServerStatus event.
     */
    async setApiServerKey(key: string | null): Promise<string | null> {
      try {
        await client.setApiServerKey({ key });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    /** Sets a conversation's speculation mode (null: follow the default in settings). */
    /** The speculation mode of the new chat (not stored yet): kept here and applied when its first message creates it. */
    setNewChatSpeculation(mode: SpeculationMode | null): void {
      useConversationsStore.getState().setNewChatSpeculation(mode);
    },

    async setConversationSpeculation(id: string, mode: SpeculationMode | null): Promise<void> {
      await attempt(() => client.setConversationSpeculation({ id, mode }));
    },

    /** The models folder's drafts for the loaded (or configured) target, with tokenizer reasons; throws on failure. */
    async compatibleDrafts(targetPath?: string): Promise<WindowResult<"compatibleDrafts">> {
      return client.compatibleDrafts(targetPath ? { targetPath } : {});
    },

    /**
     * Loads (or with null, unloads) the draft model; resolves to the host's error message, or null on success. The
     * new setting and status arrive as events (settingsChanged, engineStatus), before this resolves.
     */
    async setDraftModel(path: string | null): Promise<string | null> {
      try {
        await client.setDraftModel({ path });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    /** Deletes the saved conversation states (the engineStatus event brings the emptied cache); resolves to an error message, or null. */
    async clearCache(): Promise<string | null> {
      try {
        await client.clearCache({});
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    /** Starts a model download (downloadProgress events bring it); resolves to the host's error message, or null. */
    async startDownload(source: string, sha256?: string): Promise<string | null> {
      try {
        await client.startDownload({ source, ...(sha256 ? { sha256 } : {}) });
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    },

    async downloadControl(action: "pause" | "resume" | "cancel", id: string): Promise<void> {
      const call = { pause: client.pauseDownload, resume: client.resumeDownload, cancel: client.cancelDownload }[action];
      await attempt(() => call.call(client, { id }));
    },

    /** The engineStatus events show the restart. */
    async restartEngine(): Promise<void> {
      await attempt(() => client.restartEngine({}));
    },
  };
  // The multi-step flows (flows/) run on these actions.
  return { ...actions, firstRun: createFirstRun(actions) };
}
