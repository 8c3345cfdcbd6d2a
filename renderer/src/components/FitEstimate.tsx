/**
 * Memory-fit estimates: whether a model (with the configured draft, context size and cache slots) fits this
 * machine's free RAM and VRAM, from its GGUF header only. A panel for the Models screen, and a guard that asks
 * before loading a model that probably won't fit.
 */
import { useCallback, useEffect, useState, type ReactNode } from "react";
import type { FitEstimate, WindowParams } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import { useActions } from "../context.js";
import { useSettingsStore } from "../stores/settings.js";
import { ConfirmDialog } from "./ConfirmDialog.js";

const VERDICT_LABEL: Record<FitEstimate["verdict"], string> = { fits: "Fits", tight: "Tight fit", "wont-fit": "Won't fit" };

const PART_LABEL: Record<FitEstimate["parts"][number]["part"], string> = {
  "target-weights": "Model weights",
  "target-context": "Context (KV cache)",
  "draft-weights": "Draft weights",
  "draft-context": "Draft context",
};

/** Decimal units, like the estimate's own message ("9.8 GB"). */
export function formatMemory(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(0, Math.round(bytes / 1e3))} KB`;
}

type Loadable = { state: "loading" } | { state: "error"; message: string } | { state: "done"; estimate: FitEstimate };

/**
 * The estimate for `request`, asked again when it or the settings it defaults to change (a new context size, a
 * draft chosen). Null request: nothing to estimate.
 */
export function useFitEstimate(request: WindowParams<"estimateFit"> | null): Loadable | null {
  const actions = useActions();
  const settings = useSettingsStore((s) => s.settings);
  const [result, setResult] = useState<Loadable | null>(null);
  const key = request === null ? null : JSON.stringify(request);
  const settingsKey = settings ? JSON.stringify([settings.modelPath, settings.draftModelPath, settings.contextSize, settings.cacheSlots]) : "";

  useEffect(() => {
    if (key === null) {
      setResult(null);
      return;
    }
    let live = true;
    setResult({ state: "loading" });
    actions.estimateFit(JSON.parse(key) as WindowParams<"estimateFit">).then(
      (estimate) => live && setResult({ state: "done", estimate }),
      (error: unknown) => live && setResult({ state: "error", message: errorMessage(error) }),
    );
    return () => {
      live = false;
    };
  }, [actions, key, settingsKey]);
  return result;
}

/** Verdict pill, needed against free memory, the breakdown on expand, the message, and the suggestion's button. */
export function FitEstimateView({ estimate, onUseContext }: { estimate: FitEstimate; onUseContext?: (contextSize: number) => void }) {
  const suggested = estimate.suggestion?.contextSize;
  const showVram = estimate.vramBytes > 0 || estimate.available.vramBytes > 0;
  return (
    <div className={`fit-estimate ${estimate.verdict}`} data-testid="fit-estimate" data-verdict={estimate.verdict}>
      <div className="fit-estimate-summary">
        <span className={`fit-verdict ${estimate.verdict}`} data-testid="fit-verdict">
          {VERDICT_LABEL[estimate.verdict]}
        </span>
        <span className="fit-figures" data-testid="fit-figures">
          RAM {formatMemory(estimate.ramBytes)} of {formatMemory(estimate.available.ramBytes)} free
          {showVram && ` · VRAM ${formatMemory(estimate.vramBytes)} of ${formatMemory(estimate.available.vramBytes)} free`}
        </span>
      </div>
      <p className="fit-message" data-testid="fit-message">
        {estimate.message}
      </p>
      <details className="fit-breakdown">
        <summary>
          Breakdown: {estimate.contextSize.toLocaleString("en-US")}-token context, {estimate.cacheSlots} cache slot{estimate.cacheSlots === 1 ? "" : "s"},{" "}
          {estimate.gpuLayers} of {estimate.totalLayers} layers on the GPU
        </summary>
        <table className="fit-parts" data-testid="fit-parts">
          <thead>
            <tr>
              <th>Part</th>
              <th className="num">RAM</th>
              {showVram && <th className="num">VRAM</th>}
            </tr>
          </thead>
          <tbody>
            {estimate.parts.map((p) => (
              <tr key={p.part}>
                <td>{PART_LABEL[p.part]}</td>
                <td className="num">{formatMemory(p.ramBytes)}</td>
                {showVram && <td className="num">{formatMemory(p.vramBytes)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {suggested !== undefined && onUseContext && (
        <button type="button" className="btn btn-small" data-testid="fit-use-context" onClick={() => onUseContext(suggested)}>
          Use a {suggested.toLocaleString("en-US")}-token context
        </button>
      )}
    </div>
  );
}

/** The estimate of a model with the configured draft and settings (the Models screen's details). */
export function FitEstimatePanel({ request }: { request: WindowParams<"estimateFit"> | null }) {
  const actions = useActions();
  const result = useFitEstimate(request);
  const [saveError, setSaveError] = useState<string | null>(null);
  if (!result) return null;
  return (
    <section className="fit-panel" aria-label="Memory estimate" data-testid="fit-panel">
      <h4 className="fit-panel-title">Memory</h4>
      {result.state === "loading" && <p className="settings-section-intro">Estimating memory…</p>}
      {result.state === "error" && (
        <p className="field-error" data-testid="fit-error">
          {result.message}
        </p>
      )}
      {result.state === "done" && (
        <FitEstimateView
          estimate={result.estimate}
          onUseContext={(contextSize) => {
            setSaveError(null);
            actions.saveSettings({ contextSize }).catch((error: unknown) => setSaveError(errorMessage(error)));
          }}
        />
      )}
      {saveError && <p className="field-error">{saveError}</p>}
    </section>
  );
}

/**
 * Loading with a memory check first: a model whose estimate says it won't fit is loaded only after the user
 * confirms. An estimate that fails (engine busy, unreadable header) does not stand in the way: the load reports.
 */
export function useFitCheckedLoad(): { load(path: string): Promise<void>; dialog: ReactNode } {
  const actions = useActions();
  const [pending, setPending] = useState<{ path: string; estimate: FitEstimate } | null>(null);

  const load = useCallback(
    async (path: string) => {
      let estimate: FitEstimate | null = null;
      try {
        estimate = await actions.estimateFit({ source: path });
      } catch {
        estimate = null;
      }
      if (estimate?.verdict === "wont-fit") setPending({ path, estimate });
      else await actions.loadModel(path);
    },
    [actions],
  );

  const dialog = pending && (
    <ConfirmDialog
      title="This model probably won't fit"
      confirmLabel="Load anyway"
      danger
      onCancel={() => setPending(null)}
      onConfirm={() => {
        const { path } = pending;
        setPending(null);
        void actions.loadModel(path);
      }}
    >
      <p data-testid="fit-confirm-message">
        {pending.estimate.modelName}: {pending.estimate.message}
      </p>
      <p>Loading it may fail or make the computer swap heavily. Load anyway?</p>
    </ConfirmDialog>
  );
  return { load, dialog };
}
