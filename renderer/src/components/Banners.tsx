import type { ReactNode } from "react";
import { useActions } from "../context.js";
import { crashReasonText, fileNameOf } from "../format.js";
import { useEngineStore } from "../stores/engine.js";
import { useSettingsStore } from "../stores/settings.js";
import { AlertIcon, CloseIcon, WifiOffIcon } from "./Icons.js";

function Banner({
  kind,
  testId,
  icon,
  children,
  actions,
  onDismiss,
}: {
  kind: "error" | "warning";
  testId: string;
  icon: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
  onDismiss?: () => void;
}) {
  return (
    <div className={`banner banner-${kind}`} role={kind === "error" ? "alert" : "status"} data-testid={testId}>
      <span className="banner-icon">{icon}</span>
      <div className="banner-text">{children}</div>
      {actions && <div className="banner-actions">{actions}</div>}
      {onDismiss && (
        <button type="button" className="icon-button banner-dismiss" aria-label="Dismiss" title="Dismiss" onClick={onDismiss}>
          <CloseIcon size={14} />
        </button>
      )}
    </div>
  );
}

/** Problems the user should know about, each with what can be done. */
export function Banners() {
  const actions = useActions();
  const connection = useEngineStore((s) => s.connection);
  const crash = useEngineStore((s) => s.crash);
  const engineState = useEngineStore((s) => s.status?.state ?? null);
  const modelError = useEngineStore((s) => s.modelError);
  const notice = useEngineStore((s) => s.notice);
  const savedModelPath = useSettingsStore((s) => s.settings?.modelPath ?? null);
  const { dismissCrash, dismissModelError, setNotice } = useEngineStore.getState();

  const retryPath = modelError?.path ?? savedModelPath;
  const lost = connection === "reconnecting";

  return (
    <div className="banners">
      {lost && (
        <Banner kind="warning" testId="banner-connection" icon={<WifiOffIcon />}>
          <strong>Connection lost — reconnecting…</strong>
        </Banner>
      )}
      {/* Once the supervisor has given up, the crash screen in the chat area tells the whole story. */}
      {crash && engineState !== "failed" && (
        <Banner
          kind="error"
          testId="banner-engine-crashed"
          icon={<AlertIcon />}
          onDismiss={dismissCrash}
          actions={
            <button type="button" className="btn btn-small" data-testid="retry-engine" onClick={() => void actions.restartEngine()}>
              Retry
            </button>
          }
        >
          <strong>The engine {crashReasonText(crash.crash)}.</strong>{" "}
          {engineState === "restarting" || (crash.restarting && engineState !== "ready")
            ? "Restarting…"
            : engineState === "ready"
              ? "It was restarted."
              : crash.crash.message}
        </Banner>
      )}
      {/* A load that failed because the engine died is part of the same story; Restart engine reloads the model. */}
      {modelError && engineState !== "failed" && (
        <Banner
          kind="error"
          testId="banner-model-error"
          icon={<AlertIcon />}
          onDismiss={dismissModelError}
          actions={
            retryPath ? (
              <button type="button" className="btn btn-small" data-testid="retry-model" onClick={() => void actions.loadModel(retryPath)}>
                Retry
              </button>
            ) : undefined
          }
        >
          <strong>Couldn’t load {retryPath ? fileNameOf(retryPath) : "the model"}.</strong> {modelError.message}
        </Banner>
      )}
      {notice && (
        <Banner kind="warning" testId="banner-error" icon={<AlertIcon />} onDismiss={() => setNotice(null)}>
          {notice}
        </Banner>
      )}
    </div>
  );
}
