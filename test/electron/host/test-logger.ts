/** A Logger that remembers what it was told, for assertions. */
import type { Logger } from "../../../electron/host/logger.js";

export interface RecordingLogger extends Logger {
  readonly lines: Array<{ level: string; message: string }>;
  messages(level: string): string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: Array<{ level: string; message: string }> = [];
  const write = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return {
    lines,
    messages: (level) => lines.filter((line) => line.level === level).map((line) => line.message),
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}
