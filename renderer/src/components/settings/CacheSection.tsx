/** Settings → Conversation cache: slots and disk budget, what the cache holds now, and clearing it. */
import { useState } from "react";
import { createPortal } from "react-dom";
import { slotsText } from "../../cache-format.js";
import { useActions } from "../../context.js";
import { formatBytes } from "../../format.js";
import { useEngineStore } from "../../stores/engine.js";
import { ConfirmDialog } from "../ConfirmDialog.js";
import { AutoNumberField, NumberFieldRow } from "./fields.js";
import type { SectionProps } from "./settings-draft.js";
import { LocalOnlyNote } from "../RemoteEnginesSection.js";

export function CacheSection({ id, draft, errors, set }: SectionProps) {
  // The slots of the loaded model's cache (zero without a model).
  const slots = useEngineStore((s) => (s.status?.model && s.status.cache?.slots ? s.status.cache.slots : null));
  return (
    <fieldset className="settings-section" data-testid="cache-settings">
      <legend className="settings-section-title">Conversation cache</legend>
      <LocalOnlyNote />
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
          resolved={slots}
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
