import { useState } from "react";
import type { DownloadInfo } from "../../../contracts/window/index.js";
import { useActions } from "../context.js";
import { downloadFraction, downloadStateText, formatBytes } from "../format.js";
import { MODEL_CATALOG } from "../model-catalog.js";
import { useDownloadsStore } from "../stores/downloads.js";
import { HubSearch } from "./HubSearch.js";

export function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/** The Models screen's download part: a reference/URL field, the curated catalog, and one card per download. */
export function DownloadsSection() {
  const actions = useActions();
  const downloads = useDownloadsStore((s) => s.list);
  const [source, setSource] = useState("");
  // The failure shows next to the control that caused it: the field's Download ("form") or a catalog pair's button.
  const [error, setError] = useState<{ at: string; message: string } | null>(null);
  // Which control is starting downloads. Its button stays focusable (aria-disabled, not disabled), so focus stays in
  // the dialog while it works.
  const [busy, setBusy] = useState<string | null>(null);

  const start = async (at: string, sources: string[]): Promise<boolean> => {
    if (busy) return false;
    setBusy(at);
    setError(null);
    try {
      for (const s of sources) {
        const failure = await actions.startDownload(s);
        if (failure) {
          setError({ at, message: failure });
          return false;
        }
      }
      return true;
    } finally {
      setBusy(null);
    }
  };
  const errorAt = (at: string) =>
    error?.at === at && (
      <p className="field-error" role="alert" data-testid="download-error">
        {error.message}
      </p>
    );

  return (
    <section className="models-downloads" data-testid="downloads-section" aria-label="Download models">
      <h3 className="settings-section-title">Download</h3>
      <form
        className="download-form"
        onSubmit={(e) => {
          e.preventDefault();
          const value = source.trim();
          if (value) void start("form", [value]).then((ok) => ok && setSource(""));
        }}
      >
        <input
          className="input"
          type="text"
          aria-label="Model to download"
          data-testid="download-source"
          placeholder="hf:user/repo:Q4_K_M, hf:user/repo/file.gguf or https://…/model.gguf"
          value={source}
          onChange={(e) => setSource(e.target.value)}
        />
        <button
          type="submit"
          className="btn"
          data-testid="download-start"
          disabled={source.trim() === ""}
          aria-disabled={busy !== null}
          aria-busy={busy === "form"}
        >
          {busy === "form" ? "Starting…" : "Download"}
        </button>
      </form>
      {errorAt("form")}

      {downloads.length > 0 && (
        <ul className="download-cards">
          {downloads.map((d) => (
            <DownloadCard key={d.id} info={d} onControl={(action) => void actions.downloadControl(action, d.id)} />
          ))}
        </ul>
      )}

      <HubSearch />

      <h4 className="download-catalog-title">Catalog: a model and its draft</h4>
      <p className="settings-section-intro">Each pair shares a tokenizer, so the small draft speeds up the large model. Size shown when the download starts.</p>
      <ul className="download-catalog">
        {MODEL_CATALOG.map((pair) => (
          <li key={pair.id} data-testid="catalog-pair">
            <div className="catalog-text">
              <strong>{pair.title}</strong>
              <span className="catalog-note">
                {pair.target.label} + draft {pair.draft.label}. {pair.note}
              </span>
            </div>
            <button
              type="button"
              className="btn btn-small"
              data-testid="catalog-download"
              aria-disabled={busy !== null}
              aria-busy={busy === pair.id}
              aria-label={`Download pair ${pair.title}`}
              onClick={() => void start(pair.id, [pair.target.source, pair.draft.source])}
            >
              {busy === pair.id ? "Starting…" : "Download pair"}
            </button>
            {errorAt(pair.id)}
          </li>
        ))}
      </ul>
    </section>
  );
}

function DownloadCard({ info, onControl }: { info: DownloadInfo; onControl: (action: "pause" | "resume" | "cancel") => void }) {
  const fraction = downloadFraction(info);
  const running = info.state === "downloading" || info.state === "queued";
  const stopped = info.state === "paused" || info.state === "failed";
  const size = info.totalBytes !== null ? `${formatBytes(info.receivedBytes)} of ${formatBytes(info.totalBytes)}` : formatBytes(info.receivedBytes);
  const details = [size];
  // The host's speed covers the last few seconds and is 0 while no bytes arrive (connecting, a stalled server, a retry).
  if (info.state === "downloading" && info.bytesPerSecond === 0) details.push("Waiting for the server…");
  if (info.state === "downloading" && info.bytesPerSecond > 0) details.push(`${formatBytes(info.bytesPerSecond)}/s`);
  if (info.state === "downloading" && info.bytesPerSecond > 0 && info.etaSeconds !== null) details.push(`${formatEta(info.etaSeconds)} left`);
  return (
    <li className={`download-card ${info.state}`} data-testid="download-card" data-state={info.state}>
      <div className="download-card-head">
        <span className="download-name" title={info.destPath}>
          {info.fileName}
        </span>
        <span className="download-state" data-testid="download-state">
          {downloadStateText(info)}
        </span>
      </div>
      <progress
        className="download-progress"
        aria-label={`Progress of ${info.fileName}`}
        max={1}
        {...(fraction !== null ? { value: info.state === "done" ? 1 : fraction } : {})}
      />
      <div className="download-details" data-testid="download-details">
        {details.join(" · ")}
      </div>
      {info.error && <p className="field-error">{info.error}</p>}
      <div className="download-actions">
        {running && (
          <button type="button" className="btn btn-small" data-testid="download-pause" onClick={() => onControl("pause")}>
            Pause
          </button>
        )}
        {stopped && (
          <button type="button" className="btn btn-small" data-testid="download-resume" onClick={() => onControl("resume")}>
            {info.state === "failed" ? "Retry" : "Resume"}
          </button>
        )}
        {(running || stopped) && (
          <button type="button" className="btn btn-small" data-testid="download-cancel" onClick={() => onControl("cancel")}>
            Cancel
          </button>
        )}
      </div>
    </li>
  );
}
