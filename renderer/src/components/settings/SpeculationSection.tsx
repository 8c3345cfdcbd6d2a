/** Settings → Speculative decoding: the default mode, the longest draft, and the draft model. */
import { useEffect, useState, type ReactNode } from "react";
import { isSpeculationMode, SPECULATION_MODES } from "../../../../contracts/engine/values.js";
import { useActions } from "../../context.js";
import { fileNameOf, speculationModeLabel } from "../../format.js";
import { useEngineStore } from "../../stores/engine.js";
import { useModelsStore } from "../../stores/models.js";
import { useSettingsStore } from "../../stores/settings.js";
import { useBenchmarksStore } from "../../stores/benchmarks.js";
import { useSavedBenchmarks } from "../../benchmark-actions.js";
import { measuredSummary } from "../../verdict.js";
import { duplicateNames, folderOf } from "../../library-format.js";
import { FieldRow, NumberFieldRow } from "./fields.js";
import type { SectionProps } from "./settings-draft.js";
import { LocalOnlyNote } from "../RemoteEnginesSection.js";

export function SpeculationSection({ id, draft, errors, set }: SectionProps) {
  // What the A/B benchmark measured for the loaded model, if it did.
  useSavedBenchmarks();
  const modelName = useEngineStore((s) => s.status?.model?.name ?? null);
  const measured = useBenchmarksStore((s) => measuredSummary(s.results?.find((r) => r.model === modelName) ?? null));
  return (
    <fieldset className="settings-section" data-testid="speculation-settings">
      <legend className="settings-section-title">Speculative decoding</legend>
      <LocalOnlyNote />
      <p className="settings-section-intro">
        Tandem guesses a few tokens ahead and lets the model check them all in one pass: at temperature 0 the text is
        exactly the same, and replies are faster when the guesses pay off. Whether they do depends on the model and
        this computer: the A/B benchmark in the metrics panel measures it.
      </p>
      {measured && (
        <p className="settings-section-intro" data-testid="speculation-measured">
          {measured}
        </p>
      )}
      <div className="field-grid">
        <FieldRow
          label="Default mode"
          htmlFor={`${id}-spec`}
          error={errors.speculation}
          hint="Auto picks the fastest guesser as it goes; each chat can choose its own in its header."
        >
          <select
            id={`${id}-spec`}
            className="input"
            data-testid="speculation-default"
            value={draft.speculation}
            onChange={(e) => isSpeculationMode(e.target.value) && set("speculation", e.target.value)}
          >
            {SPECULATION_MODES.map((mode) => (
              <option key={mode} value={mode}>
                {speculationModeLabel[mode]}
              </option>
            ))}
          </select>
        </FieldRow>
        <NumberFieldRow
          label="Max draft tokens"
          id={`${id}-maxdraft`}
          error={errors.maxDraftTokens}
          hint="The most tokens guessed per step; fewer are used when guesses miss."
          min={1}
          max={32}
          value={draft.maxDraftTokens}
          onValue={(v) => set("maxDraftTokens", v)}
        />
      </div>
      <DraftModelField id={`${id}-draft`} />
      <p className="field-hint">
        Prompt lookup copies text that already appears in the conversation; learned n-grams reuse phrases the model tends to
        write.
      </p>
    </fieldset>
  );
}

/**
 * The draft model: any GGUF file of the library except the chat model itself (or a copy of its file). A choice is applied at once
 * (the host loads it and checks its tokenizer against the chat model's), not with Save; a refused draft changes
 * nothing and its error shows below the menu.
 */
function DraftModelField({ id }: { id: string }) {
  const actions = useActions();
  const files = useModelsStore((s) => s.files);
  const saved = useSettingsStore((s) => s.settings?.draftModelPath ?? null);
  const target = useEngineStore((s) => s.status?.model?.modelPath ?? null);
  const loaded = useEngineStore((s) => s.status?.draftModel ?? null);
  const statusError = useEngineStore((s) => s.status?.draftError ?? null);
  /** The path being applied (null: unloading); undefined when nothing is in flight. */
  const [pending, setPending] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void actions.refreshModels();
  }, [actions]);

  // Not the chat model, nor a copy of its file in another folder: a model cannot draft for itself.
  const targetFile = files.find((f) => f.path === target) ?? null;
  const choices = files.filter((f) => f.path !== target && !(targetFile && f.name === targetFile.name && f.sizeBytes === targetFile.sizeBytes));
  const twice = duplicateNames(choices);
  const value = pending !== undefined ? (pending ?? "") : (saved ?? "");
  // A saved draft outside the listing (another folder) still shows as the current choice.
  const extra = value && !choices.some((f) => f.path === value) ? value : null;
  const busy = pending !== undefined;

  const choose = async (path: string | null) => {
    setPending(path);
    setError(null);
    const failure = await actions.setDraftModel(path);
    setPending(undefined);
    if (failure) setError(path ? `${fileNameOf(path)}: ${failure}` : failure);
  };

  let note: ReactNode;
  if (error) {
    note = (
      <p className="field-error" role="alert" data-testid="draft-model-error">
        {error}
      </p>
    );
  } else if (busy) {
    note = <p className="field-hint">{pending ? `Loading ${fileNameOf(pending)}…` : "Unloading…"}</p>;
  } else if (saved && statusError) {
    note = (
      <p className="field-warning" data-testid="draft-model-warning">
        Not loaded: {statusError}
      </p>
    );
  } else if (!target) {
    note = <p className="field-hint">Load a chat model first: the draft is checked against it.</p>;
  } else {
    note = (
      <p className="field-hint">
        A small model with the same tokenizer drafts tokens; the main model checks them in one pass. Output is identical at
        temperature 0.
      </p>
    );
  }

  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label className="field-label" htmlFor={id}>
        Draft model
      </label>
      <select
        id={id}
        className="input"
        data-testid="draft-model-select"
        value={value}
        disabled={busy || (!target && !saved)}
        aria-invalid={!!error}
        title={loaded?.modelPath}
        onChange={(e) => void choose(e.target.value === "" ? null : e.target.value)}
      >
        <option value="">None</option>
        {choices.map((f) => (
          <option key={f.path} value={f.path} disabled={!target} title={f.path}>
            {twice.has(f.name) ? `${f.name} — in ${folderOf(f)}` : f.name}
          </option>
        ))}
        {extra && <option value={extra}>{fileNameOf(extra)}</option>}
      </select>
      {note}
    </div>
  );
}
