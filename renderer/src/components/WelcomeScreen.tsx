import { useEffect, useId, useRef, useState } from "react";
import { create } from "zustand";
import type { DownloadInfo, ModelFile } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import { useActions, useClient } from "../context.js";
import { downloadFraction, downloadStateText, formatBytes } from "../format.js";
import { RECOMMENDED_CPU_PAIR } from "../model-catalog.js";
import { useDownloadsStore } from "../stores/downloads.js";
import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";
import { ImportModelButton } from "./ImportModelButton.js";

/**
 * First run: what the welcome screen set going. While one of its flows runs (a pair downloading, a file being
 * imported and loaded) the screen stays up even though the library is no longer empty.
 */
interface WelcomeState {
  /** An import or a pair download started here is still under way. */
  active: boolean;
  /** The pair "Download both" started: its target is loaded when done, then its draft set. */
  pair: { target: string; draft: string } | null;
  setActive(active: boolean): void;
  setPair(pair: { target: string; draft: string } | null): void;
}

export const useWelcomeStore = create<WelcomeState>()((set) => ({
  active: false,
  pair: null,
  setActive: (active) => set({ active }),
  setPair: (pair) => set({ pair, active: pair !== null }),
}));

/** No model configured or loaded, and nothing usable in the library (or a welcome flow is still running). */
export function useShowWelcome(): boolean {
  const settingsLoaded = useSettingsStore((s) => s.settings !== null);
  const configured = useSettingsStore((s) => s.settings?.modelPath != null);
  const hasModel = useEngineStore((s) => !!s.status?.model);
  const loading = useModelsStore((s) => !!s.loading);
  const listed = useModelsStore((s) => s.listed);
  const usable = useModelsStore((s) => s.files.some((f) => !f.error));
  const active = useWelcomeStore((s) => s.active);
  // Chatting through a remote engine needs no model on this computer.
  const remote = useSettingsStore((s) => s.settings?.chatEngine.kind === "remote");
  if (!settingsLoaded || configured || hasModel || remote) return false;
  if (active) return true;
  return listed && !usable && !loading;
}

/** The latest download of a source (the downloads store keeps them in the order first seen). */
function downloadOf(list: DownloadInfo[], source: string): DownloadInfo | null {
  return list.findLast((d) => d.source === source) ?? null;
}

/**
 * Runs for the whole window (App calls it): when the pair started on the welcome screen has downloaded, its target
 * is loaded as the chat model and then its draft is set — also after the welcome screen has given way to the chat.
 */
export function useFirstRunDownloads(): void {
  const actions = useActions();
  const pair = useWelcomeStore((s) => s.pair);
  const downloads = useDownloadsStore((s) => s.list);
  const model = useEngineStore((s) => s.status?.model?.modelPath ?? null);
  const draft = useEngineStore((s) => s.status?.draftModel?.modelPath ?? null);
  const started = useRef<{ target: string | null; draft: string | null }>({ target: null, draft: null });

  useEffect(() => {
    if (!pair) {
      started.current = { target: null, draft: null };
      return;
    }
    const target = downloadOf(downloads, pair.target);
    const drafted = downloadOf(downloads, pair.draft);
    const gone = (d: DownloadInfo | null) => d?.state === "failed" || d?.state === "cancelled";
    // The pair cannot complete: give the screen back (its rows show what went wrong). A target that loaded works
    // without its draft.
    if (gone(target) || (gone(drafted) && model === target?.destPath)) {
      useWelcomeStore.getState().setPair(null);
      return;
    }
    if (target?.state === "done" && model !== target.destPath && started.current.target !== target.destPath) {
      started.current.target = target.destPath;
      void actions.loadModel(target.destPath).finally(() => {
        // A target that failed to load ends the flow (the model error banner says why).
        if (useEngineStore.getState().status?.model?.modelPath !== target.destPath) useWelcomeStore.getState().setPair(null);
      });
    }
    if (drafted?.state === "done" && target && model === target.destPath && draft !== drafted.destPath && started.current.draft !== drafted.destPath) {
      started.current.draft = drafted.destPath;
      void actions.setDraftModel(drafted.destPath).then((failure) => {
        if (failure) useEngineStore.getState().setNotice(`The draft model was not set: ${failure}`);
        useWelcomeStore.getState().setPair(null);
      });
    }
  }, [pair, downloads, model, draft, actions]);
}

/** The chat area on first run: what Tandem does, the recommended pair to download, or a GGUF to import. */
export function WelcomeScreen() {
  const actions = useActions();
  const client = useClient();
  const appInfo = useSettingsStore((s) => s.appInfo);
  const downloads = useDownloadsStore((s) => s.list);
  const loading = useModelsStore((s) => s.loading);
  const pair = RECOMMENDED_CPU_PAIR;
  const id = useId();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"download" | "import" | "folder" | null>(null);
  const [path, setPath] = useState("");
  const [folder, setFolder] = useState("");

  useEffect(() => {
    void actions.refreshDownloads();
  }, [actions]);

  const target = downloadOf(downloads, pair.target.source);
  const draft = downloadOf(downloads, pair.draft.source);
  const downloading = [target, draft].some((d) => d && d.state !== "failed" && d.state !== "cancelled");
  // Both in: what remains is loading the target and setting the draft (useFirstRunDownloads).
  const arrived = target?.state === "done" && draft?.state === "done";

  const downloadBoth = async () => {
    setBusy("download");
    setError(null);
    useWelcomeStore.getState().setPair({ target: pair.target.source, draft: pair.draft.source });
    try {
      for (const source of [pair.target.source, pair.draft.source]) {
        const failure = await actions.startDownload(source);
        if (failure) {
          setError(failure);
          useWelcomeStore.getState().setPair(null);
          return;
        }
      }
    } finally {
      setBusy(null);
    }
  };

  /** Imports a GGUF (by path on the computer Tandem runs on) and loads it as the chat model. */
  const importAndLoad = async (file: string) => {
    setBusy("import");
    setError(null);
    useWelcomeStore.getState().setActive(true);
    try {
      const result = await client.importModel({ path: file, mode: "copy" });
      useModelsStore.getState().setListing(result);
      await actions.loadModel(result.model.path);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
      useWelcomeStore.getState().setActive(false);
    }
  };

  /** A file brought in by the shared import button (chooser in the app, upload in web mode): load it. */
  const loadImported = async (model: ModelFile) => {
    setError(null);
    useWelcomeStore.getState().setActive(true);
    try {
      await actions.loadModel(model.path);
    } finally {
      useWelcomeStore.getState().setActive(false);
    }
  };

  const useFolder = async () => {
    setBusy("folder");
    setError(null);
    try {
      if (appInfo?.canPickFolder) await actions.chooseModelsFolder();
      else {
        const failure = await actions.setModelsFolder(folder.trim());
        if (failure) setError(failure);
      }
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="welcome" data-testid="welcome-screen">
      <div className="welcome-inner">
        <div className="brand-mark large" aria-hidden="true" />
        <h1 className="welcome-title">Welcome to Tandem</h1>
        <p className="welcome-intro" data-testid="welcome-intro">
          Tandem chats with a <strong>target</strong> model that runs entirely on this computer. A small{" "}
          <strong>draft</strong> model from the same family can guess the next few words, which the target checks all at once
          — so replies come faster, word for word the same.
        </p>

        <section className="welcome-card" aria-labelledby={`${id}-pair`} data-testid="welcome-pair">
          <h2 id={`${id}-pair`} className="welcome-card-title">
            Get the recommended pair
          </h2>
          <p className="welcome-card-text">
            <strong>{pair.title}</strong> with its draft {pair.draft.label}. {pair.note} The chat model is loaded as soon as it
            has downloaded.
          </p>
          <ul className="welcome-downloads">
            <PairRow role="Target" label={pair.target.label} info={target} />
            <PairRow role="Draft" label={pair.draft.label} info={draft} />
          </ul>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="welcome-download-both"
            disabled={busy !== null || downloading}
            onClick={() => void downloadBoth()}
          >
            {arrived ? "Loading the model…" : downloading ? "Downloading…" : "Download both"}
          </button>
        </section>

        <section className="welcome-card" aria-labelledby={`${id}-import`} data-testid="welcome-import">
          <h2 id={`${id}-import`} className="welcome-card-title">
            Import a GGUF file
          </h2>
          <p className="welcome-card-text">
            Already downloaded a model? It is copied into the models folder
            {appInfo ? (
              <>
                {" "}
                (<span className="mono">{appInfo.paths.modelsFolder}</span>)
              </>
            ) : null}{" "}
            and loaded.
          </p>
          <ImportModelButton
            className="btn"
            label={appInfo?.canPickFile ? "Choose a GGUF file…" : "Upload a GGUF file…"}
            onImported={(model) => void loadImported(model)}
          />
          <form
            className="welcome-row"
            onSubmit={(e) => {
              e.preventDefault();
              if (path.trim()) void importAndLoad(path.trim());
            }}
          >
            <input
              className="input mono"
              type="text"
              aria-label="Path of a GGUF file"
              data-testid="welcome-import-path"
              placeholder={appInfo?.mode === "web" ? "/path/on/the/server/model.gguf" : "/path/to/model.gguf"}
              value={path}
              onChange={(e) => setPath(e.target.value)}
            />
            <button type="submit" className="btn" data-testid="welcome-import-submit" disabled={busy !== null || path.trim() === ""}>
              {busy === "import" ? (loading ? "Loading…" : "Importing…") : "Import and load"}
            </button>
          </form>
        </section>

        <section className="welcome-card welcome-folder" aria-labelledby={`${id}-folder`} data-testid="welcome-folder">
          <h2 id={`${id}-folder`} className="welcome-card-title">
            I already have models
          </h2>
          {appInfo?.canPickFolder ? (
            <button type="button" className="btn" data-testid="welcome-choose-folder" disabled={busy !== null} onClick={() => void useFolder()}>
              Choose a folder…
            </button>
          ) : (
            <form
              className="welcome-row"
              onSubmit={(e) => {
                e.preventDefault();
                if (folder.trim()) void useFolder();
              }}
            >
              <input
                className="input mono"
                type="text"
                aria-label="Folder with GGUF models"
                data-testid="welcome-folder-path"
                placeholder="/path/to/models"
                value={folder}
                onChange={(e) => setFolder(e.target.value)}
              />
              <button type="submit" className="btn" data-testid="welcome-folder-submit" disabled={busy !== null || folder.trim() === ""}>
                Use this folder
              </button>
            </form>
          )}
        </section>

        {error && (
          <p className="field-error" role="alert" data-testid="welcome-error">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}

function PairRow({ role, label, info }: { role: string; label: string; info: DownloadInfo | null }) {
  const fraction = info ? downloadFraction(info) : null;
  return (
    <li className="welcome-download" data-testid="welcome-pair-row" data-state={info?.state ?? "none"}>
      <div className="welcome-download-head">
        <span>
          <span className="welcome-role">{role}</span> {label}
        </span>
        {info && (
          <span className="welcome-download-state">
            {downloadStateText(info, "Downloaded")}
            {info.totalBytes !== null ? ` · ${formatBytes(info.totalBytes)}` : ""}
          </span>
        )}
      </div>
      {info && (
        <progress
          className="download-progress"
          aria-label={`Progress of ${label}`}
          max={1}
          {...(fraction !== null || info.state === "done" ? { value: info.state === "done" ? 1 : (fraction ?? 0) } : {})}
        />
      )}
      {info?.error && <p className="field-error">{info.error}</p>}
    </li>
  );
}
