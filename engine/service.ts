import { Engine } from "./engine.js";
import { BenchRunner } from "./bench/bench-runner.js";
import { toEngineError } from "./errors.js";
import {
  PROTOCOL_VERSION,
  RequestEnvelope,
  parseRequestParams,
  type EngineEvent,
  type EngineEventData,
  type EngineMethod,
  type EngineParams,
  type EngineResult,
} from "../contracts/engine/protocol.js";
import type { EngineTransport } from "./transport.js";

export const ENGINE_VERSION = "0.1.0";

type Handlers = { [M in EngineMethod]: (params: EngineParams<M>) => Promise<EngineResult<M>> };

/**
 * Adapts the protocol to an `Engine`: validates every request, dispatches it, and turns every outcome (including
 * exceptions) into a response. Nothing a host sends can take the process down.
 */
export class EngineService {
  private readonly engine: Engine;
  private readonly bench: BenchRunner;
  private readonly handlers: Handlers;

  constructor(
    private readonly transport: EngineTransport,
    private readonly exit: (code: number) => void,
    engineOptions: ConstructorParameters<typeof Engine>[1] = {},
  ) {
    this.engine = new Engine((level, message) => this.emit("log", { level, message }), engineOptions);
    this.bench = new BenchRunner(this.engine, (data) => this.emit("benchmarkProgress", data));
    this.handlers = {
      hello: async () => ({ protocolVersion: PROTOCOL_VERSION, engineVersion: ENGINE_VERSION, pid: process.pid }),
      init: (params) => this.engine.init(params),
      getSystemInfo: () => this.engine.systemInfo(),
      loadModel: (params) =>
        this.engine.loadModel(params, (progress) => this.emit("modelLoadProgress", { modelPath: params.modelPath, progress })),
      unloadModel: async () => ({ unloaded: await this.engine.unloadModel() }),
      loadDraftModel: (params) => this.engine.loadDraftModel(params),
      unloadDraftModel: async () => ({ unloaded: await this.engine.unloadDraftModel() }),
      generate: (params) =>
        this.engine.generate(params, (tokens, step) => this.emit("tokens", { messageId: params.messageId, tokens, step }), {
          onCacheOutcome: (report) => this.emit("cacheOutcome", { messageId: params.messageId, ...report }),
        }),
      abort: async (params) => ({ aborted: this.engine.abort(params.messageId) }),
      runBenchmark: (params) => this.bench.run(params),
      cancelBenchmark: async (params) => ({ cancelled: this.bench.cancel(params.benchmarkId) }),
      getCacheInfo: async () => this.engine.cacheInfo(),
      clearCache: () => this.engine.clearCache(),
      estimateFit: (params) => this.engine.estimateFit(params),
      shutdown: async () => {
        await this.engine.dispose();
        // Reply first, then exit once the reply is flushed.
        setTimeout(() => this.exit(0), 10);
        return {};
      },
    };
    transport.onMessage((message) => void this.handle(message));
    transport.onDisconnect(() => {
      void this.engine.dispose().finally(() => this.exit(0));
    });
  }

  private emit<E extends EngineEvent>(event: E, data: EngineEventData<E>): void {
    this.transport.send({ kind: "event", event, data });
  }

  private async handle(message: unknown): Promise<void> {
    const envelope = RequestEnvelope.safeParse(message);
    if (!envelope.success) {
      const id = (message as { id?: unknown } | null)?.id;
      const text = "Malformed message: expected {kind: 'request', id, method, params}";
      if (typeof id === "number" && Number.isInteger(id) && id >= 0) {
        this.transport.send({ kind: "response", id, ok: false, error: { code: "BAD_REQUEST", message: text } });
      } else {
        this.emit("log", { level: "warn", message: text });
      }
      return;
    }
    const { id, method, params } = envelope.data;
    const parsed = parseRequestParams(method, params);
    if (!parsed.ok) {
      this.transport.send({ kind: "response", id, ok: false, error: parsed.error });
      return;
    }
    try {
      const handler = this.handlers[parsed.method] as (params: unknown) => Promise<unknown>;
      const result = await handler(parsed.params);
      this.transport.send({ kind: "response", id, ok: true, result });
    } catch (error) {
      this.transport.send({ kind: "response", id, ok: false, error: toEngineError(error) });
    }
  }
}
