import { useEffect, useState } from "react";
import type { CrashInfo } from "../../../contracts/window/index.js";
import { useActions } from "../context.js";
import { useEngineStore } from "../stores/engine.js";
import { useSettingsStore } from "../stores/settings.js";
import { AlertIcon } from "./Icons.js";

const LOG_LINES = 30;

/** What happened, in plain words: Electron's reason when the app knows it, else the supervisor's. */
export function crashExplanation(crash: CrashInfo): { title: string; detail: string } {
  const code = crash.processGone ? ` (exit code ${crash.processGone.exitCode})` : "";
  switch (crash.processGone?.reason) {
    case "oom":
      return {
        title: "The engine ran out of memory",
        detail: "The model, its context or its cache needed more memory than this computer could give. Try a smaller model or context.",
      };
    case "crashed":
      return {
        title: `The engine crashed${code}`,
        detail: "The process that runs the model crashed, several times in a row, so Tandem stopped restarting it. engine.log holds its last words.",
      };
    case "killed":
      return { title: "The engine was killed", detail: "Something outside Tandem ended the process that runs the model." };
    case "integrity-failure":
      return {
        title: "The engine failed its code integrity check",
        detail: "The installed app's files don't match what was signed. Reinstalling Tandem should fix it.",
      };
    case "launch-failed":
      return {
        title: "The engine couldn’t be launched",
        detail: "The system refused to start the process that runs the model. A broken installation is the usual cause.",
      };
  }
  switch (crash.reason) {
    case "exited":
      return {
        title: crash.exitCode !== null ? `The engine quit unexpectedly (exit code ${crash.exitCode})` : "The engine quit unexpectedly",
        // (clean-exit / abnormal-exit: Electron knows no more than the exit code.)
        detail: "The process that runs the model stopped on its own, several times in a row, so Tandem stopped restarting it.",
      };
    case "killed":
      return {
        title: crash.signal ? `The engine was killed (${crash.signal})` : "The engine was killed",
        detail: "Something ended the process that runs the model — often the system running out of memory with a model too large for it.",
      };
    case "launch-failed":
      return {
        title: "The engine couldn’t start",
        detail: "The process that runs the model did not come up. A broken installation or a GPU driver problem are the usual causes.",
      };
    case "unresponsive":
      return {
        title: "The engine stopped answering",
        detail: "The process that runs the model went silent and was stopped. A model too large for this computer can make it hang.",
      };
    default:
      return { title: "The engine stopped", detail: "" };
  }
}

/**
 * Shown instead of the chat when the engine has failed for good (the supervisor gave up restarting it): the reason,
 * the crash message, the end of engine.log, and what to do next.
 */
export function CrashScreen() {
  const actions = useActions();
  const crash = useEngineStore((s) => s.status?.lastCrash ?? s.crash?.crash ?? null);
  const appInfo = useSettingsStore((s) => s.appInfo);
  const [lines, setLines] = useState<string[] | null>(null);
  const [restarting, setRestarting] = useState(false);
  const [openError, setOpenError] = useState<string | null>(null);
  const crashAt = crash?.at ?? null;

  useEffect(() => {
    let live = true;
    actions.readLogTail("engine", LOG_LINES).then(
      (lines) => live && setLines(lines),
      () => live && setLines([]),
    );
    return () => {
      live = false;
    };
  }, [actions, crashAt]);

  const explanation = crash ? crashExplanation(crash) : { title: "The engine stopped", detail: "" };

  const restart = async () => {
    setRestarting(true);
    // The user has acted on this crash: its banner must not come back once the engine is up again.
    useEngineStore.getState().dismissCrash();
    try {
      await actions.restartEngine();
    } finally {
      setRestarting(false);
    }
  };

  const openLogs = async () => {
    setOpenError((await actions.openFolder("logs")).error);
  };

  return (
    <div className="crash-screen" role="alert" data-testid="crash-screen">
      <div className="crash-head">
        <span className="crash-icon" aria-hidden="true">
          <AlertIcon size={22} />
        </span>
        <div>
          <h2 data-testid="crash-title">{explanation.title}</h2>
          {explanation.detail && <p className="crash-detail">{explanation.detail}</p>}
        </div>
      </div>
      {crash?.message && (
        <p className="crash-message mono" data-testid="crash-message">
          {crash.message}
        </p>
      )}
      <div className="crash-actions">
        <button type="button" className="btn btn-primary" data-testid="crash-restart" disabled={restarting} onClick={() => void restart()}>
          {restarting ? "Restarting…" : "Restart engine"}
        </button>
        {appInfo?.canOpenFolder ? (
          <button type="button" className="btn" data-testid="crash-open-logs" onClick={() => void openLogs()}>
            Open logs
          </button>
        ) : (
          appInfo && (
            <span className="crash-logs-path">
              Logs: <span className="mono selectable" data-testid="crash-logs-path">{appInfo.paths.logs}</span>
            </span>
          )
        )}
      </div>
      {openError && <p className="field-error">{openError}</p>}
      <h3 className="crash-log-title">Last lines of engine.log</h3>
      <pre className="crash-log" data-testid="crash-log" tabIndex={0}>
        {lines === null ? "Reading…" : lines.length === 0 ? "(the engine log is empty)" : lines.join("\n")}
      </pre>
    </div>
  );
}
