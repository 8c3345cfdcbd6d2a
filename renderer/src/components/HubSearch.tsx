/**
 * Hugging Face Hub search in the Models screen's Download section: GGUF repos by name (most downloaded first), a
 * repo's GGUF files with size and quantization, whether each would fit in memory (estimateFit on the file's `hf:`
 * source, reading its header remotely), and Download (the download then shows as a card above).
 */
import { useEffect, useRef, useState } from "react";
import type { FitEstimate, HubFile, HubModel } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import type { Actions } from "../actions.js";
import { useActions } from "../context.js";
import { formatBytes } from "../format.js";
import { useDownloadsStore } from "../stores/downloads.js";

type Loadable<T> = { state: "loading" } | { state: "done"; value: T } | { state: "error"; message: string };

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const FIT_LABEL: Record<FitEstimate["verdict"], string> = { fits: "Fits", tight: "Tight fit", "wont-fit": "Won't fit" };
const ACTIVE_STATES = new Set(["queued", "downloading", "paused", "verifying"]);

/** One fit estimate per source per window, two at a time (each reads a remote header). */
interface FitQueue {
  results: Map<string, Promise<FitEstimate>>;
  running: number;
  waiting: (() => void)[];
}
const fitQueues = new WeakMap<Actions, FitQueue>();
const FIT_CONCURRENCY = 2;

function estimateFit(actions: Actions, source: string): Promise<FitEstimate> {
  let queue = fitQueues.get(actions);
  if (!queue) fitQueues.set(actions, (queue = { results: new Map(), running: 0, waiting: [] }));
  const q = queue;
  let promise = q.results.get(source);
  if (!promise) {
    promise = (async () => {
      if (q.running >= FIT_CONCURRENCY) await new Promise<void>((resolve) => q.waiting.push(resolve));
      q.running++;
      try {
        return await actions.estimateFit({ source });
      } finally {
        q.running--;
        q.waiting.shift()?.();
      }
    })();
    // A failure is not kept: the next time the files are shown it is tried again.
    promise.catch(() => q.results.delete(source));
    q.results.set(source, promise);
  }
  return promise;
}

export function formatUpdated(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
}

export function HubSearch() {
  const actions = useActions();
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState<(Loadable<HubModel[]> & { query: string }) | null>(null);
  const [openRepo, setOpenRepo] = useState<string | null>(null);
  const latest = useRef(0);

  const run = async (text: string) => {
    const id = ++latest.current;
    setSearch({ state: "loading", query: text });
    setOpenRepo(null);
    try {
      const results = await actions.searchHub(text);
      if (id === latest.current) setSearch({ state: "done", value: results, query: text });
    } catch (error) {
      if (id === latest.current) setSearch({ state: "error", message: errorMessage(error), query: text });
    }
  };

  return (
    <div className="hub-search" data-testid="hub-search">
      <h4 className="download-catalog-title">Search the Hugging Face Hub</h4>
      <form
        className="download-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const text = query.trim();
          if (text) void run(text);
        }}
      >
        <input
          className="input"
          type="search"
          aria-label="Search the Hugging Face Hub"
          data-testid="hub-query"
          placeholder="Model name, e.g. llama 3.2 1b instruct"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" className="btn" data-testid="hub-search-button" disabled={query.trim() === "" || search?.state === "loading"}>
          Search
        </button>
      </form>
      {search?.state === "loading" && (
        <p className="hub-status" role="status" data-testid="hub-status">
          Searching…
        </p>
      )}
      {search?.state === "error" && (
        <p className="field-error" role="alert" data-testid="hub-error">
          {search.message}
        </p>
      )}
      {search?.state === "done" && search.value.length === 0 && (
        <p className="hub-status" role="status" data-testid="hub-status">
          No GGUF models on the Hub match “{search.query}”.
        </p>
      )}
      {search?.state === "done" && search.value.length > 0 && (
        <ul className="hub-results" aria-label="Hub search results">
          {search.value.map((model) => (
            <HubResult key={model.repo} model={model} open={openRepo === model.repo} onToggle={() => setOpenRepo(openRepo === model.repo ? null : model.repo)} />
          ))}
        </ul>
      )}
    </div>
  );
}

function HubResult({ model, open, onToggle }: { model: HubModel; open: boolean; onToggle: () => void }) {
  const updated = formatUpdated(model.updatedAt);
  const filesId = `hub-files-${model.repo.replace(/[^\w-]/g, "_")}`;
  return (
    <li className="hub-result" data-testid="hub-result">
      <button type="button" className="hub-repo" aria-expanded={open} aria-controls={filesId} onClick={onToggle}>
        <span className="hub-repo-name">
          {model.repo}
          {model.gated && (
            <span className="hub-gated" title="Gated: needs a Hugging Face token with access (Settings)" aria-label="gated" data-testid="hub-gated">
              <LockIcon />
            </span>
          )}
        </span>
        <span className="hub-repo-meta" data-testid="hub-meta">
          {compact.format(model.downloads)} downloads · {compact.format(model.likes)} likes{updated ? ` · updated ${updated}` : ""}
        </span>
      </button>
      {open && (
        <div id={filesId}>
          <HubFiles repo={model.repo} />
        </div>
      )}
    </li>
  );
}

function HubFiles({ repo }: { repo: string }) {
  const actions = useActions();
  const [files, setFiles] = useState<Loadable<HubFile[]>>({ state: "loading" });

  useEffect(() => {
    let live = true;
    setFiles({ state: "loading" });
    actions.listHubFiles(repo).then(
      (files) => live && setFiles({ state: "done", value: files }),
      (error: unknown) => live && setFiles({ state: "error", message: errorMessage(error) }),
    );
    return () => {
      live = false;
    };
  }, [actions, repo]);

  if (files.state === "loading")
    return (
      <p className="hub-status" role="status">
        Listing files…
      </p>
    );
  if (files.state === "error")
    return (
      <p className="field-error" role="alert" data-testid="hub-files-error">
        {files.message}
      </p>
    );
  if (files.value.length === 0)
    return (
      <p className="hub-status" data-testid="hub-no-files">
        This repository has no GGUF model files.
      </p>
    );
  return (
    <ul className="hub-files" aria-label={`GGUF files of ${repo}`}>
      {files.value.map((file) => (
        <HubFileRow key={file.path} file={file} />
      ))}
    </ul>
  );
}

function HubFileRow({ file }: { file: HubFile }) {
  const actions = useActions();
  const active = useDownloadsStore((s) => s.list.some((d) => d.source === file.source && ACTIVE_STATES.has(d.state)));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      // The downloads store gets it from the downloadProgress event.
      setError(await actions.startDownload(file.source, file.sha256 ?? undefined));
    } finally {
      setBusy(false);
    }
  };

  const details = [file.sizeBytes !== null ? formatBytes(file.sizeBytes) : "size unknown"];
  if (file.parts > 1) details.push(`${file.parts} parts`);
  return (
    <li className="hub-file" data-testid="hub-file">
      <div className="hub-file-text">
        <span className="hub-file-name" title={file.path}>
          {file.name}
        </span>
        <span className="hub-file-meta">
          {file.quantization && (
            <span className="badge hub-quant" data-testid="hub-quant">
              {file.quantization}
            </span>
          )}
          <span data-testid="hub-size">{details.join(" · ")}</span>
          <FitPill source={file.source} />
        </span>
        {error && <span className="field-error">{error}</span>}
      </div>
      <button
        type="button"
        className="btn btn-small"
        data-testid="hub-download"
        aria-label={`Download ${file.name}`}
        disabled={busy || active}
        onClick={() => void download()}
      >
        {active ? "In downloads" : "Download"}
      </button>
    </li>
  );
}

function FitPill({ source }: { source: string }) {
  const actions = useActions();
  const [fit, setFit] = useState<Loadable<FitEstimate>>({ state: "loading" });

  useEffect(() => {
    let live = true;
    estimateFit(actions, source).then(
      (value) => live && setFit({ state: "done", value }),
      (error: unknown) => live && setFit({ state: "error", message: errorMessage(error) }),
    );
    return () => {
      live = false;
    };
  }, [actions, source]);

  if (fit.state === "loading")
    return (
      <span className="fit-pill checking" data-testid="hub-fit" data-verdict="checking">
        checking…
      </span>
    );
  if (fit.state === "error")
    return (
      <span className="fit-pill unknown" data-testid="hub-fit" data-verdict="error" title={fit.message}>
        can't estimate: {fit.message}
      </span>
    );
  const { verdict, message } = fit.value;
  return (
    <>
      <span className={`fit-pill ${verdict}`} data-testid="hub-fit" data-verdict={verdict} title={message}>
        {FIT_LABEL[verdict]}
        {verdict === "fits" && <span className="hub-sr">: {message}</span>}
      </span>
      {verdict !== "fits" && (
        <span className="hub-fit-message" data-testid="hub-fit-message">
          {message}
        </span>
      )}
    </>
  );
}

function LockIcon() {
  return (
    <svg className="icon" width={13} height={13} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="4" y="11" width="16" height="10" rx="2" />
      <path d="M8 11V7a4 4 0 0 1 8 0v4" />
    </svg>
  );
}
