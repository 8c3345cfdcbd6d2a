/** The Settings form's field layouts: a labelled row, a number input, and "Auto" or a number. */
import type { ReactNode } from "react";

/** A labelled number input; the value stays text until validateDraft parses it. */
export function NumberFieldRow(props: {
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

export function FieldRow({ label, htmlFor, error, hint, children }: { label: string; htmlFor: string; error?: string; hint?: string; children: ReactNode }) {
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
  /** What "auto" came to for the loaded model (the engine's status), null without one. */
  resolved: number | null;
  onAuto: (auto: boolean) => void;
  onValue: (value: string) => void;
}

/**
 * "Auto" or a number: a checkbox plus a number input enabled when Auto is off. While Auto is on the input is empty and
 * its placeholder is what Auto came to for the loaded model (or "Auto" without one), never a made-up number; turning
 * Auto off starts from that value.
 */
export function AutoNumberField({ label, id, auto, value, error, unit, hint, resolved, onAuto, onValue }: AutoNumberFieldProps) {
  return (
    <FieldRow label={label} htmlFor={id} error={error} hint={hint}>
      <div className="auto-row">
        <label className="checkbox">
          <input
            type="checkbox"
            checked={auto}
            onChange={(e) => {
              onAuto(e.target.checked);
              if (!e.target.checked && value.trim() === "" && resolved !== null) onValue(String(resolved));
            }}
            aria-label={`${label}: automatic`}
          />
          <span>Auto</span>
        </label>
        <input
          id={id}
          className="input"
          type="number"
          inputMode="numeric"
          step={1}
          value={auto ? "" : value}
          placeholder={resolved !== null ? String(resolved) : "Auto"}
          disabled={auto}
          aria-invalid={!!error}
          aria-label={`${label} (${unit})`}
          onChange={(e) => onValue(e.target.value)}
        />
      </div>
    </FieldRow>
  );
}
