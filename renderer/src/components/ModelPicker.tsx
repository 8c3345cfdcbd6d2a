import { useEffect, useRef, useState } from "react";
import { useActions } from "../context.js";
import { fileNameOf, formatBytes } from "../format.js";
import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";
import { useUiStore } from "../stores/ui.js";
import { useFitCheckedLoad } from "./FitEstimate.js";
import { CheckIcon, ChevronDownIcon, CubeIcon, FolderIcon, RefreshIcon } from "./Icons.js";

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

  const label = loading
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
        className={`picker-trigger${model ? "" : " empty"}`}
        data-testid="model-picker"
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-label={`Model: ${label}`}
        title={model?.modelPath ?? undefined}
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
  const canPickFolder = useSettingsStore((s) => s.appInfo?.canPickFolder ?? false);

  return (
    <div className="picker-menu" role="dialog" aria-label="Models" data-testid="model-menu">
      <div className="picker-section-title">Models</div>
      {listError && <p className="field-error">{listError}</p>}
      {listed && files.length === 0 && !listError ? (
        <p className="picker-empty">No GGUF models in your library.</p>
      ) : (
        <ul className="model-list">
          {files.map((f) => {
            const isLoaded = f.path === loadedPath;
            const isLoading = loading?.path === f.path;
            return (
              <li key={f.path}>
                <button
                  type="button"
                  className={`model-option${isLoaded ? " loaded" : ""}`}
                  data-testid="model-option"
                  aria-current={isLoaded ? "true" : undefined}
                  disabled={!!loading}
                  title={f.path}
                  onClick={() => {
                    onChosen();
                    if (!isLoaded) onLoad(f.path);
                  }}
                >
                  <span className="model-option-name">{f.name}</span>
                  <span className="model-option-meta">
                    {isLoading ? `Loading ${Math.round((loading?.progress ?? 0) * 100)}%` : formatBytes(f.sizeBytes)}
                  </span>
                  {isLoaded && (
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
