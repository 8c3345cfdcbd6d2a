import type { Engine } from "../engine.js";
import { EngineFailure } from "../errors.js";
import type { EngineEventData, EngineParams, EngineResult } from "../../contracts/engine/protocol.js";
import { benchOnEngine } from "./bench.js";

/**
 * The engine side of `runBenchmark` / `cancelBenchmark`: one bench at a time on the engine's loaded model, with its own
 * message ids and conversation id, cancellable by id.
 */
export class BenchRunner {
  private running: { benchmarkId: string; controller: AbortController } | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly emitProgress: (data: EngineEventData<"benchmarkProgress">) => void,
  ) {}

  async run(params: EngineParams<"runBenchmark">): Promise<EngineResult<"runBenchmark">> {
    if (this.running) throw new EngineFailure("BUSY", "A benchmark is already running");
    const controller = new AbortController();
    const running = { benchmarkId: params.benchmarkId, controller };
    this.running = running;
    try {
      const reports = await benchOnEngine(this.engine, {
        prompts: params.prompts,
        modes: params.modes,
        maxTokens: params.maxTokens,
        maxDraftTokens: params.maxDraftTokens,
        temperature: 0,
        // The user's learned n-gram table is theirs: a bench never teaches it.
        learn: false,
        signal: controller.signal,
        id: `bench-${params.benchmarkId}`,
        onProgress: ({ done, total, mode }) =>
          this.emitProgress({ benchmarkId: params.benchmarkId, done, total, mode: mode === "off" ? "auto" : mode }),
      });
      return { benchmarkId: params.benchmarkId, reports };
    } finally {
      if (this.running === running) this.running = null;
    }
  }

  cancel(benchmarkId: string): boolean {
    if (this.running?.benchmarkId !== benchmarkId) return false;
    this.running.controller.abort();
    return true;
  }
}
