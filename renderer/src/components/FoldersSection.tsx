import { useState } from "react";
import type { AppFolder } from "../../../contracts/window/index.js";
import { useActions } from "../context.js";
import { useSettingsStore } from "../stores/settings.js";

const FOLDERS: Array<{ folder: AppFolder; label: string; hint: string }> = [
  { folder: "dataDir", label: "App data", hint: "Conversations, settings and everything below." },
  { folder: "modelsFolder", label: "Models", hint: "Where downloads and imports go." },
  { folder: "cache", label: "Cache", hint: "Saved conversation states and learned n-grams." },
  { folder: "logs", label: "Logs", hint: "host.log and engine.log, for bug reports." },
];

/**
 * Settings → Folders: Tandem's folders with "Open" (the app) or the path in a read-only field to copy (web mode,
 * where the browser may not even run on the same computer).
 */
export function FoldersSection() {
  const actions = useActions();
  const appInfo = useSettingsStore((s) => s.appInfo);
  const modelsFolder = useSettingsStore((s) => s.settings?.modelsFolder ?? null);
  // An open failure shows in the row of the folder that failed, under its button.
  const [error, setError] = useState<{ folder: AppFolder; message: string } | null>(null);
  if (!appInfo) return null;
  // The models folder can change while the app runs; the settings store has the current one.
  const paths = { ...appInfo.paths, ...(modelsFolder ? { modelsFolder } : {}) };

  const open = async (folder: AppFolder) => {
    setError(null);
    const { opened, error } = await actions.openFolder(folder);
    if (error) setError({ folder, message: error });
    else if (!opened) setError({ folder, message: `Couldn’t open ${paths[folder]}.` });
  };

  return (
    <section className="settings-section folders-section" data-testid="folders-section" aria-labelledby="folders-title">
      <h3 id="folders-title" className="settings-section-title">
        Folders
      </h3>
      <ul className="folder-rows">
        {FOLDERS.map(({ folder, label, hint }) => (
          <li key={folder} className="folder-row" data-testid={`folder-${folder}`}>
            <div className="folder-text">
              <span className="folder-label">{label}</span>
              <input
                className="input mono folder-path"
                readOnly
                aria-label={`${label} folder`}
                value={paths[folder]}
                title={hint}
                onFocus={(e) => e.currentTarget.select()}
              />
            </div>
            {appInfo.canOpenFolder ? (
              <button type="button" className="btn btn-small" aria-label={`Open the ${label.toLowerCase()} folder`} onClick={() => void open(folder)}>
                Open
              </button>
            ) : (
              <CopyButton text={paths[folder]} label={label} />
            )}
            {error?.folder === folder && (
              <p className="field-error" role="alert" data-testid="folders-error">
                {error.message}
              </p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      aria-label={`Copy the ${label.toLowerCase()} folder's path`}
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
