/**
 * `npm run web`: Tandem in a browser. Starts the host (engine via child_process.fork) and the local web server,
 * prints exactly one line with the URL (token included) on stdout, and shuts everything down on SIGINT/SIGTERM.
 *
 * The URL is printed only once the database has opened: a database that can't be opened at all (permission
 * denied, a disk error) ends web mode with one line on stderr and exit code 1, and no URL pointing at a server that
 * is already gone. A damaged database is not such a failure: the server runs and the page shows the recovery screen.
 *
 * Built to dist/web.js; the engine and the renderer are found next to it (dist/engine/main.js, dist/renderer/).
 */
import { randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import packageJson from "../../../package.json" with { type: "json" };
import { defaultDataDir } from "../data-dir.js";
import { createHost, type HostInternals } from "../host.js";
import { consoleLogger, describeError, type Logger } from "../logger.js";
import { nodeForkSpawner } from "../supervision/node-fork-spawner.js";
import type { EngineSpawner, Host } from "../types.js";
import type { DatabaseStatus } from "../../../contracts/window/index.js";
import { startWebServer } from "./server.js";

export interface WebModeOptions {
  /** Default: TANDEM_DATA_DIR, else the desktop app's data folder (see data-dir.ts). */
  dataDir?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default: the renderer built next to this file. */
  staticDir?: string;
  /** Default: the engine built next to this file. */
  engineEntry?: string;
  spawner?: EngineSpawner;
  /** Default: 32 random bytes, hex. */
  token?: string;
  logger?: Logger;
  hostInternals?: HostInternals;
}

export interface WebMode {
  url: string;
  port: number;
  token: string;
  host: Host;
  /** The database as it was found when web mode started (state "damaged": the page shows the recovery screen). */
  database: DatabaseStatus;
  /** Settles when the host has started (engine ready or failed); rejects when the host could not start at all. */
  ready: Promise<void>;
  /** Closes the server, then disposes the host. */
  close(): Promise<void>;
}

export async function startWebMode(options: WebModeOptions = {}): Promise<WebMode> {
  const logger = options.logger ?? consoleLogger("tandem-web");
  const token = options.token ?? randomBytes(32).toString("hex");
  const host = createHost(
    {
      dataDir: options.dataDir ?? defaultDataDir(),
      engineEntry: options.engineEntry ?? fileURLToPath(new URL("./engine/main.js", import.meta.url)),
      spawner: options.spawner ?? nodeForkSpawner,
      mode: "web",
      appVersion: packageJson.version,
    },
    { logger, ...options.hostInternals },
  );
  // The database opens (and is checked) before anything is served: if it can't be opened at all there is no web
  // mode to point the user at. Damage found here is reported by the status, not thrown.
  let database: DatabaseStatus;
  try {
    database = await host.api.getDatabaseStatus({});
  } catch (error) {
    await host.dispose();
    throw error;
  }
  // The store is open, so API calls work as soon as the page connects; the engine may still be starting then,
  // which the page shows from its status.
  const ready = host.start();
  ready.catch(() => {});
  const webServer = await startWebServer({
    host,
    port: options.port ?? 0,
    staticDir: options.staticDir ?? fileURLToPath(new URL("./renderer/", import.meta.url)),
    token,
    logger,
  }).catch(async (error: unknown) => {
    await host.dispose();
    throw error;
  });
  let closing: Promise<void> | null = null;
  return {
    url: webServer.url,
    port: webServer.port,
    token,
    host,
    database,
    ready,
    close() {
      closing ??= webServer.close().then(() => host.dispose());
      return closing;
    },
  };
}

/** `--port 8080`, `--port=8080` or TANDEM_PORT; 0 when neither is given. */
export function parsePort(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  let raw: string | undefined = env.TANDEM_PORT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") raw = argv[i + 1];
    else if (argv[i].startsWith("--port=")) raw = argv[i].slice("--port=".length);
  }
  if (raw === undefined || raw === "") return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`Invalid port "${raw}": use a number from 0 to 65535`);
  return port;
}

async function main(): Promise<void> {
  const logger = consoleLogger("tandem-web");
  let port: number;
  try {
    port = parsePort(process.argv.slice(2), process.env);
  } catch (error) {
    logger.error(describeError(error));
    process.exit(2);
  }
  let web: WebMode;
  try {
    web = await startWebMode({ port, logger });
  } catch (error) {
    // One line, no stack: the message says what is wrong (DatabaseOpenError names the file and the reason).
    process.stderr.write(`Tandem web mode could not start. ${describeError(error)}\n`);
    process.exit(1);
  }
  process.stdout.write(`Tandem web mode: ${web.url}\n`);
  if (web.database.state === "damaged") logger.warn(`The database is damaged (${web.database.detail}): open the page to back it up and recover it`);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) {
      // A second Ctrl+C means "now".
      process.exit(1);
    }
    shuttingDown = true;
    logger.info(`${signal}: shutting down`);
    web.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`Shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  web.ready.catch((error: unknown) => {
    logger.error(`Tandem could not start: ${describeError(error)}`);
    void web.close().finally(() => process.exit(1));
  });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    console.error(`Tandem web mode failed: ${describeError(error)}`);
    process.exit(1);
  });
}
