import { useId, useState } from "react";
import type { AppInfo } from "../../../contracts/window/index.js";
import type { SystemInfo } from "../../../contracts/engine/protocol.js";
import { useEngineStore } from "../stores/engine.js";
import { useSettingsStore } from "../stores/settings.js";
import { Modal } from "./Modal.js";

/** The rows of the About dialog (also its "Copy" text): what a bug report needs to know. */
export function versionRows(appInfo: AppInfo | null, system: SystemInfo | null): Array<[string, string]> {
  const v = appInfo?.versions;
  const rows: Array<[string, string]> = [
    ["Tandem", v?.app ?? appInfo?.version ?? "unknown"],
    ["Mode", appInfo ? (appInfo.mode === "electron" ? "desktop app" : "web (browser)") : "unknown"],
  ];
  if (v?.electron) rows.push(["Electron", v.electron]);
  if (v?.chrome) rows.push(["Chromium", v.chrome]);
  if (v) rows.push(["Node.js", v.node]);
  rows.push(["node-llama-cpp", system?.nodeLlamaCppVersion ?? v?.nodeLlamaCpp ?? "unknown"]);
  rows.push(["llama.cpp", system?.llamaCppRelease ?? "engine not running"]);
  rows.push(["Backend", system ? system.backend + (system.gpuRequested !== "auto" && system.gpuRequested !== system.backend ? ` (asked for ${system.gpuRequested})` : "") : "engine not running"]);
  if (system && system.devices.length > 0) rows.push(["Devices", system.devices.join(", ")]);
  if (system) rows.push(["CPU", `${system.cpu.model} (${system.cpu.cores} threads)`]);
  if (appInfo) rows.push(["Platform", appInfo.platform]);
  return rows;
}

export function versionText(rows: Array<[string, string]>): string {
  return rows.map(([k, v]) => `${k}: ${v}`).join("\n");
}

/** Versions of the app, Electron, node-llama-cpp, llama.cpp and the backend, with a Copy button for bug reports. */
export function AboutDialog({ onClose }: { onClose: () => void }) {
  const appInfo = useSettingsStore((s) => s.appInfo);
  const system = useEngineStore((s) => s.status?.system ?? null);
  const titleId = useId();
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const rows = versionRows(appInfo, system);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(versionText(rows));
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };

  return (
    <Modal titleId={titleId} onClose={onClose} className="about-dialog" testId="about-dialog">
      <div className="about-head">
        <div className="brand-mark large" aria-hidden="true" />
        <div>
          <h2 id={titleId} className="modal-title">
            About Tandem
          </h2>
          <p className="about-tagline">Local chat with speculative decoding, on your own hardware.</p>
        </div>
      </div>
      <dl className="about-versions" data-testid="about-versions">
        {rows.map(([key, value]) => (
          <div key={key} className="about-row">
            <dt>{key}</dt>
            <dd className="mono">{value}</dd>
          </div>
        ))}
      </dl>
      <div className="modal-actions">
        <span className="about-copied" role="status">
          {copied === "yes" ? "Copied" : copied === "failed" ? "Couldn’t copy: select the text instead" : ""}
        </span>
        <button type="button" className="btn" data-testid="about-copy" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="btn btn-primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
