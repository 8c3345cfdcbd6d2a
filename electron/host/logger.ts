/**
 * The host's logging seam. Everything goes to stderr by default: in web mode stdout carries exactly one line (the
 * URL), and the Electron shell may route logs elsewhere by passing its own logger.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function consoleLogger(prefix = "tandem", minLevel: "debug" | "info" | "warn" | "error" = "info"): Logger {
  const order = ["debug", "info", "warn", "error"] as const;
  const threshold = order.indexOf(minLevel);
  const write = (level: (typeof order)[number]) => (message: string) => {
    if (order.indexOf(level) >= threshold) console.error(`[${prefix}] ${level}: ${oneLine(message)}`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** For tests and for callers that want silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `text` as one log line: trailing whitespace dropped, the rest escaped by escapeControlCharacters. Messages carry
 * untrusted text (file names, engine output), and a newline in one must never forge a line of its own, nor a
 * terminal escape recolour or erase what is shown.
 */
export function oneLine(text: string): string {
  return escapeControlCharacters(text.replace(/\s+$/, ""));
}

/** `text` with C0 control characters, DEL and the Unicode line breaks escaped: \n, \r, \t, \0, else \u001b… */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_OR_LINE_BREAK, (c) => CONTROL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_OR_LINE_BREAK = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g;
const CONTROL_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };
