import os from "node:os";
import path from "node:path";
import { GgufInsights, readGgufFileInfo, type GgufFileInfo, type Llama } from "node-llama-cpp";
import { EngineFailure } from "./errors.js";
import { assertGgufFile } from "./gguf-check.js";
import { checkRemoteGguf, GgufHeaderError } from "./gguf/header-guard.js";
import { assessFit, type FitConfig, type Memory } from "./fit-verdict.js";
import type { ActiveDraft } from "./draft-loader.js";
import { autoContextSize, chooseSlots, type ActiveModel } from "./model-loader.js";
import type { Backend, CacheSlotsSetting, EngineParams, FitEstimate, FitPart, GpuLayersSetting } from "../contracts/engine/protocol.js";

/**
 * The memory-fit estimate's I/O: GGUF headers (local, or remote with ranged reads), node-llama-cpp's insights with
 * the engine's own `Llama` (so the backend and VRAM are the real ones), and "auto" values resolved the way a load
 * resolves them. The arithmetic lives in fit-verdict.ts.
 */

export interface FitEnvironment {
  llama: Llama;
  backend: Backend;
  /**
   * Memory the models loaded now hold that a load would release first (a load replaces them), added to what is
   * free. Zero when nothing is loaded.
   */
  releasable?: Memory;
}

/** A model header read for an estimate: its insights and a name for people. */
interface ModelHeader {
  name: string;
  insights: GgufInsights;
}

/** Large vocabulary keys the estimate never reads (tokens stay: the heuristic fallback counts them). */
const IGNORED_KEYS = ["tokenizer.ggml.merges", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"];
/** A remote header gets a few quick retries (node-llama-cpp's default backs off for minutes). */
const REMOTE_RETRIES = { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 1_000 };
const REMOTE_TIMEOUT_MS = 30_000;

const isRemote = (source: string): boolean => /^https?:\/\//i.test(source);

export async function estimateFit(env: FitEnvironment, params: EngineParams<"estimateFit">): Promise<FitEstimate> {
  const headers = params.headers ?? {}; // optional: no headers at all for a local file
  const target = await readModelHeader(env.llama, params.modelPath, headers);
  const draft = params.draftPath ? await readModelHeader(env.llama, params.draftPath, headers) : null;

  const contextSize =
    params.contextSize === "auto" ? autoContextSize(target.insights.trainContextSize ?? 4096) : params.contextSize;
  const slotsSetting: CacheSlotsSetting = params.cacheSlots;

  // "auto" GPU layers are resolved the way a load resolves them, against the VRAM that load would find free: what is
  // free now plus what the loaded models give back, and for the draft (loaded after the target) minus the target.
  const vram = await env.llama.getVramState();
  const releasable = env.releasable ?? { ramBytes: 0, vramBytes: 0 };
  const freeVram = vram.free + releasable.vramBytes;
  const gpuLayers = await resolveGpuLayers(target.insights, env.backend, params.gpuLayers, freeVram, vram.total);
  let draftGpuLayers = 0;
  if (draft) {
    const targetSlots = (await chooseSlots(env.llama, target.insights, gpuLayers, contextSize, slotsSetting)).slots;
    const targetVram =
      (await target.insights.estimateModelResourceRequirementsV2({ gpuLayers })).gpuVram +
      (await target.insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: gpuLayers, sequences: targetSlots })).gpuVram;
    // The engine loads a draft with "auto" GPU layers (none on the CPU backend).
    draftGpuLayers = await resolveGpuLayers(draft.insights, env.backend, "auto", Math.max(0, freeVram - targetVram), vram.total);
  }

  const partsAt = async (config: FitConfig) => {
    const slots = (await chooseSlots(env.llama, target.insights, config.gpuLayers, config.contextSize, slotsSetting)).slots;
    const parts: FitPart[] = [
      part("target-weights", await target.insights.estimateModelResourceRequirementsV2({ gpuLayers: config.gpuLayers })),
      part(
        "target-context",
        await target.insights.estimateContextResourceRequirementsV2({
          contextSize: config.contextSize,
          modelGpuLayers: config.gpuLayers,
          sequences: slots,
        }),
      ),
    ];
    if (draft) {
      // The draft's context has the target's context size and one sequence per target slot (draft-loader.ts).
      parts.push(part("draft-weights", await draft.insights.estimateModelResourceRequirementsV2({ gpuLayers: draftGpuLayers })));
      parts.push(
        part(
          "draft-context",
          await draft.insights.estimateContextResourceRequirementsV2({
            contextSize: config.contextSize,
            modelGpuLayers: draftGpuLayers,
            sequences: slots,
          }),
        ),
      );
    }
    return { parts, cacheSlots: slots };
  };

  const config = { contextSize, gpuLayers };
  const { cacheSlots } = await partsAt(config);
  return assessFit({
    modelName: target.name,
    totalLayers: target.insights.totalLayers,
    config,
    cacheSlots,
    available: { ramBytes: os.freemem() + releasable.ramBytes, vramBytes: freeVram },
    partsAt,
  });
}

function part(name: FitPart["part"], requirements: { cpuRam: number; gpuVram: number }): FitPart {
  return { part: name, ramBytes: Math.round(requirements.cpuRam), vramBytes: Math.round(requirements.gpuVram) };
}

/** GPU layers as a load resolves them: none on the CPU backend, "auto" by node-llama-cpp's own resolver. */
async function resolveGpuLayers(
  insights: GgufInsights,
  backend: Backend,
  setting: GpuLayersSetting,
  freeVram: number,
  totalVram: number,
): Promise<number> {
  if (backend === "cpu") return 0;
  if (setting === "max") return insights.totalLayers;
  if (typeof setting === "number") return Math.min(setting, insights.totalLayers);
  const getVramState = async () => ({ total: totalVram, free: freeVram });
  return (await insights.configurationResolver.resolveModelGpuLayersV2("auto", { getVramState })).gpuLayers;
}

/** Memory the loaded target and draft hold in their own allocations, estimated from their insights. */
export async function loadedFootprint(
  loaded: Array<{ insights: GgufInsights; gpuLayers: number; contextSize: number; sequences: number }>,
  mmapWeights: boolean,
): Promise<Memory> {
  let ramBytes = 0;
  let vramBytes = 0;
  for (const model of loaded) {
    const weights = await model.insights.estimateModelResourceRequirementsV2({ gpuLayers: model.gpuLayers });
    const context = await model.insights.estimateContextResourceRequirementsV2({
      contextSize: model.contextSize,
      modelGpuLayers: model.gpuLayers,
      sequences: model.sequences,
    });
    // Memory-mapped weights are page cache, which the OS already counts as available.
    if (!mmapWeights) ramBytes += weights.cpuRam;
    vramBytes += weights.gpuVram + context.gpuVram;
    ramBytes += context.cpuRam;
  }
  return { ramBytes, vramBytes };
}

async function readModelHeader(llama: Llama, source: string, headers: Record<string, string>): Promise<ModelHeader> {
  const info = isRemote(source) ? await readRemoteHeader(source, headers) : await readLocalHeader(source);
  assertUniqueTensorNames(info, source);
  return { name: nameOf(source), insights: await GgufInsights.from(info, llama) };
}

/**
 * A split set whose parts repeat a tensor (parts of two different splits, or whole models named as parts) makes
 * llama.cpp abort the whole engine process when node-llama-cpp's insights hand it the parts' headers
 * (gguf.cpp: "duplicate tensor name"): refused here with NOT_GGUF instead.
 */
export function assertUniqueTensorNames(info: Pick<GgufFileInfo, "fullTensorInfo" | "tensorInfo">, source: string): void {
  const seen = new Set<string>();
  for (const tensor of info.fullTensorInfo ?? info.tensorInfo ?? []) {
    if (seen.has(tensor.name)) {
      throw new EngineFailure("NOT_GGUF", `${nameOf(source)} cannot be read as GGUF: the tensor ${tensor.name} appears twice (a split set whose parts don't belong together?)`);
    }
    seen.add(tensor.name);
  }
}

async function readLocalHeader(source: string): Promise<GgufFileInfo> {
  const file = path.resolve(source);
  // MODEL_NOT_FOUND / NOT_GGUF with the file named; also walks the header (and the split parts' headers, which the
  // reader below splices) so that a crafted count never reaches node-llama-cpp.
  await assertGgufFile(file);
  try {
    return await readGgufFileInfo(file, { sourceType: "filesystem", logWarnings: false, ignoreKeys: IGNORED_KEYS });
  } catch (error) {
    throw new EngineFailure("NOT_GGUF", `${file} cannot be read as GGUF: ${firstLine(error)}`);
  }
}

async function readRemoteHeader(url: string, headers: Record<string, string>): Promise<GgufFileInfo> {
  // One deadline for the guard and the read: a name declaring many split parts is guarded part after part.
  const signal = AbortSignal.timeout(REMOTE_TIMEOUT_MS);
  try {
    // The header walked over ranged requests first (header-guard.ts), this part's and the other parts' (the reader
    // below splices them): node-llama-cpp trusts the header's counts, and a crafted one aborts the engine.
    await checkRemoteGguf(url, url, { headers, signal, retry: REMOTE_RETRIES });
  } catch (error) {
    if (error instanceof GgufHeaderError) throw new EngineFailure("NOT_GGUF", error.message);
    throw new EngineFailure("REMOTE_READ_FAILED", `Could not read the GGUF header of ${url}: ${describeFetchFailure(error)}`);
  }
  try {
    return await readGgufFileInfo(url, {
      sourceType: "network",
      fetchHeaders: headers,
      fetchRetryOptions: REMOTE_RETRIES,
      signal,
      logWarnings: false,
      ignoreKeys: IGNORED_KEYS,
      // Only the headers the host sent: the engine never looks for tokens of its own ($HF_TOKEN, ~/.cache).
      tokens: { huggingFace: "" },
    });
  } catch (error) {
    const reason = firstLine(error);
    if (error instanceof Error && error.constructor.name === "InvalidGgufMagicError") {
      throw new EngineFailure("NOT_GGUF", `${url} is not a GGUF model (it does not start with the "GGUF" signature)`);
    }
    if (error instanceof Error && error.constructor.name === "UnsupportedError") {
      throw new EngineFailure("NOT_GGUF", `${url} is not a supported GGUF model: ${reason}`);
    }
    throw new EngineFailure("REMOTE_READ_FAILED", `Could not read the GGUF header of ${url}: ${describeFetchFailure(error)}`);
  }
}

/** "HTTP 404 Not Found", "connection refused (ECONNREFUSED)", "timed out after 30 s", or the error's first line. */
function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${REMOTE_TIMEOUT_MS / 1000} s`;
  }
  const message = firstLine(error);
  const status = /Failed to fetch byte range: (\d{3})\s*(.*)$/.exec(message);
  if (status) return `HTTP ${status[1]}${status[2] ? ` ${status[2]}` : ""}`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `${message} (${cause.code})`;
  return message;
}

function nameOf(source: string): string {
  if (!isRemote(source)) return path.basename(source);
  try {
    return decodeURIComponent(path.posix.basename(new URL(source).pathname)) || source;
  } catch {
    return source;
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

/**
 * An OUT_OF_MEMORY load failure with the estimate's figures and suggestion appended ("Needs about 9.8 GB of RAM but
 * 6.1 GB is free. A 4096-token context would fit."), when the estimate can say more. Anything else is returned as is.
 */
export async function withFitAdvice(
  error: unknown,
  env: FitEnvironment,
  params: EngineParams<"estimateFit">,
): Promise<unknown> {
  if (!(error instanceof EngineFailure) || error.code !== "OUT_OF_MEMORY") return error;
  try {
    const estimate = await estimateFit(env, params);
    if (estimate.verdict === "fits") return error;
    return new EngineFailure("OUT_OF_MEMORY", `${error.message} ${estimate.message}`);
  } catch {
    return error; // the advice is a bonus: the failure itself is what must reach the user
  }
}

/** The estimate's environment in an engine: its backend, and what its loaded target and draft would release. */
export async function engineFitEnvironment(
  backend: { llama: Llama; backend: Backend },
  loaded: { target?: ActiveModel; draft?: ActiveDraft },
): Promise<FitEnvironment> {
  const models = [];
  if (loaded.target) {
    const { model, context, sequences } = loaded.target;
    models.push({ insights: model.fileInsights, gpuLayers: model.gpuLayers, contextSize: context.contextSize, sequences: sequences.length });
  }
  if (loaded.draft) {
    const { model, context, lanes } = loaded.draft;
    models.push({ insights: model.fileInsights, gpuLayers: model.gpuLayers, contextSize: context.contextSize, sequences: lanes.size });
  }
  const releasable = models.length > 0 ? await loadedFootprint(models, backend.llama.supportsMmap) : undefined;
  return { llama: backend.llama, backend: backend.backend, releasable };
}
