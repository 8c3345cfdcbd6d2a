/**
 * Settings → the engine: context size, threads and GPU backend. The theme shares the GPU backend's row (the form's
 * two-column grid), so it is here too.
 */
import type { Settings } from "../../../../contracts/window/index.js";
import { AutoNumberField, FieldRow } from "./fields.js";
import type { SectionProps } from "./settings-draft.js";
import { LocalOnlyNote } from "../RemoteEnginesSection.js";
import { useEngineStore } from "../../stores/engine.js";

export function EngineSection({ id, draft, errors, set }: SectionProps) {
  const model = useEngineStore((s) => s.status?.model ?? null);
  return (
    <>
      <LocalOnlyNote />
      <div className="field-grid">
        <AutoNumberField
          label="Context size"
          id={`${id}-ctx`}
          auto={draft.contextAuto}
          value={draft.contextSize}
          error={errors.contextSize}
          unit="tokens"
          resolved={model?.contextSize ?? null}
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
          resolved={model?.threads ?? null}
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
    </>
  );
}
