/**
 * The A/B benchmark: runs the engine's bench (plain decoding against each chosen speculation mode, ABBA per prompt,
 * greedy) on a built-in prompt set with the loaded model, forwards its progress to the window and saves the
 * result. One benchmark at a time; it and a reply never run together (both are BUSY while the other runs).
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePromptFile } from "../../engine/bench/prompt-file.js";
import type { EngineEventData } from "../../contracts/engine/protocol.js";
import type { BenchmarkPromptSet, BenchmarkResult, WindowParams } from "../../contracts/window/index.js";
import { EngineRequestError, apiError } from "./errors.js";
import type { HostContext } from "./host-context.js";
import { describeError } from "./logger.js";

export const BENCHMARK_BUSY_ERROR = "An A/B benchmark is running. Wait for it to finish or cancel it, then try again.";

const PROMPT_FILES: Record<BenchmarkPromptSet, string> = {
  "free-chat": "general-chat.txt",
  "input-grounded": "input-grounded.txt",
};

/** Default tokens per reply: long enough for speculation to settle, short enough to finish in a minute or two. */
export const DEFAULT_BENCHMARK_MAX_TOKENS = 64;

/**
 * engine/bench/prompts, found from the built file (dist/web.js, dist/electron/main.js → the repository root; in a
 * packaged app the folder is packed beside dist/ inside the archive).
 */
export function findPromptsDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, "engine", "bench", "prompts");
    if (existsSync(join(candidate, PROMPT_FILES["free-chat"]))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return join(from, "engine", "bench", "prompts");
    dir = parent;
  }
}

export async function readPromptSet(dir: string, set: BenchmarkPromptSet): Promise<string[]> {
  const text = await readFile(join(dir, PROMPT_FILES[set]), "utf8").catch((error: unknown) => {
    throw apiError("INTERNAL", `The built-in prompt set "${set}" could not be read: ${describeError(error)}`);
  });
  return parsePromptFile(text);
}

export class Benchmarks {
  private active: { benchmarkId: string; cancelled: boolean } | null = null;

  constructor(
    private readonly ctx: HostContext,
    private readonly promptsDir: string = findPromptsDir(),
  ) {}

  get running(): boolean {
    return this.active !== null;
  }

  /** Throws BUSY while a benchmark runs (replies, model changes and another benchmark wait for it). */
  assertIdle(): void {
    if (this.active) throw apiError("BUSY", BENCHMARK_BUSY_ERROR);
  }

  /** Runs a benchmark to the end and saves it; the caller has checked that no reply is being generated. */
  async run(params: WindowParams<"runBenchmark">): Promise<BenchmarkResult> {
    this.assertIdle();
    const { status, supervisor } = this.ctx;
    if (status.current.loadingModelPath) throw apiError("BUSY", "A model is loading. Wait for it to finish, then run the benchmark.");
    const model = status.current.model;
    if (!model || supervisor.state !== "ready") throw apiError("NO_MODEL", "Load a model before running a benchmark.");
    const draft = status.current.draftModel;
    if (params.modes.includes("draft") && !draft) {
      throw apiError("NO_DRAFT_MODEL", "The draft mode needs a draft model: choose one in Settings, or leave draft out of the benchmark.");
    }
    const active = { benchmarkId: randomUUID(), cancelled: false };
    this.active = active;
    try {
      const all = await readPromptSet(this.promptsDir, params.promptSet);
      const prompts = all.slice(0, params.limit ?? all.length);
      const settings = this.ctx.store().getSettings();
      const modes = [...new Set(params.modes)];
      const { reports } = await supervisor.request("runBenchmark", {
        benchmarkId: active.benchmarkId,
        prompts,
        modes,
        maxTokens: params.maxTokens ?? DEFAULT_BENCHMARK_MAX_TOKENS,
        maxDraftTokens: settings.maxDraftTokens,
      });
      const result: BenchmarkResult = {
        id: active.benchmarkId,
        createdAt: Date.now(),
        model: basename(model.modelPath),
        draft: reports.find((r) => r.draft)?.draft ?? (draft ? basename(draft.modelPath) : null),
        promptSet: params.promptSet,
        reports,
      };
      this.ctx.store().addBenchmark(result);
      return result;
    } catch (error) {
      if (active.cancelled || (error instanceof EngineRequestError && error.code === "ABORTED")) {
        throw apiError("ABORTED", "The benchmark was cancelled.");
      }
      throw error;
    } finally {
      if (this.active === active) this.active = null;
    }
  }

  /** Asks the engine to stop the running benchmark (its run() then fails with ABORTED); false when none runs. */
  cancel(): boolean {
    const active = this.active;
    if (!active) return false;
    active.cancelled = true;
    this.ctx.supervisor
      .request("cancelBenchmark", { benchmarkId: active.benchmarkId })
      .catch((error: unknown) => this.ctx.logger.warn(`Cancelling the benchmark failed: ${describeError(error)}`));
    return true;
  }

  list(): BenchmarkResult[] {
    return this.ctx.store().listBenchmarks();
  }

  /** Engine `benchmarkProgress` events of the running benchmark go to the window. */
  onProgress(data: EngineEventData<"benchmarkProgress">): void {
    if (this.active?.benchmarkId !== data.benchmarkId) return;
    this.ctx.emit("benchmarkProgress", { done: data.done, total: data.total, mode: data.mode });
  }
}
