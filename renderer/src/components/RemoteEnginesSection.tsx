/**
 * Settings → Remote engines: OpenAI-compatible servers (vLLM, SGLang, llama-server, Ollama, LM Studio) Tandem can
 * chat through. Like the Hugging Face token, changes act at once (not with the form's Save): adding a connection
 * saves and tests it, and its API key goes to the host and is never shown again. Choosing one of its models for
 * chat happens in the model picker.
 */
import { useId, useRef, useState } from "react";
import type { RemoteConnectionView, RemoteKind } from "../../../contracts/window/index.js";
import { useActions } from "../context.js";
import { useConnectionsStore } from "../stores/connections.js";
import { useSettingsStore } from "../stores/settings.js";
import { REMOTE_KIND_LABELS, connectionTestLine } from "../remote-format.js";
import { useRemoteChat } from "../hooks.js";

const KIND_CHOICES: Array<"auto" | RemoteKind> = ["auto", "vllm", "sglang", "llama-server", "ollama", "lmstudio", "openai"];

export function RemoteEnginesSection() {
  const list = useConnectionsStore((s) => s.list);
  return (
    <section className="settings-section remote-engines-section" data-testid="remote-engines-section" aria-labelledby="remote-engines-title">
      <h3 id="remote-engines-title" className="settings-section-title">
        Remote engines
      </h3>
      <p className="settings-section-intro">
        Chat through a bigger model on another machine: a vLLM, SGLang, llama.cpp, Ollama or LM Studio server, or any
        OpenAI-compatible one. Your chats stay here; the server writes the replies. Pick its models in the model menu.
      </p>
      {list && list.length > 0 && (
        <ul className="connection-list" data-testid="connection-list">
          {list.map((connection) => (
            <ConnectionRow key={connection.id} connection={connection} />
          ))}
        </ul>
      )}
      <AddConnectionForm />
    </section>
  );
}

function ConnectionRow({ connection }: { connection: RemoteConnectionView }) {
  const actions = useActions();
  const chatEngine = useSettingsStore((s) => s.settings?.chatEngine ?? null);
  const [busy, setBusy] = useState<"test" | "remove" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const inUse = chatEngine?.kind === "remote" && chatEngine.connectionId === connection.id;
  const test = connection.test;
  return (
    <li className="connection-row" data-testid="connection-row">
      <div className="connection-main">
        <span className="connection-name">{connection.name}</span>
        <span className="connection-url" title={connection.baseUrl}>
          {connection.baseUrl}
        </span>
        <span
          className={`connection-state ${test ? (test.ok ? "ok" : "failed") : "untested"}`}
          data-testid="connection-state"
          role={test && !test.ok ? "alert" : undefined}
        >
          {connectionTestLine(connection)}
        </span>
        {connection.hasApiKey && <span className="connection-key">API key set</span>}
        {inUse && <span className="connection-in-use">Used for chat</span>}
      </div>
      <div className="connection-actions">
        <button
          type="button"
          className="btn btn-small"
          data-testid="connection-test"
          disabled={busy !== null}
          onClick={async () => {
            setBusy("test");
            setError(null);
            const outcome = await actions.testConnection(connection.id);
            if (!outcome.ok) setError(outcome.message);
            setBusy(null);
          }}
        >
          {busy === "test" ? "Testing…" : "Test"}
        </button>
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid="connection-remove"
          disabled={busy !== null}
          aria-label={`Remove ${connection.name}`}
          onClick={async () => {
            setBusy("remove");
            setError(await actions.removeConnection(connection.id));
            setBusy(null);
          }}
        >
          Remove
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

function AddConnectionForm() {
  const actions = useActions();
  const id = useId();
  const [baseUrl, setBaseUrl] = useState("");
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"auto" | RemoteKind>("auto");
  const [apiKey, setApiKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const urlInput = useRef<HTMLInputElement>(null);

  return (
    <form
      className="add-connection-form"
      data-testid="add-connection-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!baseUrl.trim()) return;
        setBusy(true);
        setResult(null);
        const outcome = await actions.addConnection({
          baseUrl: baseUrl.trim(),
          ...(name.trim() ? { name: name.trim() } : {}),
          kindSetting: kind,
          ...(apiKey.trim() ? { apiKey: apiKey.trim() } : {}),
        });
        setBusy(false);
        if (!outcome.ok) {
          setResult({ ok: false, message: outcome.message });
        } else {
          // Saved even when the test failed: the row says why, and Test tries again.
          setResult({ ok: outcome.connection.test?.ok ?? false, message: `Added ${outcome.connection.name}: ${connectionTestLine(outcome.connection)}` });
          setBaseUrl("");
          setName("");
          setApiKey("");
          setKind("auto");
        }
        // The Add button is disabled while busy: keep focus inside the dialog.
        urlInput.current?.focus();
      }}
    >
      <div className="field-grid">
        <label className="field-label" htmlFor={`${id}-url`}>
          Server URL
        </label>
        <input
          ref={urlInput}
          id={`${id}-url`}
          className="input"
          data-testid="connection-url"
          placeholder="http://gpu-box:8000/v1"
          spellCheck={false}
          autoComplete="off"
          value={baseUrl}
          onChange={(e) => setBaseUrl(e.target.value)}
        />
        <label className="field-label" htmlFor={`${id}-name`}>
          Name
        </label>
        <input
          id={`${id}-name`}
          className="input"
          data-testid="connection-name"
          placeholder="optional, e.g. Lab server"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <label className="field-label" htmlFor={`${id}-kind`}>
          Server type
        </label>
        <select id={`${id}-kind`} className="input" data-testid="connection-kind" value={kind} onChange={(e) => setKind(e.target.value as "auto" | RemoteKind)}>
          {KIND_CHOICES.map((k) => (
            <option key={k} value={k}>
              {k === "auto" ? "Detect automatically" : REMOTE_KIND_LABELS[k]}
            </option>
          ))}
        </select>
        <label className="field-label" htmlFor={`${id}-key`}>
          API key
        </label>
        <input
          id={`${id}-key`}
          className="input"
          type="password"
          data-testid="connection-key"
          placeholder="if the server needs one"
          autoComplete="off"
          value={apiKey}
          onChange={(e) => setApiKey(e.target.value)}
        />
      </div>
      <div className="add-connection-actions">
        <button type="submit" className="btn btn-small" data-testid="connection-add" disabled={busy || !baseUrl.trim()}>
          {busy ? "Connecting…" : "Add and test"}
        </button>
      </div>
      {result && (
        <p className={result.ok ? "field-ok" : "field-error"} role={result.ok ? "status" : "alert"} data-testid="connection-add-result">
          {result.message}
        </p>
      )}
    </form>
  );
}

/** In a section of settings that only this computer's engine uses, while replies come from a remote server. */
export function LocalOnlyNote() {
  const remote = useRemoteChat();
  if (!remote) return null;
  return (
    <p className="settings-note local-only-note" data-testid="local-only-note">
      For models on this computer. Replies now come from {remote.server ?? "the remote server"}, which uses its own settings (set on the server).
    </p>
  );
}
