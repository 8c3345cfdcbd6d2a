/**
 * Finds the noise level that gives a requested target/draft agreement.
 *
 * Theory (see weights.ts): each model leaves the shared chain when the max of V-1 standard normals beats
 * 1/noise + N(0,1), so its chance of staying is about Phi((1/noise - M_V) / sqrt(1 + s_V^2)), M_V and s_V being the
 * mean and spread of that max, and the pair agrees at about stay^2. In x = 1/noise and y = probit(sqrt(agreement))
 * that is a straight line of slope ~1, which gives a good first guess and makes a secant search converge in a few
 * measurements. The measurements are what counts: the theory only chooses where to measure.
 */

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -probit(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Expected maximum of n standard normals and its spread (extreme-value asymptotics). */
function maxOfNormals(n: number): { mean: number; spread: number } {
  const s = Math.sqrt(2 * Math.log(n));
  return { mean: s - (Math.log(Math.log(n)) + Math.log(4 * Math.PI)) / (2 * s), spread: 1.2825 / s };
}

/** y coordinate of an agreement (clamped away from 0 and 1 so probit stays finite). */
export const toY = (agreement: number) => probit(Math.sqrt(Math.min(0.995, Math.max(0.005, agreement))));

/**
 * Measured: the layers deliver a little less noise than nominal (attention averages values over several positions),
 * so the noise that gives an agreement is ~5-13% above the idealised prediction (13% at width 2048, 0-8% at 128).
 */
const NOISE_SHORTFALL = 1.1;

/** The noise level theory predicts for `agreement` at vocabulary size `vocab` (the search's first guess). */
export function predictedNoise(agreement: number, vocab: number): number {
  const { mean, spread } = maxOfNormals(vocab - 1);
  const x = mean + toY(agreement) * Math.sqrt(1 + spread * spread);
  return NOISE_SHORTFALL / Math.max(0.5, x);
}

export interface CalibrationPoint {
  noise: number;
  agreement: number;
}

export interface CalibrationSearch {
  requested: number;
  vocab: number;
  /** Stop when a measurement is this close to the request. */
  tolerance: number;
  maxSteps: number;
  measure: (noise: number) => Promise<number>;
}

const MIN_X = 0.5; // noise 2: far beyond total disagreement
/** Measured slope dy/dx of real pairs (1.2-1.8): steeper than the idealised 1. Used until points give their own. */
const DEFAULT_SLOPE = 1.4;

/** Slope dy/dx through the two points nearest `requested`, if they give a sane one, else DEFAULT_SLOPE. */
export function slopeNear(points: readonly CalibrationPoint[], requested: number): number {
  const near = [...points].sort((p, q) => Math.abs(p.agreement - requested) - Math.abs(q.agreement - requested));
  if (near.length < 2) return DEFAULT_SLOPE;
  const [p, q] = near;
  const dx = 1 / p.noise - 1 / q.noise;
  const dy = toY(p.agreement) - toY(q.agreement);
  return Math.abs(dx) > 1e-6 && dy / dx > 0.5 && dy / dx < 4 ? dy / dx : DEFAULT_SLOPE;
}

/** The noise one Newton step from `from` towards `requested`, with slope `slope` in (x, y). */
export function stepTowards(from: CalibrationPoint, requested: number, slope: number): number {
  const x = 1 / from.noise + (toY(requested) - toY(from.agreement)) / slope;
  return 1 / Math.max(MIN_X, x);
}

/** Secant search in (1/noise, probit(sqrt(agreement))); returns every point measured and the best one. */
export async function searchNoise(search: CalibrationSearch): Promise<{ best: CalibrationPoint; points: CalibrationPoint[] }> {
  const points: CalibrationPoint[] = [];
  const best = () => points.reduce((a, b) => (Math.abs(b.agreement - search.requested) < Math.abs(a.agreement - search.requested) ? b : a));
  let x = 1 / predictedNoise(search.requested, search.vocab);
  for (let step = 0; step < search.maxSteps; step++) {
    const noise = 1 / Math.max(MIN_X, x);
    const agreement = await search.measure(noise);
    points.push({ noise, agreement });
    if (Math.abs(agreement - search.requested) <= search.tolerance) break;
    x = 1 / stepTowards(best(), search.requested, slopeNear(points, search.requested));
    // Stay inside the bracket the measurements define (agreement rises with x).
    const below = points.filter((p) => p.agreement < search.requested).map((p) => 1 / p.noise);
    const above = points.filter((p) => p.agreement > search.requested).map((p) => 1 / p.noise);
    const lo = below.length ? Math.max(...below) : -Infinity;
    const hi = above.length ? Math.min(...above) : Infinity;
    if (!(x > lo && x < hi) && Number.isFinite(lo) && Number.isFinite(hi)) x = (lo + hi) / 2;
  }
  return { best: best(), points };
}
