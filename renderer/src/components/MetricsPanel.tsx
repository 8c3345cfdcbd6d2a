import { useMemo, useState, type ReactNode } from "react";
import { useSavedBenchmarks } from "../benchmark-actions.js";
import { baselineFor, useBenchmarksStore, type Baseline } from "../stores/benchmarks.js";
import { useEngineStore } from "../stores/engine.js";
import { AbPanel, formatMeasured } from "./AbPanel.js";
import type { Message, RemoteReply } from "../../../contracts/window/index.js";
import { Chart, type ChartData } from "../charts/adapter.js";
import { conversationChart, conversationData, histogramChart, histogramData, replyChart, replyData, speedupChart } from "../charts/specs.js";
import { finishedFigures, liveFigures, replySpeedup, type ReplyFigures } from "../figures.js";
import { formatDuration, formatPercent, formatPerStep, formatRate, stopReasonLabel } from "../format.js";
import { useConversationsStore } from "../stores/conversations.js";
import { selectMessages, useMessagesStore } from "../stores/messages.js";
import { selectLiveReply, useMetricsStore, type LiveReply } from "../stores/metrics.js";
import { usePrefsStore } from "../stores/prefs.js";
import { REMOTE_KIND_LABELS, remoteSpeculationLines } from "../remote-format.js";
import { CloseIcon } from "./Icons.js";

function lastFinishedReply(messages: readonly Message[]): Message | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role === "assistant" && m.status !== "streaming" && (m.stats || m.remote?.stats)) return m;
  }
  return null;
}

function Row({ label, testId, title, children }: { label: string; testId: string; title?: string; children: ReactNode }) {
  return (
    <div className="metric-row" title={title}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}


/** The figures of one reply. Proposed, accepted and rejected are shown together so that they visibly add up. */
function Figures({ figures: f, baseline, sameModel }: { figures: ReplyFigures; baseline: Baseline | null; sameModel: boolean }) {
  const speedup = replySpeedup(f, baseline, sameModel);
  return (
    <dl className="metric-list">
      <Row label={f.live ? "Tokens/s (live)" : "Tokens/s"} testId="fig-tps" title="Decode speed after the first token">
        {f.tokensPerSecond === null ? "–" : formatRate(f.tokensPerSecond)}
      </Row>
      <Row label="Time to first token" testId="fig-ttft">
        {f.timeToFirstTokenMs === null ? "–" : formatDuration(f.timeToFirstTokenMs)}
      </Row>
      <Row label="Tokens" testId="fig-tokens">
        {f.tokens}
        {f.stopReason && <span className="muted"> · {stopReasonLabel[f.stopReason] ?? f.stopReason}</span>}
      </Row>
      {f.speculating && f.proposed === 0 && !f.live ? (
        <Row label="Speculation" testId="fig-speculator" title="Guessing ahead was on, but the guesses were not paying off, so the model wrote every token itself">
          on, but nothing was drafted
        </Row>
      ) : f.speculating ? (
        <>
          <Row
            label="Drafted"
            testId="fig-drafted"
            title="Tokens guessed ahead (drafted) and offered to the model to check: each was kept (accepted) or thrown away (rejected)"
          >
            <span data-testid="fig-proposed">{f.proposed}</span> proposed = <span data-testid="fig-accepted">{f.accepted}</span> accepted +{" "}
            <span data-testid="fig-rejected">{f.rejected}</span> rejected
          </Row>
          <Row label="Acceptance rate" testId="fig-acceptance" title="The share of guessed tokens the model kept (accepted / proposed)">
            {formatPercent(f.acceptanceRate)}
          </Row>
          <Row
            label="Accepted per target decode"
            testId="fig-per-decode"
            title={`Extra tokens each step of the model produced on average, thanks to kept guesses (accepted / model steps: ${f.accepted} / ${f.targetDecodes})`}
          >
            {f.meanAcceptedPerDecode === null ? "–" : formatPerStep(f.meanAcceptedPerDecode)}
          </Row>
          <Row
            label="Time guessing vs checking"
            testId="fig-time-share"
            title="Drafting: guessing tokens ahead. Verifying: the model checking the guesses, all in one pass."
          >
            {f.proposed === 0 ? (
              <span className="muted">nothing was drafted yet</span>
            ) : f.draftShare === null || f.verifyShare === null ? (
              <span className="muted">{f.live ? "when the reply ends" : "–"}</span>
            ) : (
              <span className="time-share">
                <span className="time-share-bar" aria-hidden="true">
                  <span style={{ width: `${f.draftShare * 100}%` }} />
                </span>
                guessing {formatPercent(f.draftShare)} · checking {formatPercent(f.verifyShare)}
              </span>
            )}
          </Row>
          <Row label="Speculator" testId="fig-speculator">
            {f.speculators.length > 0 ? f.speculators.join(" + ") : "none drafted"}
          </Row>
          <Row
            label={f.live ? "Draft length now" : "Final draft length"}
            testId="fig-draft-length"
            title="How many tokens are guessed ahead at a time (0: guessing paused, it was not paying off)"
          >
            {f.draftLength ?? "–"}
          </Row>
        </>
      ) : (
        <Row label="Speculation" testId="fig-speculator">
          off
        </Row>
      )}
      <Row
        label="Speedup vs baseline"
        testId="fig-speedup"
        title="This reply's tokens/s over this model's plain-decoding tokens/s measured on this machine by the A/B benchmark; shown only when the two are comparable, never estimated"
      >
        {"value" in speedup && baseline ? (
          <>
            {speedup.value.toFixed(2)}×{" "}
            <span className="muted" data-testid="fig-baseline">
              vs {formatRate(baseline.tokensPerSecond)}, measured {formatMeasured(baseline.measuredAt)}
            </span>
          </>
        ) : (
          <span className="muted" data-testid="fig-speedup-why">
            {"reason" in speedup ? `none: ${speedup.reason}` : "–"}
          </span>
        )}
      </Row>
    </dl>
  );
}

/**
 * A reply a remote engine wrote: its speed as measured here, and the speculation counters the server reported,
 * labelled with where they came from, or why there are none (never zeros that were not measured).
 */
function RemoteFigures({ remote, model }: { remote: RemoteReply; model: string | null }) {
  const stats = remote.stats;
  const server = `${remote.connectionName}${remote.kind ? ` (${REMOTE_KIND_LABELS[remote.kind]})` : ""}`;
  const spec = stats ? remoteSpeculationLines(stats.speculation) : null;
  return (
    <dl className="metric-list" data-testid="remote-figures">
      <Row label="Engine" testId="fig-remote-engine" title={remote.baseUrl}>
        {server}
        {model && <span className="muted"> · {model}</span>}
      </Row>
      {stats && (
        <>
          <Row label="Tokens/s" testId="fig-tps" title="Decode speed after the first token, measured on this computer (network included)">
            {stats.tokensPerSecond > 0 ? formatRate(stats.tokensPerSecond) : "–"}
          </Row>
          <Row label="Time to first token" testId="fig-ttft">
            {stats.timeToFirstTokenMs === null ? "–" : formatDuration(stats.timeToFirstTokenMs)}
          </Row>
          <Row label="Tokens" testId="fig-tokens">
            {stats.tokens}
            <span className="muted"> · {(stopReasonLabel as Record<string, string>)[stats.stopReason] ?? stats.stopReason}</span>
          </Row>
        </>
      )}
      {spec && (
        <Row label="Speculation on the server" testId="fig-remote-speculation">
          {spec.measured ? (
            <>
              {spec.lines.map((line) => (
                <span key={line} className="remote-spec-line" data-testid="remote-spec-line">
                  {line}
                </span>
              ))}
              <span className="muted remote-spec-source" data-testid="remote-spec-source">
                Reported by {spec.source}
              </span>
            </>
          ) : (
            <span className="muted" data-testid="remote-spec-unavailable">
              {spec.lines[0]}
            </span>
          )}
        </Row>
      )}
    </dl>
  );
}

/** The focus reply's per-token chart (and its histogram), or why there is none. */
function ReplyCharts({ live, histogram, k }: { live: LiveReply | null; histogram: readonly number[]; k: number }) {
  const version = live?.version ?? -1;
  // `version` changes with every update of `live` (its series grow in place).
  const data = useMemo(() => replyData(live), [live, version]);
  const bars = useMemo(() => histogramData(histogram, k), [histogram, k]);
  return (
    <>
      {live ? (
        <Chart spec={replyChart} data={data} />
      ) : (
        <p className="metrics-note" data-testid="reply-chart-missing">
          This reply has no per-token record: replies written before this version of Tandem, or cut off before their end
          was saved, keep only their totals.
        </p>
      )}
      {histogram.length > 0 && <Chart spec={histogramChart} data={bars} />}
    </>
  );
}

export function MetricsPanel() {
  useSavedBenchmarks();
  const setOpen = usePrefsStore((s) => s.setMetricsOpen);
  const [abOpen, setAbOpen] = useState(false);
  const modelName = useEngineStore((s) => s.status?.model?.name ?? null);
  const results = useBenchmarksStore((s) => s.results);
  const baseline = useMemo(() => baselineFor(results, modelName), [results, modelName]);
  const conversationId = useConversationsStore((s) => s.selectedId);
  const messages = useMessagesStore(selectMessages(conversationId));
  const streaming = messages.find((m) => m.role === "assistant" && m.status === "streaming") ?? null;
  const streamingId = streaming?.id ?? null;
  const last = lastFinishedReply(messages);
  const live = useMetricsStore(selectLiveReply(streamingId));
  const lastLive = useMetricsStore(selectLiveReply(last?.id ?? null));
  const conversation = useMemo(() => conversationData(messages, baseline, modelName), [messages, baseline, modelName]);
  const acceptanceSeries = useMemo((): ChartData => [conversation[0], conversation[1], conversation[2]], [conversation]);
  const speedupSeries = useMemo((): ChartData => [conversation[0], conversation[3]], [conversation]);

  const liveFigs = live ? liveFigures(live) : null;
  const lastFigs = last?.stats ? finishedFigures(last.stats) : null;
  const lastRemote = last?.remote?.stats ? last.remote : null;
  // The charts follow the reply being generated, else the last one.
  const focusLive = streamingId ? live : lastLive;
  const histogram = streamingId ? (liveFigs?.histogram ?? []) : (lastFigs?.histogram ?? []);
  const k = streamingId ? (live?.maxProposed ?? 0) : Math.max(lastLive?.maxProposed ?? 0, lastFigs?.draftLength ?? 0);

  return (
    <aside className="metrics-panel" id="metrics-panel" data-testid="metrics-panel" aria-label="Speculation metrics">
      <header className="metrics-header">
        <h2>Metrics</h2>
        <button type="button" className="btn btn-small ab-open" onClick={() => setAbOpen(true)} data-testid="ab-open" title="Measure speedup: plain decoding vs speculation">
          A/B benchmark
        </button>
        <button type="button" className="icon-button" aria-label="Close metrics" title="Close metrics" onClick={() => setOpen(false)}>
          <CloseIcon size={16} />
        </button>
      </header>
      <div className="metrics-body">
        {!conversationId ? (
          <p className="metrics-note">Open a conversation to see its metrics.</p>
        ) : (
          <>
            {streamingId && (
              <section className="metrics-section" data-testid="metrics-live">
                <h3>
                  <span className="live-dot" aria-hidden="true" /> Generating
                </h3>
                {streaming?.remote ? (
                  <p className="metrics-note" data-testid="remote-live-note">
                    On {streaming.remote.connectionName}
                    {streaming.model ? ` (${streaming.model})` : ""}: the server reports its figures when the reply ends.
                  </p>
                ) : liveFigs ? (
                  <Figures figures={liveFigs} baseline={baseline} sameModel={modelName !== null && streaming?.model === modelName} />
                ) : (
                  <p className="metrics-note">Waiting for the first token…</p>
                )}
              </section>
            )}
            <section className="metrics-section" data-testid="metrics-last">
              <h3>Last reply</h3>
              {lastRemote ? (
                <RemoteFigures remote={lastRemote} model={last?.model ?? null} />
              ) : lastFigs ? (
                <Figures figures={lastFigs} baseline={baseline} sameModel={modelName !== null && last?.model === modelName} />
              ) : (
                <p className="metrics-note">No finished reply yet.</p>
              )}
            </section>
            {(streamingId || last) && !(streaming?.remote || (!streaming && lastRemote)) && (
              <section className="metrics-section metrics-charts">
                <ReplyCharts live={focusLive} histogram={histogram} k={k} />
                {conversation[0].length > 0 && <Chart spec={conversationChart} data={acceptanceSeries} />}
                {speedupSeries[1].some((v) => v !== null) && <Chart spec={speedupChart} data={speedupSeries} />}
                <p className="metrics-note" data-testid="baseline-note">
                  {baseline
                    ? `Baseline: ${formatRate(baseline.tokensPerSecond)} plain decoding, measured ${formatMeasured(baseline.measuredAt)} (A/B benchmark). Speedups are shown only for replies that drafted, by this model, run the same way.`
                    : "Speedup per reply needs a measured baseline: none yet (run the A/B benchmark)."}
                </p>
              </section>
            )}
          </>
        )}
      </div>
      {abOpen && <AbPanel onClose={() => setAbOpen(false)} />}
    </aside>
  );
}
