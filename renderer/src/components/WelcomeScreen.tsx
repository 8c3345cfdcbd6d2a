import { useId, useState } from "react";
import type { DownloadInfo } from "../../../contracts/window/index.js";
import { useActions } from "../context.js";
import { downloadOf, useFirstRunStore, type FirstRunStep } from "../flows/first-run.js";
import { downloadFraction, downloadStateText, formatBytes } from "../format.js";
import { RECOMMENDED_CPU_PAIR } from "../model-catalog.js";
import { useDownloadsStore } from "../stores/downloads.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";
import { useBenchmarksStore } from "../stores/benchmarks.js";
import { useSavedBenchmarks } from "../benchmark-actions.js";
import { measuredSummary } from "../verdict.js";
import { ImportModelButton } from "./ImportModelButton.js";

/**
 * The chat area on first run: what Tandem does, the recommended pair to download, or a GGUF to import. What each
 * button sets going is the first-run flow's (flows/first-run.ts); this screen shows its state.
 */
export function WelcomeScreen() {
  const flow = useActions().firstRun;
  const appInfo = useSettingsStore((s) => s.appInfo);
  const downloads = useDownloadsStore((s) => s.list);
  const loading = useModelsStore((s) => s.loading);
  const busy = useFirstRunStore((s) => s.busy);
  const error = useFirstRunStore((s) => s.error);
  const pair = RECOMMENDED_CPU_PAIR;
  // What was measured here, if anything (the newest A/B result), instead of a promise of speed.
  useSavedBenchmarks();
  const measured = useBenchmarksStore((s) => measuredSummary(s.results?.[0] ?? null));
  const id = useId();
  const [path, setPath] = useState("");
  const [folder, setFolder] = useState("");

  const target = downloadOf(downloads, pair.target.source);
  const draft = downloadOf(downloads, pair.draft.source);
  const downloading = [target, draft].some((d) => d && d.state !== "failed" && d.state !== "cancelled");
  // Both in: what remains is loading the target and setting the draft (the flow does it).
  const arrived = target?.state === "done" && draft?.state === "done";
  const useFolder = () => void flow.useFolder(appInfo?.canPickFolder ? null : folder.trim());
  // A step's failure shows in its own card, next to the control that caused it.
  const errorOf = (step: FirstRunStep) =>
    error?.at === step && (
      <p className="field-error welcome-error" role="alert" data-testid="welcome-error">
        {error.message}
      </p>
    );

  return (
    <div className="welcome" data-testid="welcome-screen">
      <div className="welcome-inner">
        <div className="brand-mark large" aria-hidden="true" />
        <h1 className="welcome-title">Welcome to Tandem</h1>
        <p className="welcome-intro" data-testid="welcome-intro">
          Tandem chats with a <strong>target</strong> model that runs entirely on this computer. A small{" "}
          <strong>draft</strong> model from the same family can guess the next few words, which the target checks all at once
          — word for word the same text, and faster when the guesses pay off. Whether they do depends on the models and
          this computer: the A/B benchmark in the metrics panel measures it.
        </p>
        {measured && (
          <p className="welcome-intro" data-testid="welcome-measured">
            {measured}
          </p>
        )}

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
            disabled={downloading}
            aria-disabled={busy !== null}
            aria-busy={busy === "download"}
            onClick={() => busy === null && void flow.downloadPair()}
          >
            {arrived ? "Loading the model…" : downloading ? "Downloading…" : busy === "download" ? "Starting the downloads…" : "Download both"}
          </button>
          {errorOf("download")}
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
            onImported={(model) => void flow.loadImported(model)}
          />
          <form
            className="welcome-row"
            onSubmit={(e) => {
              e.preventDefault();
              if (path.trim()) void flow.importAndLoad(path.trim());
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
          {errorOf("import")}
        </section>

        <section className="welcome-card welcome-folder" aria-labelledby={`${id}-folder`} data-testid="welcome-folder">
          <h2 id={`${id}-folder`} className="welcome-card-title">
            I already have models
          </h2>
          {appInfo?.canPickFolder ? (
            <button type="button" className="btn" data-testid="welcome-choose-folder" disabled={busy !== null} onClick={useFolder}>
              Choose a folder…
            </button>
          ) : (
            <form
              className="welcome-row"
              onSubmit={(e) => {
                e.preventDefault();
                if (folder.trim()) useFolder();
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
          {errorOf("folder")}
        </section>
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
