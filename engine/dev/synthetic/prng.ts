/**
 * A small, fast, seeded PRNG (xoshiro128**) for synthetic weights.
 *
 * Why not Math.random: the generator must be deterministic for a given seed (the same options always write the same
 * bytes), and it must be fast: a 1B-parameter model needs a billion draws, which xoshiro128** on 32-bit integer
 * arithmetic (Math.imul) does in a few seconds. Streams are derived from a key (a string and integers), so any
 * tensor or any single embedding row can be regenerated on its own without generating what comes before it.
 */

/** FNV-1a over the UTF-16 code units of `text`, then finalised: a 32-bit key for a named stream. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3's finaliser: spreads every input bit over the whole word. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

const TWO_POW_MINUS_32 = 1 / 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A stream keyed by integers (e.g. seed, stream hash, row index); equal keys give equal streams. */
  constructor(...key: number[]) {
    // splitmix32 over the folded key fills the four state words; an all-zero state is impossible after mixing
    // a non-zero increment.
    let s = 0x9e3779b9;
    for (const k of key) s = mix32(s ^ mix32((k >>> 0) + 0x6d2b79f5));
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      return mix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() * TWO_POW_MINUS_32;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Fills `out` with zero-mean uniform values of root-mean-square `rms` (uniform on [-rms*sqrt(3), rms*sqrt(3)]).
   * Uniform rather than Gaussian because it is several times cheaper and, summed over hundreds of inputs in a
   * matmul, gives the same (Gaussian) statistics downstream.
   */
  fillUniform(out: Float32Array, rms: number, start = 0, end = out.length): void {
    const width = 2 * Math.sqrt(3) * rms;
    const offset = -Math.sqrt(3) * rms;
    const scale = width * TWO_POW_MINUS_32;
    for (let i = start; i < end; i++) out[i] = this.nextU32() * scale + offset;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
