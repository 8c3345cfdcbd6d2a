/**
 * The weights of a synthetic llama, designed so that a target and a draft agree at a controllable rate.
 *
 * Shared signal (identical in both models, from the shared seed): a random cyclic order of the word pieces,
 * succ(t). Each model has its own random embedding vectors E[t] (rows of RMS 1), and
 *   token_embd[t] = E[t]                    (special and byte tokens reuse a random word's row)
 *   output[j]     = E[pred(j)] / sqrt(dim)  (zero for special and byte tokens, so they are never predicted)
 * so with no layers the logits are <E[pred(j)], E[t]>: about sqrt(dim) for j = succ(t) and N(0, 1) for every other
 * token, and argmax = succ(t). Special tokens never follow anything, so replies run to the token limit.
 *
 * Model-specific noise: every layer is dense random weights (the real matmul shapes and cost, no sparsity) whose
 * residual contributions are scaled so that their sum has RMS noise * sqrt(dim) against the signal's RMS of 1. The
 * noise moves the logits by N(0, (noise*sqrt(dim))^2) per token, so after dividing by that spread the correct
 * token sits at ~1/noise + N(0,1) against the maximum of V-1 standard normals, whatever the width: the same
 * `noise` gives about the same chance p that a model leaves the shared chain, in a 256-wide draft and a 2048-wide
 * target alike. Target and draft layers come from different seeds, so they leave the chain independently and
 * agree at about (1-p)^2. Layers read an RMS-normalised residual, so each layer's output size is set by its weights
 * alone; the sum over L layers has RMS sqrt(L) x per-layer, which is why the per-layer scale is noise*sqrt(dim/2L)
 * and why a stand-in with fewer layers (same width, heads and vocabulary) has the same agreement.
 * Attention is made sharp (score spread SCORE_STD), so each position attends to a few earlier ones: the noise, and
 * so where the text leaves the chain, depends on the context, not just on the last token.
 */
import { GgmlType, gguf, type GgufContent, type GgufValue, type TensorSpec } from "./gguf-writer.js";
import { hashString, Rng } from "./prng.js";
import type { ModelShape } from "./shapes.js";
import { BOS_ID, CHATML_TEMPLATE, EOS_ID, UNK_ID, type Vocabulary } from "./tokenizer.js";

export type Quant = "q8_0" | "f16";

export interface ModelDesign {
  name: string;
  shape: ModelShape;
  vocabulary: Vocabulary;
  contextLength: number;
  quant: Quant;
  /** Seed of what target and draft share: the successor order and the aliases of special/byte tokens. */
  sharedSeed: number;
  /** Seed of this model's own embeddings and layers (differs between target and draft). */
  modelSeed: number;
  /** Residual noise relative to the signal, in units of sqrt(dim) (see above). 0 = always follow the chain. */
  noise: number;
}

/** Standard deviation of raw attention scores: ~4 makes softmax pick out a few positions. */
const SCORE_STD = 4;
/** RMS of silu(g) * u for g, u ~ N(0, 1): the SwiGLU activation's size before ffn_down. */
const SWIGLU_RMS = 0.6;
/** output_norm gain: sets the logit spread (other tokens ~N(0, 3^2)), a realistic softmax confidence. */
const LOGIT_SCALE = 3;
/** Values generated per chunk handed to the writer (whole rows; a multiple of 32 for Q8_0). */
const CHUNK_VALUES = 1 << 16;

export interface SharedStructure {
  /** succ[t]: the token that follows t on the shared chain (defined for every id). */
  succ: Int32Array;
  /** pred[j]: the token whose successor is j, or -1 for tokens that are never predicted. */
  pred: Int32Array;
  /** For each id, the row of E its embedding uses (itself for word pieces, a random word piece otherwise). */
  embedRow: Int32Array;
}

export function sharedStructure(vocabulary: Vocabulary, sharedSeed: number): SharedStructure {
  const size = vocabulary.tokens.length;
  const first = vocabulary.firstPieceId;
  const words = size - first;
  const rng = new Rng(sharedSeed, hashString("succ"));
  // One cycle through every word piece: the chain never revisits a token before it has seen all of them.
  const order = rng.permutation(words);
  const succ = new Int32Array(size);
  const pred = new Int32Array(size).fill(-1);
  const embedRow = new Int32Array(size);
  for (let i = 0; i < words; i++) {
    const from = first + order[i];
    const to = first + order[(i + 1) % words];
    succ[from] = to;
    pred[to] = from;
    embedRow[from] = from;
  }
  for (let t = 0; t < first; t++) {
    embedRow[t] = first + rng.below(words);
    succ[t] = succ[embedRow[t]];
  }
  return { succ, pred, embedRow };
}

function fileType(quant: Quant): number {
  return quant === "q8_0" ? 7 : 1; // LLAMA_FTYPE_MOSTLY_Q8_0 / MOSTLY_F16
}

function metadata(design: ModelDesign): Array<readonly [string, GgufValue]> {
  const { shape, vocabulary } = design;
  return [
    ["general.architecture", gguf.string("llama")],
    ["general.name", gguf.string(design.name)],
    ["general.file_type", gguf.u32(fileType(design.quant))],
    ["general.quantization_version", gguf.u32(2)],
    ["general.alignment", gguf.u32(32)],
    ["llama.context_length", gguf.u32(design.contextLength)],
    ["llama.embedding_length", gguf.u32(shape.dim)],
    ["llama.block_count", gguf.u32(shape.layers)],
    ["llama.feed_forward_length", gguf.u32(shape.ffn)],
    ["llama.rope.dimension_count", gguf.u32(shape.headDim)],
    ["llama.attention.head_count", gguf.u32(shape.heads)],
    ["llama.attention.head_count_kv", gguf.u32(shape.kvHeads)],
    ["llama.attention.layer_norm_rms_epsilon", gguf.f32(1e-5)],
    ["llama.rope.freq_base", gguf.f32(10000)],
    ["llama.vocab_size", gguf.u32(shape.vocab)],
    ["tokenizer.ggml.model", gguf.string("llama")],
    ["tokenizer.ggml.tokens", gguf.strings(vocabulary.tokens)],
    ["tokenizer.ggml.scores", gguf.f32s(vocabulary.scores)],
    ["tokenizer.ggml.token_type", gguf.i32s(vocabulary.tokenTypes)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(BOS_ID)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(EOS_ID)],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(UNK_ID)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(false)],
    ["tokenizer.ggml.add_eos_token", gguf.bool(false)],
    ["tokenizer.ggml.add_space_prefix", gguf.bool(false)],
    ["tokenizer.chat_template", gguf.string(CHATML_TEMPLATE)],
    ["tandem.synthetic.noise", gguf.f32(design.noise)],
    ["tandem.synthetic.shared_seed", gguf.u32(design.sharedSeed)],
    ["tandem.synthetic.model_seed", gguf.u32(design.modelSeed)],
  ];
}

/** Rows of `source` (called with a row index and a destination), batched into chunks for the writer. */
function* rowChunks(rows: number, rowLength: number, source: (row: number, out: Float32Array, offset: number) => void): Generator<Float32Array> {
  const perChunk = Math.max(1, Math.floor(CHUNK_VALUES / rowLength));
  // One buffer reused for every chunk: the writer encodes a chunk before asking for the next.
  const buffer = new Float32Array(perChunk * rowLength);
  for (let row = 0; row < rows; row += perChunk) {
    const n = Math.min(perChunk, rows - row);
    for (let i = 0; i < n; i++) source(row + i, buffer, i * rowLength);
    yield n === perChunk ? buffer : buffer.subarray(0, n * rowLength);
  }
}

/** A dense random matrix of `rows` x `rowLength` with entries of RMS `rms`, from its own stream. */
function randomMatrix(rng: Rng, rows: number, rowLength: number, rms: number): () => Iterable<Float32Array> {
  return () => rowChunks(rows, rowLength, (_row, out, offset) => rng.fillUniform(out, rms, offset, offset + rowLength));
}

function constantVector(length: number, value: number): () => Iterable<Float32Array> {
  return function* () {
    yield new Float32Array(length).fill(value);
  };
}

/** Everything the GGUF writer needs for one model; tensors are generated lazily, in file order. */
export function modelContent(design: ModelDesign): GgufContent {
  const { shape, modelSeed } = design;
  const { dim, layers, ffn, vocab } = shape;
  if (design.vocabulary.tokens.length !== vocab) throw new Error("vocabulary size does not match the shape");
  const kvDim = shape.kvHeads * shape.headDim;
  const structure = sharedStructure(design.vocabulary, design.sharedSeed);
  const matrixType = design.quant === "q8_0" ? GgmlType.Q8_0 : GgmlType.F16;
  const embedKey = hashString("E");
  const embeddingRow = (row: number, out: Float32Array, offset: number, scale: number) => {
    new Rng(modelSeed, embedKey, row).fillUniform(out, scale, offset, offset + dim);
  };

  // Per-branch residual RMS, so that 2 * layers branches sum to noise * sqrt(dim) (see the module comment).
  const branchRms = design.noise * Math.sqrt(dim / (2 * layers));
  const qkRms = Math.sqrt(SCORE_STD / dim);
  const inRms = 1 / Math.sqrt(dim);
  const stream = (layer: number, name: string) => new Rng(modelSeed, hashString(name), layer);

  const tensors: TensorSpec[] = [
    {
      name: "token_embd.weight",
      dims: [dim, vocab],
      type: matrixType,
      data: () => rowChunks(vocab, dim, (t, out, offset) => embeddingRow(structure.embedRow[t], out, offset, 1)),
    },
  ];
  for (let l = 0; l < layers; l++) {
    const blk = `blk.${l}`;
    tensors.push(
      { name: `${blk}.attn_norm.weight`, dims: [dim], type: GgmlType.F32, data: constantVector(dim, 1) },
      { name: `${blk}.attn_q.weight`, dims: [dim, dim], type: matrixType, data: randomMatrix(stream(l, "q"), dim, dim, qkRms) },
      { name: `${blk}.attn_k.weight`, dims: [dim, kvDim], type: matrixType, data: randomMatrix(stream(l, "k"), kvDim, dim, qkRms) },
      { name: `${blk}.attn_v.weight`, dims: [dim, kvDim], type: matrixType, data: randomMatrix(stream(l, "v"), kvDim, dim, inRms) },
      {
        name: `${blk}.attn_output.weight`,
        dims: [dim, dim],
        type: matrixType,
        data: randomMatrix(stream(l, "o"), dim, dim, branchRms / Math.sqrt(dim)),
      },
      { name: `${blk}.ffn_norm.weight`, dims: [dim], type: GgmlType.F32, data: constantVector(dim, 1) },
      { name: `${blk}.ffn_gate.weight`, dims: [dim, ffn], type: matrixType, data: randomMatrix(stream(l, "gate"), ffn, dim, inRms) },
      { name: `${blk}.ffn_up.weight`, dims: [dim, ffn], type: matrixType, data: randomMatrix(stream(l, "up"), ffn, dim, inRms) },
      {
        name: `${blk}.ffn_down.weight`,
        dims: [ffn, dim],
        type: matrixType,
        data: randomMatrix(stream(l, "down"), dim, ffn, branchRms / (Math.sqrt(ffn) * SWIGLU_RMS)),
      },
    );
  }
  const outputScale = 1 / Math.sqrt(dim);
  tensors.push(
    { name: "output_norm.weight", dims: [dim], type: GgmlType.F32, data: constantVector(dim, LOGIT_SCALE) },
    {
      name: "output.weight",
      dims: [dim, vocab],
      type: matrixType,
      data: () =>
        rowChunks(vocab, dim, (j, out, offset) => {
          const from = structure.pred[j];
          if (from < 0) out.fill(0, offset, offset + dim);
          else embeddingRow(from, out, offset, outputScale);
        }),
    },
  );
  return { metadata: metadata(design), tensors };
}
