/**
 * Remote engines as the app uses them: the saved connections (connections.ts) with the last test of each, pushed
 * to the window as `connectionsChanged`, and the client a reply needs. Tests run when a connection is added or
 * changed, when the window asks, and once for every connection at start, so the model picker can list each
 * server's models without the window waiting on the network.
 */
import type { ChatEngine, RemoteConnectionTest, RemoteConnectionView, RemoteReply } from "../../../contracts/window/index.js";
import { apiError } from "../errors.js";
import type { HostContext } from "../host-context.js";
import { describeError } from "../logger.js";
import type { ConnectionChanges, NewConnection, RemoteConnections } from "./connections.js";
import { RemoteError } from "./errors.js";
import type { OpenAiClient } from "./openai-client.js";

export interface ReplyConnection {
  client: OpenAiClient;
  connection: RemoteConnectionView;
  model: string;
}

/** What a message records of the remote reply `target` writes: the connection as it is now, and the reply's figures. */
export function remoteReplyOf(target: ReplyConnection, stats: RemoteReply["stats"]): RemoteReply {
  const { id, name, kind, baseUrl } = target.connection;
  return { connectionId: id, connectionName: name, kind, baseUrl, stats };
}

export class RemoteEngines {
  /** The last test of each connection this run (a restart tests them again). */
  private readonly tests = new Map<string, RemoteConnectionTest>();

  constructor(
    private readonly ctx: HostContext,
    private readonly connections: RemoteConnections,
  ) {}

  async list(): Promise<RemoteConnectionView[]> {
    const all = await this.connections.list();
    return all.map((connection) => ({ ...connection, test: this.tests.get(connection.id) ?? null }));
  }

  async add(input: NewConnection): Promise<RemoteConnectionView> {
    const connection = await guard(() => this.connections.add(input));
    return this.test(connection.id);
  }

  async update(id: string, changes: ConnectionChanges): Promise<RemoteConnectionView> {
    await guard(() => this.connections.update(id, changes));
    this.tests.delete(id);
    return this.test(id);
  }

  /** Tests the connection, remembers the outcome and pushes the new list; the connection as it is now. */
  async test(id: string): Promise<RemoteConnectionView> {
    const outcome = await guard(() => this.connections.test(id));
    this.tests.set(id, outcome);
    const view = { ...(await guard(() => this.connections.get(id))), test: outcome };
    await this.pushList();
    return view;
  }

  async remove(id: string): Promise<boolean> {
    const existed = (await this.connections.list()).some((c) => c.id === id);
    if (!existed) return false;
    await this.connections.remove(id);
    this.tests.delete(id);
    // The window's replies can't go to a server that is gone: back to this machine's model.
    const settings = this.ctx.store().getSettings();
    if (settings.chatEngine.kind === "remote" && settings.chatEngine.connectionId === id) {
      this.ctx.emit("settingsChanged", this.ctx.store().updateSettings({ chatEngine: { kind: "local" } }));
    }
    await this.pushList();
    return true;
  }

  /** Tests every saved connection in the background (at start): failures are recorded, never thrown. */
  testAllInBackground(): void {
    void this.connections
      .list()
      .then((all) => Promise.all(all.map((c) => this.test(c.id).catch(() => undefined))))
      .catch((error: unknown) => this.ctx.logger.warn(`Could not test the remote connections: ${describeError(error)}`));
  }

  /** The client for a reply to `engine`; NOT_FOUND with a message for the window when its connection is gone. */
  async forReply(engine: Extract<ChatEngine, { kind: "remote" }>): Promise<ReplyConnection> {
    try {
      const { client, connection } = await this.connections.clientFor(engine.connectionId);
      return { client, connection: { ...connection, test: this.tests.get(connection.id) ?? null }, model: engine.model };
    } catch (error) {
      if (error instanceof RemoteError && error.code === "not-found") {
        throw apiError("NOT_FOUND", "The remote connection chosen for chat no longer exists. Choose a model again.");
      }
      throw error;
    }
  }

  private async pushList(): Promise<void> {
    try {
      this.ctx.emit("connectionsChanged", { connections: await this.list() });
    } catch (error) {
      this.ctx.logger.warn(`Could not list the remote connections: ${describeError(error)}`);
    }
  }
}

/** The connections' own errors (a bad URL, an unknown id) as the window's: BAD_REQUEST and NOT_FOUND. */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RemoteError && error.code === "not-found") throw apiError("NOT_FOUND", "That remote connection no longer exists.");
    if (error instanceof RemoteError && error.code === "bad-request") throw apiError("BAD_REQUEST", error.message);
    throw error;
  }
}
