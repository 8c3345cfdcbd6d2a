import { useState, type ReactNode } from "react";
import type { DatabaseRecovery, DatabaseStatus } from "../../../contracts/window/index.js";
import { useActions } from "../context.js";
import { useDatabaseStore } from "../stores/database.js";
import { useSettingsStore } from "../stores/settings.js";
import { AlertIcon, CheckIcon } from "./Icons.js";

/** "1 conversation", "3 conversations". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** What is wrong with a damaged database, in plain words. */
export function damageExplanation(status: Pick<DatabaseStatus, "problem" | "foundWhile">): { title: string; detail: string } {
  const when = status.foundWhile === "running" ? "Tandem noticed it while working. " : "";
  if (status.problem === "not-a-database") {
    return {
      title: "Tandem’s database can’t be read",
      detail: `${when}The file that holds your conversations and settings is no longer a database: something has written over it.`,
    };
  }
  return {
    title: "Tandem’s database is damaged",
    detail: `${when}Parts of the file that holds your conversations and settings can’t be read, usually after a disk problem or the computer losing power while Tandem was writing.`,
  };
}

/** What a recovery did, in plain words. */
export function recoverySummary(report: DatabaseRecovery): { title: string; detail: string } {
  if (report.mode === "empty") {
    return { title: "Tandem started with an empty database", detail: "There are no conversations yet, and the settings are back to their defaults." };
  }
  if (report.conversations === 0 && report.messages === 0 && report.settings === 0) {
    return { title: "Nothing could be recovered", detail: "No part of the damaged file could be read, so Tandem started with an empty database." };
  }
  const lost = report.incompleteTables.length > 0 ? ` Some ${report.incompleteTables.join(" and ")} could not be read; they are only in the backup.` : "";
  const what =
    report.settings > 0
      ? `${count(report.conversations, "conversation")}, ${count(report.messages, "message")} and ${count(report.settings, "setting")}`
      : `${count(report.conversations, "conversation")} and ${count(report.messages, "message")} (the settings are back to their defaults)`;
  return {
    title: `Recovered ${count(report.conversations, "conversation")} and ${count(report.messages, "message")}`,
    detail: `Tandem copied everything it could read into a new database: ${what}.${lost}`,
  };
}

/**
 * Shown instead of the app while the database can't be used: when it is damaged (the choice between backup-and-
 * recover and an empty database), right after a recovery (what came back, where the backup is), and when the
 * database can't be opened at all (what to fix). The host refuses writes until a choice is made, so nothing else
 * of the app is offered meanwhile.
 */
export function DatabaseScreen() {
  const actions = useActions();
  const status = useDatabaseStore((s) => s.status);
  const unavailable = useDatabaseStore((s) => s.unavailable);
  const report = useDatabaseStore((s) => s.report);
  const busy = useDatabaseStore((s) => s.busy);
  const error = useDatabaseStore((s) => s.error);
  const canOpenFolder = useSettingsStore((s) => s.appInfo?.canOpenFolder ?? false);
  const [openError, setOpenError] = useState<string | null>(null);

  const openFolder = async () => {
    setOpenError((await actions.openFolder("dataDir")).error);
  };

  if (report) {
    const summary = recoverySummary(report);
    return (
      <ScreenFrame state="recovered" icon={<CheckIcon size={22} />} title={summary.title} detail={summary.detail}>
        <p className="database-backup">
          The damaged file is kept as a backup, in case you want to look into it later:{" "}
          <span className="mono selectable" data-testid="database-backup-path">
            {report.backupPath}
          </span>
        </p>
        <div className="crash-actions">
          <button type="button" className="btn btn-primary" data-testid="database-continue" onClick={() => actions.dismissDatabaseReport()}>
            Continue
          </button>
          {canOpenFolder && (
            <button type="button" className="btn" data-testid="database-open-folder" onClick={() => void openFolder()}>
              Show the backup’s folder
            </button>
          )}
        </div>
        {openError && <p className="field-error">{openError}</p>}
      </ScreenFrame>
    );
  }

  if (unavailable !== null && status?.state !== "damaged") {
    return (
      <ScreenFrame
        state="unavailable"
        title="Tandem can’t open its database"
        detail="Without it there is nowhere to keep your conversations and settings. Fix the cause below, then start Tandem again."
      >
        <p className="crash-message mono" data-testid="database-message">
          {unavailable}
        </p>
      </ScreenFrame>
    );
  }

  if (!status) return null;
  const explanation = damageExplanation(status);
  return (
    <ScreenFrame
      state="damaged"
      title={explanation.title}
      detail={`${explanation.detail} To keep the damage from growing, Tandem saves nothing until you choose what to do.`}
    >
      {status.detail && (
        <p className="crash-message mono" data-testid="database-message">
          {status.detail}
        </p>
      )}
      <p className="database-file">
        Database: <span className="mono selectable">{status.path}</span>
      </p>
      <ul className="database-choices">
        <li>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="database-recover"
            disabled={busy !== null}
            onClick={() => void actions.recoverDatabase("recover")}
          >
            {busy === "recover" ? "Recovering…" : "Back up and recover"}
          </button>
          <span className="database-choice-text">
            Moves the damaged file aside as a backup (it is never deleted) and copies everything that can still be read — conversations, messages, settings —
            into a new database.
          </span>
        </li>
        <li>
          <button type="button" className="btn" data-testid="database-empty" disabled={busy !== null} onClick={() => void actions.recoverDatabase("empty")}>
            {busy === "empty" ? "Starting over…" : "Start with an empty database"}
          </button>
          <span className="database-choice-text">Keeps the damaged file as a backup too, and starts over with no conversations and default settings.</span>
        </li>
      </ul>
      {error && (
        <p className="field-error" role="alert" data-testid="database-error">
          {error}
        </p>
      )}
    </ScreenFrame>
  );
}

/**
 * The frame every state of the screen shares: the crash screen's look, an icon, the title and one line of detail
 * (`recovered` is a status, the others alerts).
 */
function ScreenFrame(props: { state: "damaged" | "recovered" | "unavailable"; icon?: ReactNode; title: string; detail: string; children: ReactNode }) {
  const ok = props.state === "recovered";
  return (
    <div className="database-screen" data-testid="database-screen" data-state={props.state}>
      <div className="crash-screen" role={ok ? "status" : "alert"}>
        <div className="crash-head">
          <span className={ok ? "crash-icon database-ok-icon" : "crash-icon"} aria-hidden="true">
            {props.icon ?? <AlertIcon size={22} />}
          </span>
          <div>
            <h2 data-testid="database-title">{props.title}</h2>
            <p className="crash-detail" data-testid="database-detail">
              {props.detail}
            </p>
          </div>
        </div>
        {props.children}
      </div>
    </div>
  );
}
