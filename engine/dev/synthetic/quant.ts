/**
 * Encodings of float32 values into the GGML tensor types the synthetic writer supports.
 *
 * Q8_0 follows ggml's reference `quantize_row_q8_0_ref`: blocks of 32 values, each stored as an fp16 scale
 * d = max|x| / 127 followed by 32 int8 values round(x / d) (round half away from zero, as C's roundf). Arithmetic
 * is done in float32 (Math.fround) so the bytes match what ggml itself would write.
 */

export const QK8_0 = 32;
/** fp16 scale + 32 int8 values. */
export const Q8_0_BLOCK_BYTES = 2 + QK8_0;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of `value`, rounded to nearest even (as ggml's FP32_TO_FP16 on CPUs without F16C). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf / NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa right, rounding to nearest even.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let result = mantissa >>> shift;
    if (rest > half || (rest === half && (result & 1) === 1)) result++;
    return sign | result;
  }
  let result = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (result & 1) === 1)) result++; // may carry into the exponent: still right
  return sign | result;
}

/** The float value of IEEE half-precision bits (for tests and dequantisation). */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Writes `values` as little-endian fp16 into `out` at `offset`; returns the offset after them. */
export function encodeF16(values: Float32Array, out: Buffer, offset: number): number {
  for (let i = 0; i < values.length; i++, offset += 2) out.writeUInt16LE(toHalfBits(values[i]), offset);
  return offset;
}

/** Writes `values` as little-endian f32 into `out` at `offset`; returns the offset after them. */
export function encodeF32(values: Float32Array, out: Buffer, offset: number): number {
  for (let i = 0; i < values.length; i++, offset += 4) out.writeFloatLE(values[i], offset);
  return offset;
}

/** Quantises `values` (a multiple of 32 long) as Q8_0 blocks into `out` at `offset`; returns the offset after them. */
export function encodeQ8_0(values: Float32Array, out: Buffer, offset: number): number {
  if (values.length % QK8_0 !== 0) throw new Error(`Q8_0 needs a multiple of ${QK8_0} values, got ${values.length}`);
  for (let block = 0; block < values.length; block += QK8_0) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) {
      const a = Math.abs(values[block + j]);
      if (a > amax) amax = a;
    }
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    out.writeUInt16LE(toHalfBits(d), offset);
    offset += 2;
    for (let j = 0; j < QK8_0; j++, offset++) {
      const x = Math.fround(values[block + j] * id);
      // roundf: half away from zero (Math.round would send -2.5 to -2).
      const q = x >= 0 ? Math.floor(x + 0.5) : -Math.floor(0.5 - x);
      out[offset] = q & 0xff;
    }
  }
  return offset;
}

/** Inverse of encodeQ8_0 (with the fp16-rounded scale), for tests. */
export function decodeQ8_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let block = 0, offset = 0; block < count; block += QK8_0, offset += Q8_0_BLOCK_BYTES) {
    const d = fromHalfBits(view.getUint16(offset, true));
    for (let j = 0; j < QK8_0; j++) out[block + j] = d * view.getInt8(offset + 2 + j);
  }
  return out;
}
