import { useEffect, useRef, useState } from "react";
import type { ImportOutcome } from "../actions.js";
import { useActions } from "../context.js";
import { useSettingsStore } from "../stores/settings.js";

export interface ImportDropZoneProps {
  /** The path of a dropped File (default: the app's `window.tandem.pathForFile`; absent in web mode). */
  pathForFile?: (file: File) => string;
}

/** The path a drop carries as text: file:// URIs (file managers) or a typed absolute path; null when there is none. */
export function droppedPath(data: Pick<DataTransfer, "getData">): string | null {
  const uris = data.getData("text/uri-list").split(/\r?\n/).filter((l) => l && !l.startsWith("#"));
  const uri = uris.find((u) => u.startsWith("file://"));
  if (uri) {
    try {
      return decodeURIComponent(new URL(uri).pathname);
    } catch {
      return null;
    }
  }
  const text = data.getData("text/plain").trim();
  return text.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(text) ? text : null;
}

const isGguf = (name: string) => name.toLowerCase().endsWith(".gguf");

/**
 * Drag-and-drop import onto the whole window: an overlay while files are dragged over it, then each dropped GGUF
 * is imported by path in the app (copied into the models folder) or uploaded in web mode. The outcome shows in a
 * small status line at the bottom of the window.
 */
export function ImportDropZone({ pathForFile = (file) => window.tandem?.pathForFile(file) ?? "" }: ImportDropZoneProps) {
  const actions = useActions();
  const canUpload = useSettingsStore((s) => s.appInfo?.canUpload ?? false) && actions.canUpload;
  const [dragging, setDragging] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; message: string } | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const depth = useRef(0);
  // The latest values for the window listeners, which are installed once.
  const latest = useRef({ actions, canUpload, pathForFile });
  latest.current = { actions, canUpload, pathForFile };

  useEffect(() => {
    const carriesFiles = (e: DragEvent) => {
      const types = Array.from(e.dataTransfer?.types ?? []);
      return types.includes("Files") || types.includes("text/uri-list");
    };
    const enter = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault(); // allows the drop (and stops the page from navigating to the file)
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    };
    const leave = () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      if (e.dataTransfer) void importDropped(e.dataTransfer);
    };
    const importOne = async (run: () => Promise<ImportOutcome>) => {
      const outcome = await run();
      setStatus({ ok: outcome.ok, message: outcome.message });
      return outcome;
    };
    const importDropped = async (data: DataTransfer) => {
      const { actions, canUpload, pathForFile } = latest.current;
      setStatus(null);
      const files = Array.from(data.files ?? []);
      if (files.length === 0) {
        const path = droppedPath(data);
        if (path) await importOne(() => actions.importModel(path, "copy"));
        else setStatus({ ok: false, message: "The dropped file's location is not available here: type its path in the Models screen instead." });
        return;
      }
      for (const file of files) {
        if (!isGguf(file.name)) {
          setStatus({ ok: false, message: `"${file.name}" is not a GGUF model file (.gguf); only GGUF files can be imported.` });
          continue;
        }
        const path = canUpload ? "" : pathForFile(file) || droppedPath(data) || "";
        if (path) {
          setProgress(`Importing ${file.name}…`);
          await importOne(() => actions.importModel(path, "copy"));
        } else if (canUpload) {
          setProgress(`Uploading ${file.name}…`);
          await importOne(() => actions.uploadModel(file, (f) => setProgress(`Uploading ${file.name}… ${Math.round(f * 100)}%`)));
        } else {
          setStatus({ ok: false, message: `The location of "${file.name}" is not available here: type its path in the Models screen instead.` });
        }
        setProgress(null);
      }
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragover", over);
    window.addEventListener("dragleave", leave);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragover", over);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("drop", drop);
    };
  }, []);

  return (
    <>
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <div className="drop-overlay-card">Drop a GGUF file to import it</div>
        </div>
      )}
      {(progress || status) && (
        <div className={`drop-status${status && !status.ok && !progress ? " error" : ""}`} role={status && !status.ok ? "alert" : "status"} data-testid="drop-result">
          <span>{progress ?? status?.message}</span>
          {!progress && (
            <button type="button" className="btn btn-small" aria-label="Dismiss" onClick={() => setStatus(null)}>
              ×
            </button>
          )}
        </div>
      )}
    </>
  );
}
