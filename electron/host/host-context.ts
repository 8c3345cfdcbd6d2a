/** What the host's parts share: the store, the supervisor, the status tracker and the event outlet. */
import type { WindowEvent, WindowEventData } from "../../contracts/window/index.js";
import type { EngineStatusTracker } from "./supervision/engine-status.js";
import type { Logger } from "./logger.js";
import type { AppDatabase } from "./store/app-database.js";
import type { EngineSupervisor } from "./supervision/supervisor.js";

export interface HostContext {
  /** The open store; throws a NOT_STARTED error before start() or after dispose(). */
  store(): AppDatabase;
  readonly supervisor: EngineSupervisor;
  readonly status: EngineStatusTracker;
  emit<E extends WindowEvent>(event: E, data: WindowEventData<E>): void;
  readonly logger: Logger;
}
