/**
 * Settings → API server: the local OpenAI-compatible server other programs use the loaded model through. Its
 * settings (on/off, address, port, CORS origins, keeping API chats, queue) are saved with the form's Save; the API
 * key acts at once (like the Hugging Face token) and is never shown again. What the server is doing now (starting,
 * running at its base URL, or why it did not start) comes from the host's status.
 */
import { useRef, useState } from "react";
import type { ApiServerStatus } from "../../../../contracts/window/index.js";
import { SETTINGS_LIMITS as L } from "../../../../contracts/window/values.js";
import { apiServerStateLabel, curlExample } from "../../api-server-format.js";
import { useActions } from "../../context.js";
import { fileNameOf } from "../../format.js";
import { useApiServerStore } from "../../stores/api-server.js";
import { useEngineStore } from "../../stores/engine.js";
import { CopyButton } from "../Markdown.js";
import { FieldRow, NumberFieldRow } from "./fields.js";
import { isLoopbackHost, type SectionProps } from "./settings-draft.js";

export function ApiServerSection({ id, draft, errors, set }: SectionProps) {
  const status = useApiServerStore((s) => s.status);
  const exposed = draft.apiHost.trim() !== "" && !isLoopbackHost(draft.apiHost);
  return (
    <fieldset className="settings-section api-server-section" data-testid="api-server-settings">
      <legend className="settings-section-title">API server</legend>
      <p className="settings-section-intro">
        Lets other apps on this computer — editors, Open WebUI, scripts — use the loaded model through the OpenAI API, as
        if it were OpenAI’s service. Changes apply when you save.
      </p>

      <div className="api-server-toggle-row">
        <label className="checkbox">
          <input type="checkbox" data-testid="api-server-enabled" checked={draft.apiEnabled} onChange={(e) => set("apiEnabled", e.target.checked)} />
          <span>Turn on the API server</span>
        </label>
        {status && <ServerState status={status} />}
      </div>
      {status?.state === "error" && status.error && (
        <p className="field-error" role="alert" data-testid="api-server-error">
          {status.error}
        </p>
      )}
      {status?.state === "running" && status.baseUrl && <Connection status={status} baseUrl={status.baseUrl} />}

      <div className="field-grid">
        <FieldRow
          label="Address"
          htmlFor={`${id}-api-host`}
          error={errors.apiHost}
          hint={exposed ? undefined : "127.0.0.1 keeps it on this computer."}
        >
          <input
            id={`${id}-api-host`}
            className="input"
            data-testid="api-server-host"
            spellCheck={false}
            autoComplete="off"
            value={draft.apiHost}
            aria-invalid={!!errors.apiHost}
            onChange={(e) => set("apiHost", e.target.value)}
          />
        </FieldRow>
        <NumberFieldRow
          label="Port"
          id={`${id}-api-port`}
          error={errors.apiPort}
          hint={status?.state === "running" && draft.apiPort.trim() === "0" ? `0 picks any free port (now ${status.port}).` : "0 picks any free port."}
          min={L.apiServerPort.min}
          max={L.apiServerPort.max}
          value={draft.apiPort}
          onValue={(v) => set("apiPort", v)}
        />
      </div>
      {exposed && (
        <p className="field-warning" data-testid="api-server-exposed">
          Any address other than 127.0.0.1 or localhost exposes the server to your network: other computers can use the
          model. It needs an API key — without one the server does not start.
        </p>
      )}

      <ApiKeyField id={`${id}-api-key`} keySet={status?.keySet ?? false} />

      <FieldRow
        label="Allowed browser origins (CORS)"
        htmlFor={`${id}-api-cors`}
        error={errors.apiCorsOrigins}
        hint="Web pages that may call the server, one per line or separated by commas (e.g. http://localhost:3000), or * for any page. Empty: no web page can; other programs still can."
      >
        <textarea
          id={`${id}-api-cors`}
          className="input textarea"
          data-testid="api-server-cors"
          rows={2}
          spellCheck={false}
          placeholder="http://localhost:3000"
          value={draft.apiCorsOrigins}
          aria-invalid={!!errors.apiCorsOrigins}
          onChange={(e) => set("apiCorsOrigins", e.target.value)}
        />
      </FieldRow>

      <div className="field-grid">
        <div className="field">
          <label className="checkbox">
            <input
              type="checkbox"
              data-testid="api-server-keep"
              checked={draft.apiKeepConversations}
              onChange={(e) => set("apiKeepConversations", e.target.checked)}
            />
            <span>Keep API chats as conversations</span>
          </label>
          <p className="field-hint">Off: what other apps ask leaves no trace in the chat list.</p>
        </div>
        <NumberFieldRow
          label="Max queue"
          id={`${id}-api-queue`}
          error={errors.apiMaxQueue}
          hint="Requests that may wait for the model; more get “busy, retry later”."
          min={L.apiServerMaxQueue.min}
          max={L.apiServerMaxQueue.max}
          value={draft.apiMaxQueue}
          onValue={(v) => set("apiMaxQueue", v)}
        />
      </div>
    </fieldset>
  );
}

/** Off, Starting…, Running or Not running, beside the toggle. */
function ServerState({ status }: { status: ApiServerStatus }) {
  const tone = status.state === "running" ? "good" : status.state === "error" ? "bad" : status.state === "starting" ? "busy" : "";
  return (
    <span className="api-server-state" data-testid="api-server-state" data-state={status.state}>
      <span className={`status-dot ${tone}`} aria-hidden="true" />
      {apiServerStateLabel[status.state]}
      {status.state === "running" && ` · ${status.requests.toLocaleString("en")} ${status.requests === 1 ? "request" : "requests"}`}
    </span>
  );
}

/** Where clients connect while it runs: the base URL and a curl example, each with a Copy button. */
function Connection({ status, baseUrl }: { status: ApiServerStatus; baseUrl: string }) {
  // The loaded model's id is its file name (the engine's status is live; the server's is pushed less often).
  const loaded = useEngineStore((s) => s.status?.model?.modelPath ?? null);
  const modelId = loaded ? fileNameOf(loaded) : status.modelId;
  const curl = curlExample(baseUrl, modelId ?? "MODEL", status.keySet);
  return (
    <div className="api-server-connection" data-testid="api-server-connection">
      <div className="api-server-url-row">
        <span className="field-label">Base URL</span>
        <code className="api-server-url" data-testid="api-server-url">
          {baseUrl}
        </code>
        <CopyButton text={baseUrl} ariaLabel="Copy the base URL" testId="api-server-url-copy" />
      </div>
      <div className="code-block api-server-curl">
        <div className="code-block-header">
          <span className="code-language">curl</span>
          <CopyButton text={curl} ariaLabel="Copy the curl example" testId="api-server-curl-copy" />
        </div>
        <pre>
          <code data-testid="api-server-curl">{curl}</code>
        </pre>
      </div>
      <p className="field-hint">
        {modelId
          ? `OpenAI clients take the base URL, ${status.keySet ? "the API key" : "any API key (none is set)"} and the model “${modelId}”.`
          : "Load a model: the server answers with the model that is loaded."}
      </p>
    </div>
  );
}

/**
 * The API key: set or replace it (a password field), or clear it, at once. The window only ever learns whether one is
 * set. Enter sets it (it does not submit the settings form).
 */
function ApiKeyField({ id, keySet }: { id: string; keySet: boolean }) {
  const actions = useActions();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const apply = async (value: string | null) => {
    if (value !== null && (value.length < L.apiServerKeyLength.min || value.length > L.apiServerKeyLength.max)) {
      setError(`The key must be ${L.apiServerKeyLength.min} to ${L.apiServerKeyLength.max} characters long.`);
      return;
    }
    setBusy(true);
    setError(null);
    const failure = await actions.setApiServerKey(value);
    setBusy(false);
    setError(failure);
    if (!failure) setKey("");
    // The clicked button may be disabled now: keep the focus in the dialog.
    input.current?.focus();
  };

  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label className="field-label" htmlFor={id}>
        API key
      </label>
      <div className="api-server-key-row">
        <input
          id={id}
          ref={input}
          className="input"
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          data-testid="api-server-key"
          placeholder={keySet ? "Replace the key" : "At least 8 characters"}
          value={key}
          aria-invalid={!!error}
          onChange={(e) => setKey(e.target.value)}
          onKeyDown={(e) => {
            if (e.key !== "Enter") return;
            e.preventDefault();
            if (key.trim()) void apply(key.trim());
          }}
        />
        <button type="button" className="btn btn-small" data-testid="api-server-key-set" disabled={busy || !key.trim()} onClick={() => void apply(key.trim())}>
          {keySet ? "Replace key" : "Set key"}
        </button>
        <button type="button" className="btn btn-small" data-testid="api-server-key-clear" disabled={busy || !keySet} onClick={() => void apply(null)}>
          Clear key
        </button>
      </div>
      {error ? (
        <p className="field-error" role="alert" data-testid="api-server-key-error">
          {error}
        </p>
      ) : (
        <p className="field-hint" data-testid="api-server-key-status">
          {keySet
            ? "A key is set (it is not shown again). Clients send it as “Authorization: Bearer <key>”."
            : "No key is set: any program on this computer may use the server."}
        </p>
      )}
    </div>
  );
}
