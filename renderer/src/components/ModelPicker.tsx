import { useEffect, useRef, useState } from "react";
import { useActions } from "../context.js";
import { fileNameOf, formatBytes } from "../format.js";
import { draftAsModelReason, duplicateNames, folderOf } from "../library-format.js";
import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";
import { useUiStore } from "../stores/ui.js";
import { useConnectionsStore } from "../stores/connections.js";
import { REMOTE_KIND_LABELS, connectionTestLine } from "../remote-format.js";
import type { RemoteConnectionView } from "../../../contracts/window/index.js";
import { useFitCheckedLoad } from "./FitEstimate.js";
import { CheckIcon, ChevronDownIcon, CubeIcon, FolderIcon, RefreshIcon } from "./Icons.js";
import { useRemoteChat } from "../hooks.js";

export function LoadProgress({ progress, label }: { progress: number; label: string }) {
  const pct = Math.round(progress * 100);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      data-testid="model-load-progress"
    >
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

/** The header's model menu: the loaded model, the GGUF files of the models folder, and the folder itself. */
export function ModelPicker() {
  const open = useUiStore((s) => s.modelPickerOpen);
  const setOpen = useUiStore((s) => s.setModelPickerOpen);
  const model = useEngineStore((s) => s.status?.model ?? null);
  const loading = useModelsStore((s) => s.loading);
  const rootRef = useRef<HTMLDivElement>(null);
  const actions = useActions();
  // Owned here, not by the menu: the menu closes when a model is chosen, the won't-fit question stays.
  const fitCheckedLoad = useFitCheckedLoad();

  useEffect(() => {
    if (!open) return;
    void actions.refreshModels();
    const onPointer = (e: MouseEvent) => {
      if (rootRef.current && !rootRef.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onPointer);
    return () => document.removeEventListener("mousedown", onPointer);
  }, [open, setOpen, actions]);

  const remote = useRemoteChat();
  const label = remote
    ? `${remote.model} · ${remote.server ?? "remote"}`
    : loading
      ? `Loading ${fileNameOf(loading.path)}… ${Math.round(loading.progress * 100)}%`
      : model
        ? model.name
        : "Choose a model";

  return (
    <div
      className="model-picker"
      ref={rootRef}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.stopPropagation();
          setOpen(false);
          rootRef.current?.querySelector<HTMLButtonElement>(".picker-trigger")?.focus();
        }
      }}
    >
      <button
        type="button"
        className={`picker-trigger${model || remote ? "" : " empty"}`}
        data-testid="model-picker"
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-label={`Model: ${label}`}
        title={remote ? `Replies come from ${remote.server ?? "a remote server"}` : (model?.modelPath ?? undefined)}
        onClick={() => setOpen(!open)}
      >
        <CubeIcon size={15} />
        <span className="picker-label">{label}</span>
        <ChevronDownIcon size={14} />
      </button>
      {loading && <LoadProgress progress={loading.progress} label="Model loading progress" />}
      {open && <ModelMenu onChosen={() => setOpen(false)} onLoad={(path) => void fitCheckedLoad.load(path)} />}
      {fitCheckedLoad.dialog}
    </div>
  );
}

function ModelMenu({ onChosen, onLoad }: { onChosen: () => void; onLoad: (path: string) => void }) {
  const actions = useActions();
  const folder = useModelsStore((s) => s.folder);
  const files = useModelsStore((s) => s.files);
  const listed = useModelsStore((s) => s.listed);
  const listError = useModelsStore((s) => s.listError);
  const loading = useModelsStore((s) => s.loading);
  const loadedPath = useEngineStore((s) => s.status?.model?.modelPath ?? null);
  const draftPath = useEngineStore((s) => s.status?.draftModel?.modelPath ?? null);
  const savedDraftPath = useSettingsStore((s) => s.settings?.draftModelPath ?? null);
  const twice = duplicateNames(files);
  const canPickFolder = useSettingsStore((s) => s.appInfo?.canPickFolder ?? false);
  const chatEngine = useSettingsStore((s) => s.settings?.chatEngine ?? null);
  const connections = useConnectionsStore((s) => s.list) ?? [];
  const local = chatEngine?.kind !== "remote";

  return (
    <div className="picker-menu" role="dialog" aria-label="Models" data-testid="model-menu">
      <div className="picker-section-title">{connections.length > 0 ? "On this computer" : "Models"}</div>
      {listError && <p className="field-error">{listError}</p>}
      {listed && files.length === 0 && !listError ? (
        <p className="picker-empty">No GGUF models in your library.</p>
      ) : (
        <ul className="model-list">
          {files.map((f) => {
            const isLoaded = f.path === loadedPath;
            const isChosen = isLoaded && local;
            const isLoading = loading?.path === f.path;
            // The draft as the chat model would draft for itself: not offered, with the reason.
            const blocked = isLoaded ? null : draftAsModelReason(f.path, draftPath ?? savedDraftPath);
            return (
              <li key={f.path}>
                <button
                  type="button"
                  className={`model-option${isChosen ? " loaded" : ""}`}
                  data-testid="model-option"
                  aria-current={isChosen ? "true" : undefined}
                  disabled={!!loading || blocked !== null}
                  title={blocked ?? f.path}
                  onClick={() => {
                    onChosen();
                    // Back from a remote engine to this computer's model.
                    if (!local) void actions.chooseChatEngine({ kind: "local" });
                    if (!isLoaded) onLoad(f.path);
                  }}
                >
                  <span className="model-option-name">
                    {f.name}
                    {twice.has(f.name) && (
                      <span className="model-folder" data-testid="model-option-folder">
                        in {folderOf(f)}
                      </span>
                    )}
                  </span>
                  <span className="model-option-meta">
                    {isLoading ? `Loading ${Math.round((loading?.progress ?? 0) * 100)}%` : blocked ? "draft" : formatBytes(f.sizeBytes)}
                  </span>
                  {isChosen && (
                    <span className="model-option-check" aria-label="Loaded">
                      <CheckIcon size={14} />
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {connections.map((connection) => (
        <RemoteGroup key={connection.id} connection={connection} onChosen={onChosen} />
      ))}
      <button
        type="button"
        className="btn btn-small picker-manage"
        data-testid="open-models-screen"
        onClick={() => {
          onChosen();
          useUiStore.getState().setModelsScreenOpen(true);
        }}
      >
        Model library…
      </button>
      <div className="picker-folder">
        <div className="picker-folder-path" title={folder ?? ""}>
          <FolderIcon size={14} />
          <span>{folder || "No folder chosen"}</span>
          <button
            type="button"
            className="icon-button"
            aria-label="Rescan the models folder"
            title="Rescan"
            onClick={() => void actions.refreshModels()}
          >
            <RefreshIcon size={14} />
          </button>
        </div>
        {canPickFolder ? (
          <button type="button" className="btn btn-small" onClick={() => void actions.chooseModelsFolder()} data-testid="choose-folder">
            Choose folder…
          </button>
        ) : (
          <FolderPathForm initial={folder ?? ""} />
        )}
      </div>
    </div>
  );
}

/** One remote connection's models (from its last test), or why there are none; choosing one sends replies there. */
function RemoteGroup({ connection, onChosen }: { connection: RemoteConnectionView; onChosen: () => void }) {
  const actions = useActions();
  const chatEngine = useSettingsStore((s) => s.settings?.chatEngine ?? null);
  const [error, setError] = useState<string | null>(null);
  const test = connection.test;
  const kind = connection.kind ? REMOTE_KIND_LABELS[connection.kind] : null;
  return (
    <div className="picker-remote-group" data-testid="remote-model-group">
      <div className="picker-section-title" title={connection.baseUrl}>
        {connection.name}
        {kind && <span className="muted"> · {kind}</span>}
      </div>
      {test?.ok && test.models.length > 0 ? (
        <ul className="model-list">
          {test.models.map((model) => {
            const chosen = chatEngine?.kind === "remote" && chatEngine.connectionId === connection.id && chatEngine.model === model;
            return (
              <li key={model}>
                <button
                  type="button"
                  className={`model-option${chosen ? " loaded" : ""}`}
                  data-testid="remote-model-option"
                  aria-current={chosen ? "true" : undefined}
                  title={`${model} on ${connection.baseUrl}`}
                  onClick={async () => {
                    const problem = await actions.chooseChatEngine({ kind: "remote", connectionId: connection.id, model });
                    if (problem) setError(problem);
                    else onChosen();
                  }}
                >
                  <span className="model-option-name">{model}</span>
                  <span className="model-option-meta">remote</span>
                  {chosen && (
                    <span className="model-option-check" aria-label="In use">
                      <CheckIcon size={14} />
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="picker-empty" data-testid="remote-group-state" role={test && !test.ok ? "alert" : undefined}>
          {test?.ok ? "This server lists no models." : connectionTestLine(connection)}{" "}
          <button type="button" className="link-button" onClick={() => void actions.testConnection(connection.id)}>
            Test again
          </button>
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Web mode: no native dialog, so the folder path is typed. */
function FolderPathForm({ initial }: { initial: string }) {
  const actions = useActions();
  const [path, setPath] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="folder-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!path.trim()) return;
        setBusy(true);
        setError(await actions.setModelsFolder(path.trim()));
        setBusy(false);
      }}
    >
      <label className="field-label" htmlFor="models-folder-input">
        Models folder
      </label>
      <div className="folder-form-row">
        <input
          id="models-folder-input"
          className="input"
          data-testid="models-folder-input"
          placeholder="/path/to/models"
          value={path}
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="submit" className="btn btn-small" disabled={busy || !path.trim()}>
          Open
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
