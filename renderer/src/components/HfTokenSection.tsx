import { useEffect, useRef, useState } from "react";
import type { HfTokenStatus } from "../../../contracts/window/index.js";
import { errorMessage } from "../api/client.js";
import { useActions } from "../context.js";

const WHERE: Record<HfTokenStatus["storage"], string> = {
  keychain: "Stored in the OS keychain",
  file: "Stored in a file in the data folder",
  env: "From $HF_TOKEN",
  none: "Not set: only public models can be downloaded",
};

/**
 * Settings → Hugging Face token, for gated models. The token goes to the host and is never read back: the window
 * only learns whether one is set and where it is kept.
 */
export function HfTokenSection() {
  const actions = useActions();
  const [status, setStatus] = useState<HfTokenStatus | null>(null);
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let live = true;
    actions.getHfToken().then(
      (s) => live && setStatus(s),
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [actions]);

  const save = async (value: string | null) => {
    setBusy(true);
    setError(null);
    try {
      setStatus(await actions.setHfToken(value));
      setToken("");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
      // The clicked Save (or Remove) is disabled now: without this, focus would fall out of the dialog to the page,
      // where Escape no longer closes it and Tab leaves its focus trap.
      input.current?.focus();
    }
  };

  return (
    <section className="settings-section hf-token-section" data-testid="hf-token-section" aria-labelledby="hf-token-title">
      <h3 id="hf-token-title" className="settings-section-title">
        Hugging Face token
      </h3>
      <p className="settings-section-intro">For gated models (accept the model’s terms on the Hub first). It stays on this computer.</p>
      <form
        className="hf-token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) void save(token.trim());
        }}
      >
        <input
          className="input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder={status?.set ? "Replace the token (hf_…)" : "hf_…"}
          aria-label="Hugging Face token"
          data-testid="hf-token-input"
          ref={input}
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <button type="submit" className="btn btn-small" data-testid="hf-token-save" aria-label="Use this Hugging Face token" disabled={busy || !token.trim()}>
          Use token
        </button>
        <button
          type="button"
          className="btn btn-small"
          data-testid="hf-token-remove"
          aria-label="Remove the Hugging Face token"
          disabled={busy || !status?.set || status.storage === "env"}
          onClick={() => void save(null)}
        >
          Remove
        </button>
      </form>
      {status && (
        <p className="settings-section-intro" data-testid="hf-token-status">
          {WHERE[status.storage]}
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
