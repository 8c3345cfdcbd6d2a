/**
 * The Settings dialog: the settings form (its sections are in ./settings/, saved together with Save), then the
 * Hugging Face token and folders, which act at once.
 */
import { useId, useState } from "react";
import type { Settings } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import { useActions } from "../context.js";
import { useSettingsStore } from "../stores/settings.js";
import { useUiStore } from "../stores/ui.js";
import { HfTokenSection } from "./HfTokenSection.js";
import { RemoteEnginesSection } from "./RemoteEnginesSection.js";
import { FoldersSection } from "./FoldersSection.js";
import { Modal } from "./Modal.js";
import { ApiServerSection } from "./settings/ApiServerSection.js";
import { CacheSection } from "./settings/CacheSection.js";
import { EngineSection } from "./settings/EngineSection.js";
import { GenerationSection } from "./settings/GenerationSection.js";
import { toDraft, validateDraft, type Draft, type Errors, type SectionProps } from "./settings/settings-draft.js";
import { SpeculationSection } from "./settings/SpeculationSection.js";

export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const settings = useSettingsStore((s) => s.settings);
  const appInfo = useSettingsStore((s) => s.appInfo);
  const titleId = useId();
  if (!settings) return null;
  return (
    <Modal titleId={titleId} onClose={onClose} className="settings" testId="settings-dialog">
      <SettingsForm settings={settings} titleId={titleId} onClose={onClose} />
      <HfTokenSection />
      <RemoteEnginesSection />
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

/** Equal values, objects and arrays compared field by field (settings are plain JSON). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function SettingsForm({ settings, titleId, onClose }: { settings: Settings; titleId: string; onClose: () => void }) {
  const actions = useActions();
  const [draft, setDraft] = useState<Draft>(() => toDraft(settings));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const id = useId();
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const section: SectionProps = { id, draft, errors, set };

  const save = async () => {
    const { patch, errors } = validateDraft(draft);
    setErrors(errors);
    setFormError(null);
    if (!patch) return;
    // Send only what changed: some settings (GPU, context size) make the host reload or restart the engine, and a
    // changed apiServer restarts the API server. Objects (apiServer) are compared by value and sent whole.
    const changed = Object.fromEntries(
      Object.entries(patch).filter(([key, value]) => !same(settings[key as keyof Settings], value)),
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

      <GenerationSection {...section} />
      <EngineSection {...section} />
      <SpeculationSection {...section} />
      <CacheSection {...section} />
      <ApiServerSection {...section} />

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
