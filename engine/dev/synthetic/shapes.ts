/**
 * Llama shapes for a requested parameter count.
 *
 * The synthetic models must cost what real models of their size cost to run, so their matmuls have the shapes real
 * llamas use: width grows like sqrt(params) (≈2048 at 1B, 1024 at 300M, 256 at 20M), heads of 64 (32 below width
 * 256), SwiGLU hidden ≈ 2.7 x width rounded like real checkpoints, grouped-query attention (4 query heads per KV head)
 * from width 1024 up as in current 1B-class llamas, and as many layers as the remaining budget buys. Embedding and
 * output matrices are separate (untied) and count towards the total, as they do in a real 32k-vocab llama.
 */

export interface ModelShape {
  params: number;
  vocab: number;
  dim: number;
  layers: number;
  ffn: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

export const PARAM_PRESETS = { "1b": 1_000_000_000, "300m": 300_000_000, "20m": 20_000_000 } as const;
export type ParamPreset = keyof typeof PARAM_PRESETS;

export function parseParamCount(value: string | number): number {
  if (typeof value === "number") return value;
  const preset = PARAM_PRESETS[value.toLowerCase() as ParamPreset];
  if (preset !== undefined) return preset;
  const match = /^(\d+(?:\.\d+)?)([kmb]?)$/i.exec(value.trim());
  if (!match) throw new Error(`parameter count "${value}" is not a number or one of ${Object.keys(PARAM_PRESETS).join(", ")}`);
  const scale = { "": 1, k: 1e3, m: 1e6, b: 1e9 }[match[2].toLowerCase() as "" | "k" | "m" | "b"];
  return Math.round(Number(match[1]) * scale);
}

const roundTo = (n: number, step: number) => Math.max(step, Math.round(n / step) * step);

/** Widths real llama-family checkpoints use; a requested size gets the nearest one (in ratio). */
const WIDTHS = [64, 96, 128, 192, 256, 320, 384, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192];

function layerParams(dim: number, ffn: number, kvDim: number): number {
  // q and output: dim x dim; k and v: dim x kvDim; gate, up, down: dim x ffn; two norms.
  return 2 * dim * dim + 2 * dim * kvDim + 3 * dim * ffn + 2 * dim;
}

export function shapeFor(params: number, vocab: number): ModelShape {
  if (!Number.isFinite(params) || params <= 0) throw new Error(`parameter count must be positive (got ${params})`);
  const ideal = 2048 * Math.sqrt(params / 1e9);
  let index = 0;
  for (let i = 1; i < WIDTHS.length; i++) if (Math.abs(Math.log(WIDTHS[i] / ideal)) < Math.abs(Math.log(WIDTHS[index] / ideal))) index = i;
  // Keep the (untied) embedding and output matrices under ~85% of the budget so there is room for layers, as in
  // real small llamas; below width 64 a model is not worth running.
  while (index > 0 && 2 * vocab * WIDTHS[index] > 0.85 * params) index--;
  const dim = WIDTHS[index];
  const headDim = dim >= 256 ? 64 : 32;
  const heads = Math.max(1, Math.floor(dim / headDim));
  const kvHeads = dim >= 1024 && heads % 4 === 0 ? heads / 4 : heads;
  const ffn = roundTo(2.7 * dim, dim >= 256 ? 256 : 32);
  const perLayer = layerParams(dim, ffn, kvHeads * headDim);
  const layers = Math.max(1, Math.round((params - 2 * vocab * dim - dim) / perLayer));
  return { params: 2 * vocab * dim + dim + layers * perLayer, vocab, dim, layers, ffn, heads, kvHeads, headDim };
}
