/**
 * The Settings dialog: the settings form (its sections are in ./settings/, saved together with Save), then the
 * Hugging Face token, remote engines and folders, which act at once, then the one Save. Escape or a click outside
 * with unsaved edits asks before discarding them.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import type { Settings } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import { useActions } from "../context.js";
import { useSettingsStore } from "../stores/settings.js";
import { useUiStore } from "../stores/ui.js";
import { HfTokenSection } from "./HfTokenSection.js";
import { RemoteEnginesSection } from "./RemoteEnginesSection.js";
import { ConfirmDialog } from "./ConfirmDialog.js";
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
  const titleId = useId();
  // Whether the form holds edits not saved yet: Escape and a click outside ask before dropping them.
  const dirty = useRef(false);
  const [confirming, setConfirming] = useState(false);
  if (!settings) return null;
  const dismiss = () => (dirty.current ? setConfirming(true) : onClose());
  return (
    <>
      <Modal titleId={titleId} onClose={dismiss} className="settings" testId="settings-dialog">
        <SettingsForm settings={settings} titleId={titleId} onClose={onClose} onDirty={(d) => {
            dirty.current = d;
          }}>
          <HfTokenSection />
          <RemoteEnginesSection />
          <FoldersSection />
          <SettingsAbout onClose={onClose} />
        </SettingsForm>
      </Modal>
      {confirming && (
        <ConfirmDialog
          title="Discard changes?"
          confirmLabel="Discard"
          cancelLabel="Keep editing"
          danger
          onConfirm={() => {
            setConfirming(false);
            onClose();
          }}
          onCancel={() => setConfirming(false)}
        >
          <p>The settings you changed have not been saved.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

function SettingsAbout({ onClose }: { onClose: () => void }) {
  const appInfo = useSettingsStore((s) => s.appInfo);
  if (!appInfo) return null;
  return (
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

interface SettingsFormProps {
  settings: Settings;
  titleId: string;
  onClose: () => void;
  onDirty: (dirty: boolean) => void;
  /** The sections that act at once (token, remote engines, folders): between the form and its one Save. */
  children: ReactNode;
}

/**
 * The settings saved together: the form, then `children`, then the dialog's one footer (Cancel, Save), which stays in
 * sight at the bottom of the dialog and submits the form from outside it. A failed Save moves focus (and the view) to
 * the first invalid field, or to the host's error.
 */
function SettingsForm({ settings, titleId, onClose, onDirty, children }: SettingsFormProps) {
  const actions = useActions();
  const [initial] = useState<Draft>(() => toDraft(settings));
  const [draft, setDraft] = useState<Draft>(initial);
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const id = useId();
  const formId = `${id}-form`;
  const formRef = useRef<HTMLFormElement>(null);
  const errorRef = useRef<HTMLParagraphElement>(null);
  // Which kind of failure to bring into sight once it has rendered: a field's or the host's.
  const [reveal, setReveal] = useState<"field" | "form" | null>(null);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const section: SectionProps = { id, draft, errors, set };

  useEffect(() => {
    onDirty(!same(draft, initial));
  }, [draft, initial, onDirty]);

  useEffect(() => {
    if (!reveal) return;
    setReveal(null);
    const target = reveal === "form" ? errorRef.current : formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (!target) return;
    target.scrollIntoView?.({ block: "center" });
    target.focus({ preventScroll: true });
  }, [reveal]);

  const save = async () => {
    const { patch, errors } = validateDraft(draft);
    setErrors(errors);
    setFormError(null);
    if (!patch) {
      setReveal("field");
      return;
    }
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
      setReveal("form");
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <form
        id={formId}
        ref={formRef}
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
          <p className="form-error" role="alert" data-testid="settings-error" ref={errorRef} tabIndex={-1}>
            {formError}
          </p>
        )}
      </form>
      {children}
      <div className="modal-actions settings-footer">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" form={formId} className="btn btn-primary" disabled={saving} data-testid="settings-save">
          {saving ? "Saving…" : "Save"}
        </button>
      </div>
    </>
  );
}
