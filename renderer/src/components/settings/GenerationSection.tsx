/** Settings → how replies are written: the system prompt, temperature and reply length. */
import { FieldRow, NumberFieldRow } from "./fields.js";
import type { SectionProps } from "./settings-draft.js";

export function GenerationSection({ id, draft, errors, set }: SectionProps) {
  return (
    <>
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
    </>
  );
}
