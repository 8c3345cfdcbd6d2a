import { useState } from "react";
import { useActions } from "../context.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";

/**
 * The library's folders on the Models screen: the main one (downloads and imports go there) and the extra ones,
 * each with Remove (its files stay on disk). Add opens the folder chooser in the app, or takes a typed path.
 */
export function LibraryFolders() {
  const actions = useActions();
  const folders = useModelsStore((s) => s.folders);
  const main = useModelsStore((s) => s.folder);
  const files = useModelsStore((s) => s.files);
  const canPickFolder = useSettingsStore((s) => s.appInfo?.canPickFolder ?? false);
  const [path, setPath] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** Runs a folder action; resolves to whether it worked (its error is shown otherwise). */
  const run = async (call: () => Promise<string | null>) => {
    setBusy(true);
    setError(null);
    try {
      const failure = await call();
      setError(failure);
      return failure === null;
    } finally {
      setBusy(false);
    }
  };

  const count = (folder: string) => files.filter((f) => f.folder === folder).length;

  return (
    <section className="library-folders" data-testid="library-folders" aria-labelledby="library-folders-title">
      <h3 id="library-folders-title" className="settings-section-title">
        Library folders
      </h3>
      {folders.length === 0 && <p className="settings-section-intro">No models folder chosen.</p>}
      <ul className="library-folder-list">
        {folders.map((folder) => (
          <li key={folder} className="library-folder" data-testid="library-folder">
            <span className="library-folder-path mono" title={folder}>
              {folder}
            </span>
            <span className="library-folder-meta">
              {count(folder)} {count(folder) === 1 ? "model" : "models"}
              {folder === main ? " · main: downloads and imports go here" : ""}
            </span>
            {folder !== main && (
              <button
                type="button"
                className="btn btn-small"
                aria-label={`Remove ${folder} from the library`}
                data-testid="remove-library-folder"
                disabled={busy}
                onClick={() => void run(() => actions.removeLibraryFolder(folder))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        className="library-folder-add"
        onSubmit={(e) => {
          e.preventDefault();
          if (!path.trim()) return;
          void run(() => actions.addLibraryFolder(path.trim())).then((ok) => ok && setPath(""));
        }}
      >
        <input
          className="input"
          type="text"
          placeholder="Another folder with GGUF files"
          aria-label="Folder to add to the library"
          data-testid="library-folder-path"
          value={path}
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="submit" className="btn btn-small" data-testid="add-library-folder" disabled={busy || !path.trim()}>
          Add
        </button>
        {canPickFolder && (
          <button type="button" className="btn btn-small" data-testid="choose-library-folder" disabled={busy} onClick={() => void run(() => actions.addLibraryFolder(null))}>
            Add folder…
          </button>
        )}
      </form>
      {error && (
        <p className="field-error" role="alert" data-testid="library-folders-error">
          {error}
        </p>
      )}
    </section>
  );
}
