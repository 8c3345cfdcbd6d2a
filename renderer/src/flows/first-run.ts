/**
 * The first-run flow, outside any component: download the recommended pair, load its target as the chat model, then
 * set its draft; or import a GGUF and load it; or point the library at a folder. Its state is a store the welcome
 * screen renders; the screen only calls these functions.
 *
 * The pair's progress is read from what the host pushes (downloadProgress, engineStatus), never kept only here: a
 * window that reloads in the middle finds the pair's downloads in the host's list (`resume`) and carries on from
 * wherever the host is (a download still running, the target loading, the draft still to set).
 */
import { create } from "zustand";
import type { DownloadInfo, ModelFile } from "../../../contracts/window/index.js";
import { RECOMMENDED_CPU_PAIR } from "../model-catalog.js";
import { useDownloadsStore } from "../stores/downloads.js";
import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";

/** The sources (`hf:` references) of the pair being fetched. */
export interface PairSources {
  target: string;
  draft: string;
}

export interface FirstRunState {
  /** The pair "Download both" started (or a reload found in the host's downloads): its target is loaded when done, then its draft set. */
  pair: PairSources | null;
  /** An import (or a file brought in by the import button) is being loaded. */
  importing: boolean;
  /** What the welcome screen is doing for the user right now (its buttons wait). */
  busy: FirstRunStep | null;
  /** Why the last step the user asked for failed, and which step (its card shows the message). */
  error: { at: FirstRunStep; message: string } | null;
}

/** The welcome screen's steps, one per card: download the pair, import a file, use a folder. */
export type FirstRunStep = "download" | "import" | "folder";

export const useFirstRunStore = create<FirstRunState>()(() => ({ pair: null, importing: false, busy: null, error: null }));

/** What the flow asks of the actions (actions.ts). */
export interface FirstRunActions {
  startDownload(source: string): Promise<string | null>;
  importModel(path: string, mode: "copy"): Promise<{ ok: true; model: ModelFile } | { ok: false; message: string }>;
  loadModel(path: string): Promise<void>;
  setDraftModel(path: string): Promise<string | null>;
  chooseModelsFolder(): Promise<void>;
  setModelsFolder(path: string): Promise<string | null>;
}

/** The latest download of a source (the downloads store keeps them in the order the host started them). */
export function downloadOf(list: readonly DownloadInfo[], source: string): DownloadInfo | null {
  return list.findLast((d) => d.source === source) ?? null;
}

const gone = (d: DownloadInfo | null) => d?.state === "failed" || d?.state === "cancelled";

/**
 * The recommended pair's flow as the host's state shows it, for a window that has just (re)started: its downloads
 * are in the host's list and the flow has not reached its end (no chat model yet, or the target is the chat model
 * and its draft is still downloading). Null when there is nothing to resume.
 */
export function resumablePair(): PairSources | null {
  const settings = useSettingsStore.getState().settings;
  if (!settings) return null;
  const list = useDownloadsStore.getState().list;
  const sources = { target: RECOMMENDED_CPU_PAIR.target.source, draft: RECOMMENDED_CPU_PAIR.draft.source };
  const target = downloadOf(list, sources.target);
  const draft = downloadOf(list, sources.draft);
  if (!target || !draft || gone(target)) return null;
  if (settings.modelPath === null) return sources;
  if (settings.modelPath === target.destPath && settings.draftModelPath === null && !gone(draft) && draft.state !== "done") return sources;
  return null;
}

export function createFirstRun(actions: FirstRunActions) {
  const store = useFirstRunStore;
  const set = (patch: Partial<FirstRunState>) => store.setState(patch);
  /** The target and draft this window asked the host for (a reload starts empty: the host's status says the rest). */
  let asked: { target: string | null; draft: string | null } = { target: null, draft: null };
  /** A loadModel of this window not answered yet (set before the call: the call itself changes the stores). */
  let loadPending = false;

  /** Ends the pair's flow; the welcome screen gives way (or shows the rows' errors). */
  const endPair = () => set({ pair: null });

  /** Moves the pair on as far as the host's state allows; called on every change of the stores it reads. */
  function advance(): void {
    const { pair } = store.getState();
    if (!pair) {
      asked = { target: null, draft: null };
      return;
    }
    const downloads = useDownloadsStore.getState().list;
    const status = useEngineStore.getState().status;
    const model = status?.model?.modelPath ?? null;
    const target = downloadOf(downloads, pair.target);
    const draft = downloadOf(downloads, pair.draft);
    // The pair cannot complete: give the screen back (its rows show what went wrong). A target that loaded works
    // without its draft.
    if (gone(target) || (gone(draft) && model === target?.destPath)) return endPair();
    if (target?.state !== "done") return;
    const dest = target.destPath;
    if (model !== dest) {
      // The host is loading it (asked here, or before a reload): wait for its status.
      if (status?.loadingModelPath === dest) {
        asked.target = dest;
        return;
      }
      if (loadPending) return;
      // Asked for and no longer loading, yet not the model: the load failed (the model error banner says why).
      if (asked.target === dest) return endPair();
      asked.target = dest;
      loadPending = true;
      void actions.loadModel(dest).finally(() => {
        loadPending = false;
        advance();
      });
      return;
    }
    if (draft?.state !== "done") return;
    if (status?.draftModel?.modelPath === draft.destPath) return endPair();
    if (asked.draft === draft.destPath) return;
    asked.draft = draft.destPath;
    void actions.setDraftModel(draft.destPath).then((failure) => {
      if (failure) useEngineStore.getState().setNotice(`The draft model was not set: ${failure}`);
      endPair();
    });
  }

  /** Resolves once the window has the settings, the engine's status and the host's downloads (loadInitial fetches them). */
  function loaded(isLive: () => boolean): Promise<boolean> {
    const ready = () =>
      useSettingsStore.getState().settings !== null && useEngineStore.getState().status !== null && useDownloadsStore.getState().listed;
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const offs = [useSettingsStore.subscribe(check), useEngineStore.subscribe(check), useDownloadsStore.subscribe(check)];
      function check() {
        if (!ready() && isLive()) return;
        offs.forEach((off) => off());
        resolve(isLive());
      }
    });
  }

  return {
    /**
     * Follows the stores for this window (App starts it; the returned function stops it): once the window has what
     * the host holds (loadInitial), resumes a pair found in its downloads, and moves the pair on whenever the
     * downloads or the engine change.
     */
    start(): () => void {
      let live = true;
      const offs = [useDownloadsStore.subscribe(advance), useEngineStore.subscribe(advance), store.subscribe(advance)];
      void (async () => {
        if (!(await loaded(() => live))) return;
        if (!store.getState().pair) {
          const pair = resumablePair();
          if (pair) set({ pair });
        }
        advance();
      })();
      return () => {
        live = false;
        offs.forEach((off) => off());
      };
    },

    /** "Download both": starts the recommended pair's downloads; the rest follows from their progress. */
    async downloadPair(): Promise<void> {
      const pair = { target: RECOMMENDED_CPU_PAIR.target.source, draft: RECOMMENDED_CPU_PAIR.draft.source };
      set({ busy: "download", error: null, pair });
      try {
        for (const source of [pair.target, pair.draft]) {
          const failure = await actions.startDownload(source);
          if (failure) {
            set({ error: { at: "download", message: failure }, pair: null });
            return;
          }
        }
      } finally {
        set({ busy: null });
      }
    },

    /** Imports a GGUF (by path on the computer Tandem runs on) and loads it as the chat model. */
    async importAndLoad(path: string): Promise<void> {
      set({ busy: "import", error: null, importing: true });
      try {
        const imported = await actions.importModel(path, "copy");
        if (!imported.ok) set({ error: { at: "import", message: imported.message } });
        else await actions.loadModel(imported.model.path);
      } finally {
        set({ busy: null, importing: false });
      }
    },

    /** A file brought in by the shared import button (chooser in the app, upload in web mode): load it. */
    async loadImported(model: ModelFile): Promise<void> {
      set({ error: null, importing: true });
      try {
        await actions.loadModel(model.path);
      } finally {
        set({ importing: false });
      }
    },

    /** "I already have models": the folder chooser (the app) or a typed path (web mode) becomes the models folder. */
    async useFolder(typed: string | null): Promise<void> {
      set({ busy: "folder", error: null });
      try {
        if (typed === null) await actions.chooseModelsFolder();
        else {
          const failure = await actions.setModelsFolder(typed);
          if (failure) set({ error: { at: "folder", message: failure } });
        }
      } finally {
        set({ busy: null });
      }
    },
  };
}

/** No model configured or loaded, and nothing usable in the library (or a first-run flow is still running). */
export function useShowWelcome(): boolean {
  const settingsLoaded = useSettingsStore((s) => s.settings !== null);
  const configured = useSettingsStore((s) => s.settings?.modelPath != null);
  const hasModel = useEngineStore((s) => !!s.status?.model);
  const loading = useModelsStore((s) => !!s.loading);
  const listed = useModelsStore((s) => s.listed);
  const usable = useModelsStore((s) => s.files.some((f) => !f.error));
  const active = useFirstRunStore((s) => s.pair !== null || s.importing);
  // Chatting through a remote engine needs no model on this computer.
  const remote = useSettingsStore((s) => s.settings?.chatEngine.kind === "remote");
  if (!settingsLoaded || configured || hasModel || remote) return false;
  if (active) return true;
  return listed && !usable && !loading;
}
