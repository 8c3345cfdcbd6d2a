import { useEffect, useId, useMemo, useState, type MouseEvent } from "react";
import type { DraftCandidate, ModelFile } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import { useActions } from "../context.js";
import { formatBytes } from "../format.js";
import { deleteBlockedReason, draftAsModelReason, duplicateNames, folderOf } from "../library-format.js";
import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { ConfirmDialog } from "./ConfirmDialog.js";
import { DownloadsSection } from "./DownloadsSection.js";
import { ImportModelButton } from "./ImportModelButton.js";
import { LibraryFolders } from "./LibraryFolders.js";
import { describeOrigin } from "./model-origin.js";
import { FitEstimatePanel, useFitCheckedLoad } from "./FitEstimate.js";
import { Modal } from "./Modal.js";

type SortKey = "name" | "architecture" | "parameters" | "quantization" | "contextLength" | "sizeBytes";

const COLUMNS: { key: SortKey; label: string; numeric: boolean }[] = [
  { key: "name", label: "Name", numeric: false },
  { key: "architecture", label: "Architecture", numeric: false },
  { key: "parameters", label: "Parameters", numeric: true },
  { key: "quantization", label: "Quantization", numeric: false },
  { key: "contextLength", label: "Context", numeric: true },
  { key: "sizeBytes", label: "Size", numeric: true },
];

export function formatParameters(n: number | undefined): string {
  if (n === undefined) return "—";
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}


function compare(a: ModelFile, b: ModelFile, key: SortKey): number {
  const x = a[key];
  const y = b[key];
  if (x === undefined && y === undefined) return a.name.localeCompare(b.name);
  if (x === undefined) return 1; // unknown values last
  if (y === undefined) return -1;
  if (typeof x === "number" && typeof y === "number") return x - y || a.name.localeCompare(b.name);
  return String(x).localeCompare(String(y)) || a.name.localeCompare(b.name);
}

/** The model library: every GGUF file of the library folders with its header facts, details, and draft pairing. */
export function ModelsScreen({ onClose }: { onClose: () => void }) {
  const titleId = useId();
  const actions = useActions();
  const files = useModelsStore((s) => s.files);
  const listError = useModelsStore((s) => s.listError);
  const loadingPath = useModelsStore((s) => s.loading?.path ?? null);
  const target = useEngineStore((s) => s.status?.model ?? null);
  const draftPath = useEngineStore((s) => s.status?.draftModel?.modelPath ?? null);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: "name", descending: false });
  const [selectedPath, setSelectedPath] = useState<string | null>(null);
  const [drafts, setDrafts] = useState<DraftCandidate[] | null>(null);
  const [draftsError, setDraftsError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<ModelFile | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const fitCheckedLoad = useFitCheckedLoad();

  useEffect(() => {
    void actions.refreshModels();
  }, [actions]);

  const targetPath = target?.modelPath ?? null;
  useEffect(() => {
    let live = true;
    setDrafts(null);
    setDraftsError(null);
    if (!targetPath) return;
    actions.compatibleDrafts(targetPath).then(
      (result) => live && setDrafts(result.candidates),
      (error: unknown) => live && setDraftsError(errorMessage(error)),
    );
    return () => {
      live = false;
    };
  }, [actions, targetPath, files]);

  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const shown = needle
      ? files.filter((f) => [f.name, f.architecture, f.quantization].some((v) => v?.toLowerCase().includes(needle)))
      : files;
    const sorted = [...shown].sort((a, b) => compare(a, b, sort.key));
    return sort.descending ? sorted.reverse() : sorted;
  }, [files, filter, sort]);

  const selected = files.find((f) => f.path === selectedPath) ?? null;
  const twice = useMemo(() => duplicateNames(files), [files]);
  const recommended = drafts?.find((d) => d.recommended) ?? null;

  return (
    <Modal titleId={titleId} onClose={onClose} className="models-screen" testId="models-screen">
      <div className="models-screen-header">
        <h2 id={titleId} className="modal-title">
          Model library
        </h2>
        <button type="button" className="btn btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      {listError && <p className="field-error">{listError}</p>}
      <ImportSection />
      <LibraryFolders />
      {deleteError && (
        <p className="field-error" role="alert" data-testid="delete-error">
          {deleteError}
        </p>
      )}
      <input
        className="input models-filter"
        type="search"
        placeholder="Filter by name, architecture or quantization"
        aria-label="Filter models"
        data-testid="models-filter"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      <div className="models-table-wrap">
        <table className="models-table" data-testid="models-table">
          <thead>
            <tr>
              {COLUMNS.map((c) => {
                const active = sort.key === c.key;
                return (
                  <th key={c.key} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"} className={c.numeric ? "num" : undefined}>
                    <button
                      type="button"
                      className="sort-button"
                      data-testid={`sort-${c.key}`}
                      onClick={() => setSort(active ? { key: c.key, descending: !sort.descending } : { key: c.key, descending: false })}
                    >
                      {c.label}
                      {active ? (sort.descending ? " ▼" : " ▲") : ""}
                    </button>
                  </th>
                );
              })}
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <tr
                key={f.path}
                data-testid="models-row"
                className={`${f.path === selectedPath ? "selected" : ""}${f.error ? " unreadable" : ""}`}
                aria-selected={f.path === selectedPath}
                onClick={() => setSelectedPath(f.path)}
              >
                <td>
                  <button type="button" className="link-button" onClick={() => setSelectedPath(f.path)}>
                    {f.name}
                  </button>
                  {f.path === targetPath && <span className="badge">loaded</span>}
                  {f.path === draftPath && <span className="badge">draft</span>}
                  {twice.has(f.name) && (
                    <span className="model-folder" data-testid="model-folder" title={folderOf(f)}>
                      in {folderOf(f)}
                    </span>
                  )}
                </td>
                <td>{f.error ? <span className="field-error">unreadable</span> : (f.architecture ?? "—")}</td>
                <td className="num">{formatParameters(f.parameters)}</td>
                <td>{f.quantization ?? "—"}</td>
                <td className="num">{f.contextLength ?? "—"}</td>
                <td className="num">{formatBytes(f.sizeBytes)}</td>
                <td>
                  <DeleteButton
                    file={f}
                    blocked={deleteBlockedReason(f.path, { target: targetPath, draft: draftPath, loading: loadingPath })}
                    onClick={(e) => {
                      e.stopPropagation();
                      setDeleteError(null);
                      setConfirmDelete(f);
                    }}
                  />
                </td>
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 1} className="picker-empty">
                  {files.length === 0 ? "No GGUF models in your library." : "No model matches the filter."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      {selected && (
        <ModelDetails
          file={selected}
          isTarget={selected.path === targetPath}
          isDraft={selected.path === draftPath}
          folder={twice.has(selected.name) ? folderOf(selected) : null}
          modelBlocked={draftAsModelReason(selected.path, draftPath)}
          hasTarget={targetPath !== null}
          draft={drafts?.find((d) => d.path === selected.path) ?? null}
          busy={loadingPath !== null}
          error={actionError}
          onUseAsModel={async () => {
            setActionError(null);
            await fitCheckedLoad.load(selected.path); // asks first when it probably won't fit
          }}
          onUseAsDraft={async () => {
            setActionError(await actions.setDraftModel(selected.path));
          }}
        />
      )}

      <section className="models-drafts" data-testid="compatible-drafts">
        <h3 className="settings-section-title">Drafts for {target ? target.name : "the loaded model"}</h3>
        {!target && <p className="settings-section-intro">Load a model to see which drafts can speed it up.</p>}
        {draftsError && <p className="field-error">{draftsError}</p>}
        {target && drafts && drafts.length === 0 && <p className="settings-section-intro">No other models in your library.</p>}
        {target && drafts && drafts.length > 0 && (
          <>
            {recommended ? (
              <p className="settings-section-intro" data-testid="recommended-draft">
                Recommended: <strong>{recommended.name}</strong> (the smallest compatible draft)
              </p>
            ) : (
              <p className="settings-section-intro">No compatible draft in your library.</p>
            )}
            <ul className="draft-list">
              {drafts.map((d) => (
                <li key={d.path} data-testid="draft-candidate" className={d.compatible ? "compatible" : "incompatible"}>
                  <span className="draft-name" title={d.path}>
                    {d.name}
                    {twice.has(d.name) && <span className="model-folder"> in {folderOf(d)}</span>}
                  </span>
                  <span className="draft-meta">
                    {formatParameters(d.parameters ?? undefined)} · {formatBytes(d.sizeBytes)}
                  </span>
                  <span className="draft-reason">{d.compatible ? (d.recommended ? "Compatible, recommended" : "Compatible") : d.reason}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <DownloadsSection />
      {fitCheckedLoad.dialog}
      {confirmDelete && (
        <ConfirmDialog
          title={`Delete ${confirmDelete.name}?`}
          confirmLabel="Delete"
          danger
          onCancel={() => setConfirmDelete(null)}
          onConfirm={() => {
            const file = confirmDelete;
            setConfirmDelete(null);
            void actions.deleteModel(file.path).then((error) => {
              setDeleteError(error);
              if (!error && selectedPath === file.path) setSelectedPath(null);
            });
          }}
        >
          <p data-testid="delete-confirm-text">
            The file ({formatBytes(confirmDelete.sizeBytes)}) is removed from <span className="mono delete-confirm-folder">{folderOf(confirmDelete)}</span>, with its
            learned n-gram table and saved conversation states. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </Modal>
  );
}

/** Delete, disabled with the reason while the file is loaded (asking "This cannot be undone" first would be a trap). */
function DeleteButton({ file, blocked, onClick }: { file: ModelFile; blocked: string | null; onClick: (e: MouseEvent) => void }) {
  const reasonId = useId();
  return (
    <>
      <button
        type="button"
        className="btn btn-small"
        data-testid="delete-model"
        aria-label={`Delete ${file.name}`}
        aria-describedby={blocked ? reasonId : undefined}
        title={blocked ?? undefined}
        disabled={blocked !== null}
        onClick={onClick}
      >
        Delete
      </button>
      {blocked && (
        <span id={reasonId} className="sr-only" data-testid="delete-blocked">
          {blocked}
        </span>
      )}
    </>
  );
}

export { droppedPath } from "./ImportDropZone.js";

/**
 * Import: a path field (both modes) and the file chooser of ImportModelButton (the app's native one, or the
 * browser's with an upload in web mode). Drops onto the window are ImportDropZone's (App).
 */
function ImportSection() {
  const actions = useActions();
  const [path, setPath] = useState("");
  const [mode, setMode] = useState<"copy" | "link">("copy");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);

  const run = async (source: string) => {
    if (!source.trim()) return;
    setBusy(true);
    setResult(null);
    const outcome = await actions.importModel(source.trim(), mode);
    setBusy(false);
    setResult(outcome);
    if (outcome.ok) setPath("");
  };

  return (
    <section className="models-import" data-testid="import-section" aria-label="Import a model">
      <form
        className="models-import-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(path);
        }}
      >
        <input
          className="input"
          type="text"
          placeholder="Path of a .gguf file to import (or drop it here)"
          aria-label="Path of a GGUF file to import"
          data-testid="import-path"
          value={path}
          onChange={(e) => setPath(e.target.value)}
        />
        <select aria-label="Import mode" data-testid="import-mode" className="input" value={mode} onChange={(e) => setMode(e.target.value as "copy" | "link")}>
          <option value="copy">Copy</option>
          <option value="link">Link</option>
        </select>
        <button type="submit" className="btn btn-small" data-testid="import-submit" disabled={busy || !path.trim()}>
          Import
        </button>
        <ImportModelButton mode={mode} onResult={setResult} />
      </form>
      {busy && <p className="settings-section-intro">Importing…</p>}
      {result && (
        <p className={result.ok ? "settings-section-intro" : "field-error"} role={result.ok ? "status" : "alert"} data-testid="import-result">
          {result.message}
        </p>
      )}
    </section>
  );
}

interface DetailsProps {
  file: ModelFile;
  isTarget: boolean;
  isDraft: boolean;
  /** The folder, when another file of the library has the same name. */
  folder: string | null;
  /** Why it can't be the chat model (it is the configured draft). */
  modelBlocked: string | null;
  hasTarget: boolean;
  draft: DraftCandidate | null;
  busy: boolean;
  error: string | null;
  onUseAsModel: () => Promise<void>;
  onUseAsDraft: () => Promise<void>;
}

function ModelDetails({ file, isTarget, isDraft, folder, modelBlocked, hasTarget, draft, busy, error, onUseAsModel, onUseAsDraft }: DetailsProps) {
  const token = (n: number | null | undefined) => (n === null || n === undefined ? "none" : String(n));
  const facts: [string, string][] = file.error
    ? [["Problem", file.error]]
    : [
        ["Architecture", file.architecture ?? "—"],
        ["Parameters", file.parameters === undefined ? "—" : `${formatParameters(file.parameters)} (${file.parameters.toLocaleString("en-US")})`],
        ["Quantization", file.quantization ?? "—"],
        ["Trained context", file.contextLength === undefined ? "—" : `${file.contextLength.toLocaleString("en-US")} tokens`],
        ["Tokenizer", `${file.tokenizer ?? "—"}${file.vocabSize !== undefined ? `, ${file.vocabSize.toLocaleString("en-US")} tokens` : ""}`],
        ["Special tokens", file.specialTokens ? `bos ${token(file.specialTokens.bos)}, eos ${token(file.specialTokens.eos)}, eot ${token(file.specialTokens.eot)}` : "—"],
        ["Chat template", file.hasChatTemplate ? (file.chatTemplate ?? "yes") : "none"],
        ["Size", formatBytes(file.sizeBytes)],
      ];
  if (file.splitParts) {
    facts.push(["Split parts", `${file.splitParts}${file.missingParts?.length ? ` (missing: ${file.missingParts.join(", ")})` : ""}`]);
  }
  facts.push(["Path", file.path]);
  if (file.origin) facts.push(["Source", describeOrigin(file.origin)]);

  let draftBlocked: string | null = null;
  if (file.error) draftBlocked = "This file cannot be read.";
  else if (!hasTarget) draftBlocked = "Load a model first: a draft is checked against the loaded model's tokenizer.";
  else if (isTarget) draftBlocked = "This is the loaded model.";
  else if (!draft) draftBlocked = "Checking compatibility…";
  else if (!draft.compatible) draftBlocked = draft.reason ?? "Its tokenizer differs from the loaded model's.";

  return (
    <section className="models-details" data-testid="model-details" aria-label={`Details of ${file.name}`}>
      <h3 className="settings-section-title">
        {file.name}
        {folder && <span className="model-folder"> in {folder}</span>}
      </h3>
      <dl className="facts">
        {facts.map(([k, v]) => (
          <div key={k} className="fact">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {/* With the configured draft and settings; the configured draft itself is estimated alone. */}
      {!file.error && <FitEstimatePanel request={{ source: file.path, ...(isDraft ? { draftSource: null } : {}) }} />}
      <div className="modal-actions models-details-actions">
        <button
          type="button"
          className="btn"
          data-testid="use-as-model"
          disabled={busy || isTarget || !!file.error || modelBlocked !== null}
          title={modelBlocked ?? undefined}
          onClick={() => void onUseAsModel()}
        >
          {isTarget ? "Loaded" : "Use as model"}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="use-as-draft"
          disabled={busy || isDraft || draftBlocked !== null}
          onClick={() => void onUseAsDraft()}
        >
          {isDraft ? "Draft in use" : "Use as draft"}
        </button>
      </div>
      {modelBlocked && (
        <p className="settings-section-intro" data-testid="model-blocked">
          {modelBlocked}
        </p>
      )}
      {draftBlocked && !isTarget && !isDraft && (
        <p className="settings-section-intro" data-testid="draft-blocked">
          {draftBlocked}
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
