import type { Engine } from "../engine.js";
import { EngineFailure } from "../errors.js";
import type { EngineEventData, EngineParams, EngineResult } from "../../contracts/engine/protocol.js";
import { benchOnEngine } from "./bench.js";

/**
 * The engine side of `runBench` / `cancelBench`: one bench at a time on the engine's loaded model, with its own
 * generation ids and session key, cancellable by id.
 */
export class BenchRunner {
  private running: { benchId: string; controller: AbortController } | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly emitProgress: (data: EngineEventData<"benchProgress">) => void,
  ) {}

  async run(params: EngineParams<"runBench">): Promise<EngineResult<"runBench">> {
    if (this.running) throw new EngineFailure("BUSY", "A benchmark is already running");
    const controller = new AbortController();
    const running = { benchId: params.benchId, controller };
    this.running = running;
    try {
      const reports = await benchOnEngine(this.engine, {
        prompts: params.prompts,
        modes: params.modes,
        maxTokens: params.maxTokens,
        maxDraftTokens: params.maxDraftTokens ?? 8,
        temperature: 0,
        // The user's learned n-gram table is theirs: a bench never teaches it.
        learn: false,
        signal: controller.signal,
        id: `bench-${params.benchId}`,
        onProgress: ({ done, total, mode }) =>
          this.emitProgress({ benchId: params.benchId, done, total, mode: mode === "off" ? "auto" : mode }),
      });
      return { benchId: params.benchId, reports };
    } finally {
      if (this.running === running) this.running = null;
    }
  }

  cancel(benchId: string): boolean {
    if (this.running?.benchId !== benchId) return false;
    this.running.controller.abort();
    return true;
  }
}
