/**
 * Saved remote connections: base URL, name and kind in `<dataDir>/remote-connections.json` (0600), each API key in
 * a SecretStore of its own (`remote-key-<id>`: a 0600 file by default; the shell can pass an OS-keychain store like
 * the Hugging Face token's). Callers see RemoteConnection (`hasApiKey`, never the key); the key only leaves this
 * module inside an OpenAiClient (`clientFor`).
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { RemoteConnection, RemoteKind, type RemoteConnectionTest } from "../../../contracts/window/domain.js";
import { FileSecretStore, writePrivateFile, type SecretStore } from "../secrets.js";
import { parseBaseUrl } from "./base-url.js";
import { describeDetection, detectRemote } from "./detect.js";
import { RemoteError } from "./errors.js";
import { OpenAiClient, type OpenAiClientOptions } from "./openai-client.js";

export const CONNECTIONS_FILE = "remote-connections.json";

const Stored = z.object({ version: z.literal(1), connections: z.array(RemoteConnection.omit({ hasApiKey: true })) });
type StoredConnection = z.infer<typeof Stored>["connections"][number];

export interface NewConnection {
  baseUrl: string;
  name?: string;
  kindSetting?: "auto" | RemoteKind;
  apiKey?: string | null;
}

export interface ConnectionChanges {
  baseUrl?: string;
  name?: string;
  kindSetting?: "auto" | RemoteKind;
  /** A new key; null removes it; absent keeps it. */
  apiKey?: string | null;
}

export interface RemoteConnectionsOptions {
  dataDir: string;
  /** The store of one connection's key, by name (default: a 0600 file in dataDir). */
  secrets?: (name: string) => SecretStore;
  /** Client options for tests (fetch, timeouts). */
  client?: Omit<OpenAiClientOptions, "baseUrl" | "apiKey">;
  now?: () => number;
}

export class RemoteConnections {
  private readonly file: string;
  private readonly secrets: (name: string) => SecretStore;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RemoteConnectionsOptions) {
    this.file = join(options.dataDir, CONNECTIONS_FILE);
    this.secrets = options.secrets ?? ((name) => new FileSecretStore(options.dataDir, name));
  }

  async list(): Promise<RemoteConnection[]> {
    const stored = await this.read();
    return Promise.all(stored.map((c) => this.withKeyFlag(c)));
  }

  async get(id: string): Promise<RemoteConnection> {
    return this.withKeyFlag(await this.find(id));
  }

  async add(input: NewConnection): Promise<RemoteConnection> {
    const base = parseBaseUrl(input.baseUrl);
    const connection: StoredConnection = {
      id: randomUUID(),
      name: input.name?.trim() || new URL(base.root).host,
      baseUrl: input.baseUrl.trim(),
      kindSetting: input.kindSetting ?? "auto",
      kind: input.kindSetting && input.kindSetting !== "auto" ? input.kindSetting : null,
      createdAt: (this.options.now ?? Date.now)(),
    };
    await this.mutate((all) => [...all, connection]);
    if (input.apiKey) await this.keyStore(connection.id).set(input.apiKey);
    return this.withKeyFlag(connection);
  }

  async update(id: string, changes: ConnectionChanges): Promise<RemoteConnection> {
    if (changes.baseUrl !== undefined) parseBaseUrl(changes.baseUrl);
    let updated: StoredConnection | null = null;
    await this.mutate((all) =>
      all.map((c) => {
        if (c.id !== id) return c;
        const kindSetting = changes.kindSetting ?? c.kindSetting;
        updated = {
          ...c,
          name: changes.name?.trim() || c.name,
          baseUrl: changes.baseUrl?.trim() ?? c.baseUrl,
          kindSetting,
          kind: kindSetting !== "auto" ? kindSetting : changes.baseUrl !== undefined ? null : c.kind,
        };
        return updated;
      }),
    );
    if (!updated) throw new RemoteError("not-found", `No remote connection ${id}`);
    if (changes.apiKey !== undefined) await this.keyStore(id).set(changes.apiKey || null);
    return this.withKeyFlag(updated);
  }

  async remove(id: string): Promise<void> {
    await this.mutate((all) => all.filter((c) => c.id !== id));
    await this.keyStore(id).set(null);
  }

  /** A client for the connection, with its key: the only way the key leaves this module. */
  async clientFor(id: string): Promise<{ client: OpenAiClient; connection: RemoteConnection }> {
    const stored = await this.find(id);
    const apiKey = await this.keyStore(id).get();
    return { client: new OpenAiClient({ ...this.options.client, baseUrl: stored.baseUrl, apiKey }), connection: await this.withKeyFlag(stored) };
  }

  /** Tests a saved connection ("Connected: 3 models") and records the kind it found. */
  async test(id: string, signal?: AbortSignal): Promise<RemoteConnectionTest> {
    const { client, connection } = await this.clientFor(id);
    const outcome = await testClient(client, connection.kindSetting, signal);
    if (outcome.ok && outcome.kind !== connection.kind) {
      await this.mutate((all) => all.map((c) => (c.id === id ? { ...c, kind: outcome.kind } : c)));
    }
    return outcome;
  }

  /** Tests a connection before it is saved (the Add form's Test button). */
  async testUnsaved(input: NewConnection, signal?: AbortSignal): Promise<RemoteConnectionTest> {
    let client: OpenAiClient;
    try {
      client = new OpenAiClient({ ...this.options.client, baseUrl: input.baseUrl, apiKey: input.apiKey ?? null });
    } catch (error) {
      return failure(error);
    }
    return testClient(client, input.kindSetting ?? "auto", signal);
  }

  private keyStore(id: string): SecretStore {
    return this.secrets(`remote-key-${id}`);
  }

  private async withKeyFlag(c: StoredConnection): Promise<RemoteConnection> {
    return { ...c, hasApiKey: (await this.keyStore(c.id).get()) !== null };
  }

  private async find(id: string): Promise<StoredConnection> {
    const found = (await this.read()).find((c) => c.id === id);
    if (!found) throw new RemoteError("not-found", `No remote connection ${id}`);
    return found;
  }

  private async read(): Promise<StoredConnection[]> {
    let raw: string;
    try {
      raw = await readFile(this.file, "utf8");
    } catch {
      return [];
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const parsed = Stored.safeParse(json);
    // Never read a damaged file as empty: the next change would write over the connections it still holds.
    if (!parsed.success) throw new Error(`${this.file} is damaged (not a list of connections Tandem wrote); move it away to start over`);
    return parsed.data.connections;
  }

  /** Read-modify-write, one at a time. */
  private mutate(change: (all: StoredConnection[]) => StoredConnection[]): Promise<void> {
    const next = this.writes.then(async () => {
      const connections = change(await this.read());
      await writePrivateFile(this.file, JSON.stringify({ version: 1, connections }, null, 2) + "\n");
    });
    this.writes = next.catch(() => {});
    return next;
  }
}

async function testClient(client: OpenAiClient, kindSetting: "auto" | RemoteKind, signal?: AbortSignal): Promise<RemoteConnectionTest> {
  try {
    const detection = await detectRemote(client, { forced: kindSetting === "auto" ? undefined : kindSetting, signal });
    return { ok: true, kind: detection.kind, version: detection.version, models: detection.models, message: describeDetection(detection) };
  } catch (error) {
    return failure(error);
  }
}

function failure(error: unknown): RemoteConnectionTest {
  if (error instanceof RemoteError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: "unknown", message: error instanceof Error ? error.message : String(error) };
}
