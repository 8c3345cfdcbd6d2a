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
    if (order.indexOf(level) >= threshold) console.error(`[${prefix}] ${level}: ${message}`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** For tests and for callers that want silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
