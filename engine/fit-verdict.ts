import type { FitEstimate, FitPart, FitVerdict } from "../contracts/engine/protocol.js";

/**
 * The arithmetic of a memory-fit estimate: verdict, suggestion and message from memory figures. No I/O: the figures
 * come from a `partsAt` function (node-llama-cpp's GGUF insights in the engine, fake numbers in tests), so the GPU
 * paths are checked without a GPU.
 */

/** Above this share of the free memory a fit is "tight": other apps may be pushed to swap. */
export const TIGHT_SHARE = 0.8;
/** Suggested context sizes step down by halving (rounded to this) and stop here. */
export const MIN_SUGGESTED_CONTEXT = 512;
const CONTEXT_ROUNDING = 256;

export interface Memory {
  ramBytes: number;
  vramBytes: number;
}

export interface FitConfig {
  contextSize: number;
  gpuLayers: number;
}

export interface FitQuestion {
  modelName: string;
  totalLayers: number;
  /** The configuration asked about (auto values already resolved). */
  config: FitConfig;
  /** The cache slots at that configuration (resolved from "auto" the way the engine does). */
  cacheSlots: number;
  available: Memory;
  /** The parts at a configuration, and the slot count it implies ("auto" slots depend on the context size). */
  partsAt(config: FitConfig): Promise<{ parts: FitPart[]; cacheSlots: number }>;
}

export function totals(parts: readonly FitPart[]): Memory {
  let ramBytes = 0;
  let vramBytes = 0;
  for (const part of parts) {
    ramBytes += part.ramBytes;
    vramBytes += part.vramBytes;
  }
  return { ramBytes, vramBytes };
}

/** wont-fit when more than is free is needed (RAM or VRAM); tight above TIGHT_SHARE of the free memory. */
export function verdictOf(needed: Memory, available: Memory): FitVerdict {
  if (needed.ramBytes > available.ramBytes || needed.vramBytes > available.vramBytes) return "wont-fit";
  if (needed.ramBytes > available.ramBytes * TIGHT_SHARE || needed.vramBytes > available.vramBytes * TIGHT_SHARE) return "tight";
  return "fits";
}

/** The context sizes to try below `contextSize`, largest first: halving, rounded down to 256, not below 512. */
export function smallerContextSizes(contextSize: number): number[] {
  const sizes: number[] = [];
  let size = contextSize;
  for (;;) {
    size = Math.floor(size / 2 / CONTEXT_ROUNDING) * CONTEXT_ROUNDING;
    if (size < MIN_SUGGESTED_CONTEXT) break;
    if (size < contextSize && !sizes.includes(size)) sizes.push(size);
  }
  return sizes;
}

/** Bytes for people: "9.8 GB", "512 MB", "40 KB" (decimal units, like disk and RAM sizes in OS tools). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 100e9 ? 0 : 1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(0, Math.round(bytes / 1e3))} KB`;
}

/**
 * The estimate: the verdict at the asked configuration and, when it is not "fits", the largest smaller context
 * and/or the most GPU layers that would do better (a "fits" verdict if there is one, else at least not "wont-fit").
 */
export async function assessFit(question: FitQuestion): Promise<FitEstimate> {
  const { config, available } = question;
  const { parts } = await question.partsAt(config);
  const needed = totals(parts);
  const verdict = verdictOf(needed, available);
  const suggestion = verdict === "fits" ? null : await suggest(question, verdict);
  return {
    verdict,
    message: fitMessage({ verdict, needed, available, suggestion, config }),
    modelName: question.modelName,
    gpuLayers: config.gpuLayers,
    totalLayers: question.totalLayers,
    contextSize: config.contextSize,
    cacheSlots: question.cacheSlots,
    parts,
    ramBytes: needed.ramBytes,
    vramBytes: needed.vramBytes,
    available,
    suggestion,
  };
}

type Suggestion = NonNullable<FitEstimate["suggestion"]>;

async function suggest(question: FitQuestion, current: FitVerdict): Promise<Suggestion | null> {
  // Better than now: "fits" when "tight"; "fits", or failing that "tight", when "wont-fit".
  const acceptable = (verdict: FitVerdict) => verdict === "fits" || (current === "wont-fit" && verdict === "tight");
  const verdictAt = async (config: FitConfig) => verdictOf(totals((await question.partsAt(config)).parts), question.available);

  const suggestion: Suggestion = {};
  const contextSize = await largestAcceptable(smallerContextSizes(question.config.contextSize), (size) =>
    verdictAt({ ...question.config, contextSize: size }),
  );
  if (contextSize !== undefined) suggestion.contextSize = contextSize;

  // Fewer GPU layers only help when VRAM is the problem (they move weights into RAM).
  const { gpuLayers } = question.config;
  const needed = totals((await question.partsAt(question.config)).parts);
  if (gpuLayers > 0 && needed.vramBytes > question.available.vramBytes * TIGHT_SHARE) {
    // The most layers that fit comfortably; failing that (when nothing fits now), the most that fit at all.
    const shares = current === "wont-fit" ? [TIGHT_SHARE, 1] : [TIGHT_SHARE];
    for (const share of shares) {
      const layers = await mostLayersWithin(gpuLayers - 1, async (n) => {
        const at = totals((await question.partsAt({ ...question.config, gpuLayers: n })).parts);
        return at.vramBytes <= question.available.vramBytes * share;
      });
      if (layers !== undefined && acceptable(await verdictAt({ ...question.config, gpuLayers: layers }))) {
        suggestion.gpuLayers = layers;
        break;
      }
    }
  }
  return suggestion.contextSize === undefined && suggestion.gpuLayers === undefined ? null : suggestion;

  async function largestAcceptable(sizes: number[], verdictFor: (size: number) => Promise<FitVerdict>) {
    let fallback: number | undefined;
    for (const size of sizes) {
      const verdict = await verdictFor(size);
      if (verdict === "fits") return size;
      if (acceptable(verdict)) fallback ??= size;
    }
    return fallback;
  }
}

/** The largest n in [0, max] for which `within(n)` holds (VRAM only shrinks with fewer layers): binary search. */
async function mostLayersWithin(max: number, within: (layers: number) => Promise<boolean>): Promise<number | undefined> {
  if (max < 0 || !(await within(0))) return undefined;
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await within(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function fitMessage(options: {
  verdict: FitVerdict;
  needed: Memory;
  available: Memory;
  suggestion: FitEstimate["suggestion"];
  config: FitConfig;
}): string {
  const { verdict, needed, available, suggestion } = options;
  const ram = `${formatBytes(needed.ramBytes)} of RAM`;
  const vram = needed.vramBytes > 0 ? `${formatBytes(needed.vramBytes)} of VRAM` : null;
  if (verdict === "fits") {
    const figures = [`${ram} (${formatBytes(available.ramBytes)} free)`];
    if (vram) figures.push(`${vram} (${formatBytes(available.vramBytes)} free)`);
    return `Fits in memory: needs about ${figures.join(" and ")}.`;
  }
  const shortages: string[] = [];
  if (verdict === "wont-fit") {
    if (needed.ramBytes > available.ramBytes) shortages.push(`${ram} but ${formatBytes(available.ramBytes)} is free`);
    if (needed.vramBytes > available.vramBytes) shortages.push(`${vram} but ${formatBytes(available.vramBytes)} is free`);
  } else {
    if (needed.ramBytes > available.ramBytes * TIGHT_SHARE) shortages.push(`${ram} of the ${formatBytes(available.ramBytes)} free`);
    if (needed.vramBytes > available.vramBytes * TIGHT_SHARE) shortages.push(`${vram} of the ${formatBytes(available.vramBytes)} free`);
  }
  const first =
    verdict === "wont-fit"
      ? `Needs about ${shortages.join(", and ")}.`
      : `A tight fit: needs about ${shortages.join(" and ")}, so other apps may be pushed to swap.`;
  return `${first} ${suggestionSentence(verdict, suggestion, options.config)}`.trim();
}

function suggestionSentence(verdict: FitVerdict, suggestion: FitEstimate["suggestion"], config: FitConfig): string {
  const goal = verdict === "wont-fit" ? "would fit" : "would leave more room";
  const context = suggestion?.contextSize !== undefined ? `a ${suggestion.contextSize}-token context` : null;
  const layers = suggestion?.gpuLayers !== undefined ? `${suggestion.gpuLayers} GPU layers` : null;
  if (context && layers) return `${capitalise(context)} or ${layers} ${goal}.`;
  if (context) return `${capitalise(context)} ${goal}.`;
  if (layers) return `Offloading ${suggestion!.gpuLayers} layers to the GPU ${goal}.`;
  if (verdict !== "wont-fit") return "";
  return config.contextSize > MIN_SUGGESTED_CONTEXT
    ? `Even a ${MIN_SUGGESTED_CONTEXT}-token context would not fit: try a smaller model or a lower quantization.`
    : "Try a smaller model or a lower quantization.";
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
