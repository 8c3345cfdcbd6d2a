import { useId, useState } from "react";
import type { BenchmarkPromptSet, BenchmarkResult } from "../../../contracts/window/index.js";
import type { BenchMode, BenchReport } from "../../../contracts/engine/protocol.js";
import { useSavedBenchmarks } from "../benchmark-actions.js";
import { useActions } from "../context.js";
import { formatPercent, formatPerStep } from "../format.js";
import { BENCH_MODE_LABELS, benchVerdicts } from "../verdict.js";
import { useBenchmarksStore } from "../stores/benchmarks.js";
import { useEngineStore } from "../stores/engine.js";
import { selectMessages, useMessagesStore } from "../stores/messages.js";
import { useConversationsStore } from "../stores/conversations.js";
import { Modal } from "./Modal.js";

const MODES: ReadonlyArray<{ mode: BenchMode; label: string; hint: string }> = [
  { mode: "draft", label: "Draft model", hint: "needs a draft model" },
  { mode: "lookup", label: "Prompt lookup", hint: "copies spans of the prompt" },
  { mode: "ngram", label: "Learned n-grams", hint: "from what the model wrote before" },
  { mode: "auto", label: "Auto", hint: "chooses per step" },
];

const SETS: ReadonlyArray<{ set: BenchmarkPromptSet; label: string; hint: string }> = [
  { set: "free-chat", label: "Free chat", hint: "general questions (12 prompts)" },
  { set: "input-grounded", label: "Input-grounded", hint: "quote, edit or continue a passage (12 prompts)" },
];

const x = (v: number) => `${v.toFixed(2)}×`;

export function formatMeasured(at: number): string {
  return new Date(at).toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function Outputs({ report }: { report: BenchReport }) {
  if (report.identicalOutputs === null) return <span className="muted">not checked</span>;
  return report.identicalOutputs ? <span className="ab-identical">identical ✓</span> : <strong className="ab-different">DIFFERENT</strong>;
}

function caption(result: BenchmarkResult): string {
  return `${result.model}${result.draft ? ` + ${result.draft}` : ""} · ${result.promptSet === "free-chat" ? "free chat" : "input-grounded"} · ${
    result.reports[0]?.prompts ?? 0
  } prompts × ${result.reports[0]?.maxTokens ?? 0} tokens · measured ${formatMeasured(result.createdAt)}`;
}

/** The plain verdict: one line per mode. */
function Verdicts({ result }: { result: BenchmarkResult }) {
  return (
    <ul className="ab-verdicts" data-testid="ab-verdicts">
      {benchVerdicts(result).map((v) => (
        <li key={v.mode} className={`ab-verdict ab-verdict-${v.outcome}`} data-testid={`ab-verdict-${v.mode}`}>
          {v.line}
        </li>
      ))}
    </ul>
  );
}

/** Earlier runs of this model, newest first, each with its verdicts (a new run is added, never replaces one). */
function EarlierRuns({ results }: { results: readonly BenchmarkResult[] }) {
  if (results.length === 0) return null;
  return (
    <details className="ab-earlier" data-testid="ab-earlier">
      <summary>Earlier runs ({results.length})</summary>
      <ul>
        {results.map((r) => (
          <li key={r.id} data-testid="ab-earlier-run">
            <span className="muted">{caption(r)}</span>
            <Verdicts result={r} />
          </li>
        ))}
      </ul>
    </details>
  );
}

/** One row per mode: measured speedup against the same prompts decoded plainly, and what bounds it. */
export function AbResults({ result }: { result: BenchmarkResult }) {
  return (
    <div className="ab-results" data-testid="ab-results">
      <p className="ab-caption">{caption(result)}</p>
      <Verdicts result={result} />
      <table className="ab-table">
        <thead>
          <tr>
            <th scope="col">Mode</th>
            <th scope="col" title="Decode speed ratio over all runs (median of the per-prompt ratios)">Speedup</th>
            <th scope="col">Tokens/s</th>
            <th scope="col" title="The share of guessed tokens the model kept (accepted / proposed)">Acceptance</th>
            <th scope="col" title="Extra tokens each step of the model produced, thanks to kept guesses (accepted draft tokens per model step)">Per step</th>
            <th scope="col" title="Every speculative reply equals its plain-decoding reply">Output</th>
            <th scope="col" title="Expected speedup from the measured acceptance and costs (Leviathan et al.)">Bound</th>
            <th scope="col" title="speedup / bound">Efficiency</th>
          </tr>
        </thead>
        <tbody>
          {result.reports.map((r) => (
            <tr key={r.mode} data-testid={`ab-row-${r.mode}`}>
              <th scope="row">{BENCH_MODE_LABELS[r.mode]}</th>
              <td data-testid="ab-speedup">
                {x(r.speedup)} <span className="muted">({x(r.speedupMedian)})</span>
              </td>
              <td>
                {r.speculative.tokensPerSecond.toFixed(1)} <span className="muted">vs {r.baseline.tokensPerSecond.toFixed(1)}</span>
              </td>
              <td data-testid="ab-acceptance">
                {formatPercent(r.speculative.acceptanceRate)}{" "}
                <span className="muted">
                  ({r.speculative.accepted}/{r.speculative.proposed})
                </span>
              </td>
              <td>{formatPerStep(r.speculative.meanAcceptedPerStep)}</td>
              <td data-testid="ab-identical">
                <Outputs report={r} />
              </td>
              <td>{x(r.theoretical.expectedSpeedup)}</td>
              <td>{formatPercent(r.efficiency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The A/B benchmark: plain decoding against the chosen speculation modes on a built-in prompt set. */
export function AbPanel({ onClose }: { onClose: () => void }) {
  useSavedBenchmarks();
  const actions = useActions();
  const titleId = useId();
  const model = useEngineStore((s) => s.status?.model ?? null);
  const hasDraft = useEngineStore((s) => !!s.status?.draftModel);
  const selectedId = useConversationsStore((s) => s.selectedId);
  const generating = useMessagesStore((s) => selectMessages(selectedId)(s).some((m) => m.status === "streaming"));
  const running = useBenchmarksStore((s) => s.running);
  const error = useBenchmarksStore((s) => s.error);
  const results = useBenchmarksStore((s) => s.results);
  const [promptSet, setPromptSet] = useState<BenchmarkPromptSet>("free-chat");
  const [modes, setModes] = useState<BenchMode[]>(() => (hasDraft ? ["draft"] : ["lookup"]));
  const [limitText, setLimit] = useState("12");
  const [maxTokensText, setMaxTokens] = useState("64");
  const clamp = (text: string, min: number, max: number, fallback: number) => {
    const n = Math.floor(Number(text));
    return Number.isFinite(n) && text.trim() !== "" ? Math.max(min, Math.min(max, n)) : fallback;
  };
  const limit = clamp(limitText, 1, 50, 12);
  const maxTokens = clamp(maxTokensText, 1, 512, 64);

  const modelName = model?.name ?? null;
  const ofModel = results?.filter((r) => r.model === modelName) ?? [];
  const latest = ofModel[0] ?? null;
  const chosen = modes.filter((m) => m !== "draft" || hasDraft);
  const blocked = !model
    ? "Load a model to run the benchmark."
    : generating
      ? "A reply is being written: wait for it to finish."
      : chosen.length === 0
        ? "Choose at least one speculation mode."
        : null;
  const toggle = (mode: BenchMode, on: boolean) => setModes((current) => (on ? [...current.filter((m) => m !== mode), mode] : current.filter((m) => m !== mode)));
  const percent = running && running.total > 0 ? Math.round((running.done / running.total) * 100) : 0;

  return (
    <Modal titleId={titleId} onClose={onClose} className="ab-dialog" testId="ab-panel">
      <h2 id={titleId} className="modal-title">
        A/B benchmark
      </h2>
      <p className="ab-intro">
        Plain decoding against each chosen mode on the same prompts, greedy, in alternating order (ABBA), with this
        model{hasDraft ? " and its draft" : ""} and the model's threads. Replies wait while it runs.
      </p>
      <div className="ab-form">
        <fieldset disabled={!!running}>
          <legend>Prompts</legend>
          {SETS.map((s) => (
            <label key={s.set} className="ab-choice">
              <input type="radio" name="ab-set" value={s.set} checked={promptSet === s.set} onChange={() => setPromptSet(s.set)} data-testid={`ab-set-${s.set}`} />
              {s.label} <span className="muted">{s.hint}</span>
            </label>
          ))}
          <label className="ab-number">
            First
            <input type="number" min={1} max={50} value={limitText} onChange={(e) => setLimit(e.target.value)} data-testid="ab-limit" />
            prompts, up to
            <input type="number" min={1} max={512} value={maxTokensText} onChange={(e) => setMaxTokens(e.target.value)} data-testid="ab-max-tokens" />
            tokens each
          </label>
        </fieldset>
        <fieldset disabled={!!running}>
          <legend>Speculation modes (each against plain decoding)</legend>
          {MODES.map((m) => (
            <label key={m.mode} className="ab-choice">
              <input
                type="checkbox"
                checked={chosen.includes(m.mode)}
                disabled={m.mode === "draft" && !hasDraft}
                onChange={(e) => toggle(m.mode, e.target.checked)}
                data-testid={`ab-mode-${m.mode}`}
              />
              {m.label} <span className="muted">{m.mode === "draft" && !hasDraft ? "no draft model loaded" : m.hint}</span>
            </label>
          ))}
        </fieldset>
      </div>
      {running && (
        <div className="ab-running">
          <progress
            className="ab-progress"
            data-testid="ab-progress"
            max={running.total || 1}
            value={running.done}
            aria-label="Benchmark progress"
          />
          <span className="muted" data-testid="ab-progress-text">
            {running.total > 0 ? `${running.done} / ${running.total} prompt runs · ${percent}% · ${running.mode}` : "Warming up…"}
          </span>
        </div>
      )}
      {error && (
        <p className="ab-error" role="alert" data-testid="ab-error">
          {error}
        </p>
      )}
      {!running && blocked && <p className="muted">{blocked}</p>}
      {latest ? <AbResults result={latest} /> : !running && <p className="muted" data-testid="ab-no-results">No benchmark of this model yet.</p>}
      <EarlierRuns results={ofModel.slice(1)} />
      <div className="modal-actions">
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
        {running ? (
          <button type="button" className="btn btn-danger" onClick={() => void actions.cancelBenchmark()} data-testid="ab-cancel">
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            disabled={blocked !== null}
            onClick={() => void actions.runBenchmark({ promptSet, modes: chosen, limit, maxTokens })}
            data-testid="ab-run"
          >
            Run
          </button>
        )}
      </div>
    </Modal>
  );
}
