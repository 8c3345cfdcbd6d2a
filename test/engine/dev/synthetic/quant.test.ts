import { describe, expect, it } from "vitest";
import { decodeQ8_0, encodeF16, encodeQ8_0, fromHalfBits, Q8_0_BLOCK_BYTES, toHalfBits } from "../../../../engine/dev/synthetic/quant.js";
import { Rng } from "../../../../engine/dev/synthetic/prng.js";

describe("fp16 encoding", () => {
  it("matches IEEE half bits, rounding ties to even", () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(0.5)).toBe(0x3800);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00); // overflow -> +Inf
    expect(toHalfBits(0.1)).toBe(0x2e66);
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalfBits(1e-9)).toBe(0x0000);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even mantissa
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even mantissa (up)
    for (const bits of [0x3c00, 0xc000, 0x2e66, 0x7bff, 0x0001, 0x03ff]) expect(toHalfBits(fromHalfBits(bits))).toBe(bits);
  });

  it("writes little-endian halves", () => {
    const out = Buffer.alloc(4);
    expect(encodeF16(new Float32Array([1, -2]), out, 0)).toBe(4);
    expect([...out]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
  });
});

describe("Q8_0 blocks", () => {
  it("lays out a hand-checked block: fp16 scale then 32 int8 values rounded half away from zero", () => {
    const x = new Float32Array(32);
    // max |x| = 63.5, so d = 63.5 / 127 = 0.5 (fp16 0x3800) and q = round(x / 0.5) = round(2x).
    x.set([63.5, -0.75, 0.25, -0.25, 1.0, -63.5, 0.2]);
    const out = Buffer.alloc(Q8_0_BLOCK_BYTES);
    expect(encodeQ8_0(x, out, 0)).toBe(34);
    expect([...out.subarray(0, 2)]).toEqual([0x00, 0x38]);
    // -1.5 -> -2 (0xfe), 0.5 -> 1, -0.5 -> -1 (0xff; Math.round would give 0), 2, -127 (0x81), 0.4 -> 0.
    expect([...out.subarray(2, 9)]).toEqual([127, 0xfe, 1, 0xff, 2, 0x81, 0]);
    expect([...out.subarray(9)].every((b) => b === 0)).toBe(true);
  });

  it("stores an all-zero block with scale 0", () => {
    const out = Buffer.alloc(Q8_0_BLOCK_BYTES, 0xaa);
    encodeQ8_0(new Float32Array(32), out, 0);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it("round-trips random values within half a quantisation step", () => {
    const rng = new Rng(7);
    const x = new Float32Array(32 * 64);
    rng.fillUniform(x, 0.02);
    x[5] = 3; // one outlier block
    const out = Buffer.alloc((x.length / 32) * Q8_0_BLOCK_BYTES);
    encodeQ8_0(x, out, 0);
    const y = decodeQ8_0(out, x.length);
    for (let block = 0; block < x.length; block += 32) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[block + j]));
      const step = amax / 127;
      for (let j = 0; j < 32; j++) {
        // half a step from rounding, plus the fp16 rounding of the scale (relative 2^-11) times |q| <= 127
        expect(Math.abs(y[block + j] - x[block + j])).toBeLessThanOrEqual(step * 0.5 + amax * 2 ** -11 + 1e-12);
      }
    }
  });

  it("rejects a length that is not whole blocks", () => {
    expect(() => encodeQ8_0(new Float32Array(31), Buffer.alloc(64), 0)).toThrow(/multiple of 32/);
  });
});
