/**
 * The API server inside the app (and web mode): started, stopped or restarted as settings.apiServer changes, with
 * its key from a SecretStore, its status pushed to the window (`apiServerStatus`), and its engine the host's
 * supervisor. Changes are applied one at a time, in order.
 */
import { DEFAULT_API_SERVER_SETTINGS, type ApiServerSettings, type ApiServerStatus, type Settings } from "../../../contracts/window/index.js";
import type { HostContext } from "../host-context.js";
import { describeError } from "../logger.js";
import type { SecretStore } from "../secrets.js";
import { ConversationKeeper } from "./conversation-keeper.js";
import type { ApiEngine } from "./engine-port.js";
import { modelId } from "./request-options.js";
import { ApiServerConfigError, isLoopback, startApiServer, type ApiServer } from "./server.js";

/** The window hears about answered requests at most this often. */
const STATUS_THROTTLE_MS = 500;

export class ApiServerController {
  private server: ApiServer | null = null;
  /** The settings the running server (or the last attempt) was started with. */
  private applied: ApiServerSettings | null = null;
  private state: ApiServerStatus["state"] = "off";
  private error: string | null = null;
  private key: string | null = null;
  private keyLoaded = false;
  private queue: Promise<void> = Promise.resolve();
  private statusTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly keeper: ConversationKeeper;

  constructor(
    private readonly ctx: HostContext,
    private readonly engine: ApiEngine,
    private readonly keyStore: SecretStore,
  ) {
    this.keeper = new ConversationKeeper(ctx);
  }

  status(): ApiServerStatus {
    const settings = this.applied ?? this.settings()?.apiServer ?? null;
    const model = this.engine.loadedModel();
    return {
      state: this.state,
      baseUrl: this.server?.baseUrl ?? null,
      host: this.server?.host ?? settings?.host ?? DEFAULT_API_SERVER_SETTINGS.host,
      port: this.server?.port ?? settings?.port ?? 0,
      error: this.error,
      requests: this.server?.requests ?? 0,
      running: this.server?.admission.running ?? 0,
      waiting: this.server?.admission.waiting ?? 0,
      keySet: this.key !== null,
      modelId: model ? modelId(model) : null,
    };
  }

  /** Brings the server in line with the settings (at start, and at every settingsChanged). */
  apply(settings: ApiServerSettings): Promise<void> {
    return this.enqueue(() => this.applyNow(settings, false));
  }

  /** Stores a new key (null removes it) and restarts the server when that changes whether it may run. */
  setKey(key: string | null): Promise<ApiServerStatus> {
    return this.enqueue(async () => {
      await this.keyStore.set(key);
      this.key = key;
      this.keyLoaded = true;
      const settings = this.settings()?.apiServer;
      if (settings) await this.applyNow(settings, true);
    }).then(() => this.status());
  }

  close(): Promise<void> {
    this.closed = true;
    return this.enqueue(() => this.stopNow());
  }

  private async applyNow(settings: ApiServerSettings, keyChanged: boolean): Promise<void> {
    if (this.closed) return;
    if (!this.keyLoaded) {
      this.key = await this.keyStore.get();
      this.keyLoaded = true;
    }
    const previous = this.applied;
    this.applied = settings;
    const listening = (s: ApiServerSettings | null) => s && s.enabled && JSON.stringify([s.host, s.port]);
    const needsRestart =
      !this.server || listening(previous) !== listening(settings) || (keyChanged && !isLoopback(settings.host) && this.key === null);
    if (this.server && !needsRestart) {
      this.server.setMaxQueue(settings.maxQueue);
      this.emitStatus();
      return;
    }
    await this.stopNow();
    if (!settings.enabled) {
      this.setState("off", null);
      return;
    }
    this.setState("starting", null);
    try {
      this.server = await startApiServer({
        engine: this.engine,
        host: settings.host,
        port: settings.port,
        apiKey: () => this.key,
        corsOrigins: () => this.settings()?.apiServer.corsOrigins ?? [],
        maxQueue: settings.maxQueue,
        // One slot stays for the chat window, so it keeps answering while API clients fill the others.
        concurrency: () => Math.max(1, (this.engine.loadedModel()?.cacheSlots ?? 1) - 1),
        defaultSpeculation: () => this.settings()?.speculation ?? "off",
        maxDraftTokens: () => this.settings()?.maxDraftTokens,
        onChatTurn: (turn) => {
          if (this.settings()?.apiServer.keepConversations) this.keeper.record(turn);
        },
        onRequest: () => this.scheduleStatus(),
        logger: this.ctx.logger,
      });
      this.ctx.logger.info(`API server listening at ${this.server.baseUrl}`);
      this.setState("running", null);
    } catch (error) {
      const message = error instanceof ApiServerConfigError ? error.message : describeListenError(error, settings);
      this.ctx.logger.warn(`The API server did not start: ${message}`);
      this.setState("error", message);
    }
  }

  private async stopNow(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      await server.close();
      this.ctx.logger.info("API server stopped");
    }
  }

  private settings(): Settings | null {
    try {
      return this.ctx.store().getSettings();
    } catch {
      return null;
    }
  }

  private setState(state: ApiServerStatus["state"], error: string | null): void {
    this.state = state;
    this.error = error;
    this.emitStatus();
  }

  private scheduleStatus(): void {
    if (this.statusTimer || this.closed) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.emitStatus();
    }, STATUS_THROTTLE_MS);
    this.statusTimer.unref();
  }

  private emitStatus(): void {
    if (this.closed) return;
    this.ctx.emit("apiServerStatus", this.status());
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.queue.then(operation);
    this.queue = run.catch((error: unknown) => this.ctx.logger.error(`API server: ${describeError(error)}`));
    return run;
  }
}

function describeListenError(error: unknown, settings: ApiServerSettings): string {
  const code = (error as { code?: unknown }).code;
  if (code === "EADDRINUSE") return `Port ${settings.port} is already in use on ${settings.host}: choose another port.`;
  if (code === "EACCES") return `Not allowed to listen on ${settings.host}:${settings.port} (ports below 1024 need privileges): choose another port.`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") return `${settings.host} is not an address of this machine.`;
  return describeError(error);
}
