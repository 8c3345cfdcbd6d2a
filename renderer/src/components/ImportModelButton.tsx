import { useRef, useState } from "react";
import type { ModelFile } from "../../../contracts/window/index.js";
import type { ImportOutcome } from "../actions.js";
import { useActions } from "../context.js";
import { useSettingsStore } from "../stores/settings.js";

export interface ImportModelButtonProps {
  /** Called with the new library file once it is imported (app) or uploaded (web mode). */
  onImported?: (model: ModelFile) => void;
  /** Called with every outcome, success or failure; when given, the button shows no message of its own. */
  onResult?: (outcome: ImportOutcome) => void;
  /** How the app brings a chosen file in (default "copy"); uploads are always copies. */
  mode?: "copy" | "link";
  /** Overrides the label ("Import…" in the app, "Upload GGUF…" in web mode). */
  label?: string;
  className?: string;
}

/**
 * One button that brings a GGUF into the library wherever Tandem runs: in the app it opens the native file chooser
 * and imports the chosen path; in web mode it opens the browser's file chooser (a hidden `<input type="file">`,
 * data-testid "upload-input") and uploads the file with progress. Renders nothing when neither is possible.
 */
export function ImportModelButton({ onImported, onResult, mode = "copy", label, className = "btn btn-small" }: ImportModelButtonProps) {
  const actions = useActions();
  const canPickFile = useSettingsStore((s) => s.appInfo?.canPickFile ?? false);
  const canUpload = useSettingsStore((s) => s.appInfo?.canUpload ?? false) && actions.canUpload;
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [own, setOwn] = useState<ImportOutcome | null>(null);

  const finish = (outcome: ImportOutcome) => {
    setBusy(null);
    setProgress(null);
    if (onResult) onResult(outcome);
    else setOwn(outcome);
    if (outcome.ok) onImported?.(outcome.model);
  };

  const upload = async (file: File) => {
    setOwn(null);
    setBusy(`Uploading ${file.name}…`);
    setProgress(0);
    finish(await actions.uploadModel(file, setProgress));
  };

  const choose = async () => {
    setOwn(null);
    const picked = await actions.chooseModelFile();
    if (!picked) return;
    setBusy("Importing…");
    finish(await actions.importModel(picked, mode));
  };

  if (!canUpload && !canPickFile) return null;
  return (
    <span className="import-model-button">
      {canUpload ? (
        <>
          <button type="button" className={className} data-testid="upload-button" disabled={busy !== null} onClick={() => input.current?.click()}>
            {label ?? "Upload GGUF…"}
          </button>
          <input
            ref={input}
            type="file"
            accept=".gguf"
            hidden
            data-testid="upload-input"
            aria-label="GGUF file to upload"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = ""; // choosing the same file again fires change again
              if (file) void upload(file);
            }}
          />
        </>
      ) : (
        <button type="button" className={className} data-testid="import-choose" disabled={busy !== null} onClick={() => void choose()}>
          {label ?? "Import…"}
        </button>
      )}
      {busy && (
        <span className="import-progress" role="status" data-testid="import-progress">
          {busy}
          {progress !== null && ` ${Math.round(progress * 100)}%`}
          {progress !== null && <progress max={1} value={progress} aria-label="Upload progress" />}
        </span>
      )}
      {!onResult && own && (
        <span className={own.ok ? "import-message" : "import-message field-error"} role={own.ok ? "status" : "alert"} data-testid="import-button-result">
          {own.message}
        </span>
      )}
    </span>
  );
}
