import { useEffect, useId, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { Settings as SettingsSchema, type Settings } from "../../../electron/window-api.js";
import { SpeculationMode } from "../../../engine/protocol.js";
import { errorMessage } from "../api/client.js";
import { slotsText } from "../cache-format.js";
import { useActions } from "../context.js";
import { fileNameOf, formatBytes, speculationModeLabel } from "../format.js";
import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { useSettingsStore } from "../stores/settings.js";
import { useUiStore } from "../stores/ui.js";
import { ConfirmDialog } from "./ConfirmDialog.js";
import { HfTokenSection } from "./HfTokenSection.js";
import { FoldersSection } from "./FoldersSection.js";
import { Modal } from "./Modal.js";

type Field =
  | "systemPrompt"
  | "temperature"
  | "maxTokens"
  | "contextSize"
  | "gpu"
  | "threads"
  | "theme"
  | "speculation"
  | "maxDraftTokens"
  | "cacheSlots"
  | "cacheDiskBudgetGB";
type Errors = Partial<Record<Field, string>>;

interface Draft {
  systemPrompt: string;
  temperature: string;
  maxTokens: string;
  contextAuto: boolean;
  contextSize: string;
  gpu: Settings["gpu"];
  threadsAuto: boolean;
  threads: string;
  theme: Settings["theme"];
  speculation: Settings["speculation"];
  maxDraftTokens: string;
  cacheSlotsAuto: boolean;
  cacheSlots: string;
  cacheDiskBudgetGB: string;
}

function toDraft(s: Settings): Draft {
  return {
    systemPrompt: s.systemPrompt,
    temperature: String(s.temperature),
    maxTokens: String(s.maxTokens),
    contextAuto: s.contextSize === "auto",
    contextSize: s.contextSize === "auto" ? "4096" : String(s.contextSize),
    gpu: s.gpu,
    threadsAuto: s.threads === "auto",
    threads: s.threads === "auto" ? "4" : String(s.threads),
    theme: s.theme,
    speculation: s.speculation,
    maxDraftTokens: String(s.maxDraftTokens),
    cacheSlotsAuto: s.cacheSlots === "auto",
    cacheSlots: s.cacheSlots === "auto" ? "2" : String(s.cacheSlots),
    cacheDiskBudgetGB: String(s.cacheDiskBudgetGB),
  };
}

function parseNumber(text: string): number | null {
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function intInRange(text: string, min: number, max: number, what: string): { value?: number; error?: string } {
  const n = parseNumber(text);
  if (n === null || !Number.isInteger(n)) return { error: `${what} must be a whole number.` };
  if (n < min || n > max) return { error: `${what} must be between ${min.toLocaleString("en")} and ${max.toLocaleString("en")}.` };
  return { value: n };
}

/** Validates the form; returns the patch to save or the errors to show. */
export function validateDraft(d: Draft): { patch?: Partial<Settings>; errors: Errors } {
  const errors: Errors = {};
  const patch: Partial<Settings> = { systemPrompt: d.systemPrompt, gpu: d.gpu, theme: d.theme, speculation: d.speculation };
  if (d.systemPrompt.length > 100_000) errors.systemPrompt = "The system prompt is too long (100,000 characters at most).";
  const temperature = parseNumber(d.temperature);
  if (temperature === null || temperature < 0 || temperature > 2) errors.temperature = "Temperature must be between 0 and 2.";
  else patch.temperature = temperature;
  const maxTokens = intInRange(d.maxTokens, 1, 32_768, "Max tokens");
  if (maxTokens.error) errors.maxTokens = maxTokens.error;
  else patch.maxTokens = maxTokens.value;
  if (d.contextAuto) patch.contextSize = "auto";
  else {
    const ctx = intInRange(d.contextSize, 16, 1_048_576, "Context size");
    if (ctx.error) errors.contextSize = ctx.error;
    else patch.contextSize = ctx.value;
  }
  if (d.threadsAuto) patch.threads = "auto";
  else {
    const threads = intInRange(d.threads, 1, 256, "Threads");
    if (threads.error) errors.threads = threads.error;
    else patch.threads = threads.value;
  }
  const maxDraftTokens = intInRange(d.maxDraftTokens, 1, 32, "Max draft tokens");
  if (maxDraftTokens.error) errors.maxDraftTokens = maxDraftTokens.error;
  else patch.maxDraftTokens = maxDraftTokens.value;
  if (d.cacheSlotsAuto) patch.cacheSlots = "auto";
  else {
    const slots = intInRange(d.cacheSlots, 1, 16, "Slots");
    if (slots.error) errors.cacheSlots = slots.error;
    else patch.cacheSlots = slots.value;
  }
  const budget = parseNumber(d.cacheDiskBudgetGB);
  if (budget === null || budget < 0.1 || budget > 1000) errors.cacheDiskBudgetGB = "The disk budget must be between 0.1 and 1,000 GB.";
  else patch.cacheDiskBudgetGB = budget;
  if (Object.keys(errors).length > 0) return { errors };
  // The contract's own schema has the last word.
  const checked = SettingsSchema.partial().strict().safeParse(patch);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const key = issue.path[0] as Field | undefined;
      if (key) errors[key] = issue.message;
    }
    return { errors };
  }
  return { patch, errors };
}

export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const settings = useSettingsStore((s) => s.settings);
  const appInfo = useSettingsStore((s) => s.appInfo);
  const titleId = useId();
  if (!settings) return null;
  return (
    <Modal titleId={titleId} onClose={onClose} className="settings" testId="settings-dialog">
      <SettingsForm settings={settings} titleId={titleId} onClose={onClose} />
      <HfTokenSection />
      <FoldersSection />
      {appInfo && (
        <p className="settings-about">
          Tandem {appInfo.version} ·{" "}
          <button
            type="button"
            className="link-button"
            data-testid="settings-about"
            onClick={() => {
              // One dialog at a time: About replaces Settings.
              onClose();
              useUiStore.getState().setAboutOpen(true);
            }}
          >
            About Tandem
          </button>
        </p>
      )}
    </Modal>
  );
}

function SettingsForm({ settings, titleId, onClose }: { settings: Settings; titleId: string; onClose: () => void }) {
  const actions = useActions();
  const [draft, setDraft] = useState<Draft>(() => toDraft(settings));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const id = useId();
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const save = async () => {
    const { patch, errors } = validateDraft(draft);
    setErrors(errors);
    setFormError(null);
    if (!patch) return;
    // Send only what changed: some settings (GPU, context size) make the host reload or restart the engine.
    const changed = Object.fromEntries(
      Object.entries(patch).filter(([key, value]) => settings[key as keyof Settings] !== value),
    ) as Partial<Settings>;
    if (Object.keys(changed).length === 0) {
      onClose();
      return;
    }
    setSaving(true);
    try {
      await actions.saveSettings(changed);
      onClose();
    } catch (error) {
      setFormError(errorMessage(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="settings-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2 id={titleId} className="modal-title">
        Settings
      </h2>

      <FieldRow label="System prompt" htmlFor={`${id}-sp`} error={errors.systemPrompt} hint="Sent at the start of every conversation.">
        <textarea
          id={`${id}-sp`}
          className="input textarea"
          rows={4}
          value={draft.systemPrompt}
          aria-invalid={!!errors.systemPrompt}
          onChange={(e) => set("systemPrompt", e.target.value)}
          placeholder="You are a helpful assistant."
        />
      </FieldRow>

      <div className="field-grid">
        <NumberFieldRow
          label="Temperature"
          id={`${id}-temp`}
          error={errors.temperature}
          hint="0 is deterministic; higher is more varied."
          decimal
          step={0.05}
          min={0}
          max={2}
          value={draft.temperature}
          onValue={(v) => set("temperature", v)}
        />
        <NumberFieldRow
          label="Max tokens"
          id={`${id}-max`}
          error={errors.maxTokens}
          hint="Longest reply, in tokens."
          min={1}
          max={32768}
          value={draft.maxTokens}
          onValue={(v) => set("maxTokens", v)}
        />
      </div>

      <div className="field-grid">
        <AutoNumberField
          label="Context size"
          id={`${id}-ctx`}
          auto={draft.contextAuto}
          value={draft.contextSize}
          error={errors.contextSize}
          unit="tokens"
          hint="Applies when a model is loaded."
          onAuto={(v) => set("contextAuto", v)}
          onValue={(v) => set("contextSize", v)}
        />
        <AutoNumberField
          label="Threads"
          id={`${id}-threads`}
          auto={draft.threadsAuto}
          value={draft.threads}
          error={errors.threads}
          unit="threads"
          hint="Auto measures the fastest count."
          onAuto={(v) => set("threadsAuto", v)}
          onValue={(v) => set("threads", v)}
        />
      </div>

      <div className="field-grid">
        <FieldRow label="GPU backend" htmlFor={`${id}-gpu`} error={errors.gpu} hint="Takes effect after the engine restarts.">
          <select id={`${id}-gpu`} className="input" value={draft.gpu} onChange={(e) => set("gpu", e.target.value as Settings["gpu"])}>
            <option value="auto">Auto</option>
            <option value="cuda">CUDA</option>
            <option value="vulkan">Vulkan</option>
            <option value="metal">Metal</option>
            <option value="cpu">CPU only</option>
          </select>
        </FieldRow>
        <FieldRow label="Theme" htmlFor={`${id}-theme`} error={errors.theme}>
          <select id={`${id}-theme`} className="input" value={draft.theme} onChange={(e) => set("theme", e.target.value as Settings["theme"])}>
            <option value="system">Follow system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </FieldRow>
      </div>

      <fieldset className="settings-section" data-testid="speculation-settings">
        <legend className="settings-section-title">Speculative decoding</legend>
        <p className="settings-section-intro">
          Tandem guesses a few tokens ahead and lets the model check them all in one pass: replies come faster, and at
          temperature 0 the text is exactly the same.
        </p>
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
              onChange={(e) => set("speculation", SpeculationMode.parse(e.target.value))}
            >
              {SpeculationMode.options.map((mode) => (
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

      <fieldset className="settings-section" data-testid="cache-settings">
        <legend className="settings-section-title">Conversation cache</legend>
        <p className="settings-section-intro">
          Each open conversation keeps its evaluated context in a memory slot; the least recently used one is saved to
          disk when a slot is needed, so switching back does not re-read the whole chat.
        </p>
        <div className="field-grid">
          <AutoNumberField
            label="Slots"
            id={`${id}-slots`}
            auto={draft.cacheSlotsAuto}
            value={draft.cacheSlots}
            error={errors.cacheSlots}
            unit="slots"
            hint="Auto fits as many as a quarter of the memory allows (up to 8). Reloads the model."
            onAuto={(v) => set("cacheSlotsAuto", v)}
            onValue={(v) => set("cacheSlots", v)}
          />
          <NumberFieldRow
            label="Disk budget (GB)"
            id={`${id}-cachedisk`}
            error={errors.cacheDiskBudgetGB}
            hint="The oldest saved conversations go first beyond this."
            decimal
            step={0.5}
            min={0.1}
            max={1000}
            value={draft.cacheDiskBudgetGB}
            onValue={(v) => set("cacheDiskBudgetGB", v)}
          />
        </div>
        <CacheUsage />
      </fieldset>

      {formError && (
        <p className="form-error" role="alert" data-testid="settings-error">
          {formError}
        </p>
      )}

      <div className="modal-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="settings-save">
          {saving ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

/**
 * The draft model: any GGUF file of the models folder except the chat model itself. A choice is applied at once
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

  const choices = files.filter((f) => f.path !== target);
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
          <option key={f.path} value={f.path} disabled={!target}>
            {f.name}
          </option>
        ))}
        {extra && <option value={extra}>{fileNameOf(extra)}</option>}
      </select>
      {note}
    </div>
  );
}

/**
 * What the cache holds now (slots and memory estimate of the loaded model, saved states on disk) and the "Clear
 * cache" button, which asks first and acts at once (not with Save).
 */
function CacheUsage() {
  const actions = useActions();
  const model = useEngineStore((s) => s.status?.model ?? null);
  const cache = useEngineStore((s) => s.status?.cache ?? null);
  const [confirming, setConfirming] = useState(false);
  const [clearing, setClearing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cleared, setCleared] = useState(false);

  const clear = async () => {
    setConfirming(false);
    setClearing(true);
    setError(null);
    const failure = await actions.clearCache();
    setClearing(false);
    setError(failure);
    setCleared(failure === null);
  };

  const slots = cache?.slots || model?.cacheSlots || 0;
  const memory = cache?.memoryBytes || model?.cacheMemoryBytes || 0;
  return (
    <div className="cache-usage" data-testid="cache-usage">
      <p className="field-hint" data-testid="cache-slots-now">
        {model && slots > 0
          ? `Now: ${slotsText(slots)}${cache ? ` (${cache.slotsInUse} in use)` : ""}${memory > 0 ? ` · about ${formatBytes(memory)} of memory` : ""}`
          : "Load a model to see its slots and memory estimate."}
      </p>
      <div className="cache-disk-row">
        <span className="field-hint" data-testid="cache-disk-usage">
          {cache
            ? `On disk: ${formatBytes(cache.diskBytes)} in ${cache.diskStates} saved ${cache.diskStates === 1 ? "conversation" : "conversations"} (budget ${formatBytes(cache.diskBudgetBytes)})`
            : "On disk: unknown until a model is loaded."}
        </span>
        <button type="button" className="btn" data-testid="clear-cache" disabled={clearing} onClick={() => setConfirming(true)}>
          {clearing ? "Clearing…" : "Clear cache"}
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert" data-testid="clear-cache-error">
          {error}
        </p>
      )}
      {cleared && !error && <p className="field-hint" data-testid="clear-cache-done">Cache cleared.</p>}
      {/* In a portal: inside the settings modal (animated with a transform) a fixed backdrop would be clipped to it. */}
      {confirming &&
        createPortal(
          <ConfirmDialog
            title="Clear the conversation cache?"
            confirmLabel="Clear cache"
            danger
            onConfirm={() => void clear()}
            onCancel={() => setConfirming(false)}
          >
            <p>
              Every saved conversation state is deleted. Your chats stay; the next reply in each one reads it again from its
              text, which takes longer once.
            </p>
          </ConfirmDialog>,
          document.body,
        )}
    </div>
  );
}

/** A labelled number input; the value stays text until validateDraft parses it. */
function NumberFieldRow(props: {
  label: string;
  id: string;
  error?: string;
  hint?: string;
  decimal?: boolean;
  step?: number;
  min: number;
  max: number;
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <FieldRow label={props.label} htmlFor={props.id} error={props.error} hint={props.hint}>
      <input
        id={props.id}
        className="input"
        type="number"
        inputMode={props.decimal ? "decimal" : "numeric"}
        step={props.step ?? 1}
        min={props.min}
        max={props.max}
        value={props.value}
        aria-invalid={!!props.error}
        onChange={(e) => props.onValue(e.target.value)}
      />
    </FieldRow>
  );
}

function FieldRow({ label, htmlFor, error, hint, children }: { label: string; htmlFor: string; error?: string; hint?: string; children: ReactNode }) {
  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label className="field-label" htmlFor={htmlFor}>
        {label}
      </label>
      {children}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="field-hint">{hint}</p>
      ) : null}
    </div>
  );
}

interface AutoNumberFieldProps {
  label: string;
  id: string;
  auto: boolean;
  value: string;
  error?: string;
  unit: string;
  hint?: string;
  onAuto: (auto: boolean) => void;
  onValue: (value: string) => void;
}

/** "Auto" or a number: a checkbox plus a number input enabled when Auto is off. */
function AutoNumberField({ label, id, auto, value, error, unit, hint, onAuto, onValue }: AutoNumberFieldProps) {
  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <div className="auto-row">
        <label className="checkbox">
          <input type="checkbox" checked={auto} onChange={(e) => onAuto(e.target.checked)} aria-label={`${label}: automatic`} />
          <span>Auto</span>
        </label>
        <input
          id={id}
          className="input"
          type="number"
          inputMode="numeric"
          step={1}
          value={value}
          disabled={auto}
          aria-invalid={!!error}
          aria-label={`${label} (${unit})`}
          onChange={(e) => onValue(e.target.value)}
        />
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="field-hint">{hint}</p>
      ) : null}
    </div>
  );
}
