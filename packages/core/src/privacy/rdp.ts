/**
 * Rényi differential privacy of the Poisson-subsampled Gaussian mechanism (Mironov, Talwar and Zhang 2019,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism"): each client joins a round independently
 * with probability q, every update is clipped to norm C and the sum gets N(0, (zC)²) noise per coordinate.
 * For neighbouring datasets that differ by one client (add or remove), one round is (α, ε(α))-RDP with
 *
 *   ε(α) = log A_α / (α − 1),   A_α = E_{x∼N(0, z²)} [ (1 − q + q·exp((2x − 1)/(2z²)))^α ].
 *
 * Integer α: the binomial expansion A_α = Σ_k C(α, k) (1 − q)^(α−k) q^k exp((k² − k)/(2z²)), summed in log
 * space. Fractional α: the paper's series over the generalized binomial coefficients, each term weighted by a
 * Gaussian tail (erfc) on either side of z₀ = z² log(1/q − 1) + ½. q = 1 is the plain Gaussian, α/(2z²).
 */

/** log(e^a + e^b), exact for −∞. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const high = Math.max(a, b);
  return high + Math.log1p(Math.exp(Math.min(a, b) - high));
}

/** log(e^a − e^b) for a ≥ b. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b > a) throw new RangeError('logSub: the result would be negative');
  return a + Math.log1p(-Math.exp(b - a));
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log(erfc(x)) with a small relative error for every real x, including far in the tail (log erfc(30) ≈ −903.97,
 * where erfc itself underflows): the power series of erf for |x| ≤ 3, the continued fraction of erfc beyond.
 *
 * @example
 * Math.exp(logErfc(1)); // 0.157299207050285…
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Infinity) return -Infinity;
  if (x === 0) return 0;
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x <= 3) return Math.log1p(-erfSeries(x));
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by the modified Lentz algorithm.
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = 1 / (x + a * d);
    c = x + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** erf(x) for 0 ≤ x ≤ 3: 2x/√π · e^{−x²} · Σ (2x²)^n / (1·3·…·(2n+1)), all terms positive. */
function erfSeries(x: number): number {
  const ratio = 2 * x * x;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200; n++) {
    term *= ratio / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return ((2 * x) / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** log A_α for an integer order α ≥ 2 and 0 < q < 1. */
function logAInteger(q: number, z: number, order: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logBinomial = 0; // log C(α, k), updated as k grows
  let total = -Infinity;
  for (let k = 0; k <= order; k++) {
    total = logAdd(total, logBinomial + (order - k) * log1mQ + k * logQ + (k * k - k) / (2 * z * z));
    logBinomial += Math.log(order - k) - Math.log(k + 1);
  }
  return total;
}

/** log A_α for a fractional order α > 1 and 0 < q < 1 (Mironov, Talwar and Zhang 2019, section 3.3). */
function logAFractional(q: number, z: number, order: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const z0 = z * z * Math.log(1 / q - 1) + 0.5;
  const tailScale = Math.SQRT2 * z;
  let positive = -Infinity;
  let negative = -Infinity;
  let logCoefficient = 0; // log |C(α, i)|, the generalized binomial coefficient
  let sign = 1;
  for (let i = 0; i < 100_000; i++) {
    const j = order - i;
    const logS0 = logCoefficient + i * logQ + j * log1mQ + (i * i - i) / (2 * z * z) + Math.log(0.5) + logErfc((i - z0) / tailScale);
    const logS1 = logCoefficient + j * logQ + i * log1mQ + (j * j - j) / (2 * z * z) + Math.log(0.5) + logErfc((z0 - j) / tailScale);
    const both = logAdd(logS0, logS1);
    if (sign > 0) positive = logAdd(positive, both);
    else negative = logAdd(negative, both);
    // The terms decay once i passes α; stop when they no longer move the sum (A_α ≥ 1, so log A_α ≥ 0).
    if (i > order && both < Math.max(positive, 0) - 36) break;
    const factor = (order - i) / (i + 1);
    logCoefficient += Math.log(Math.abs(factor));
    if (factor < 0) sign = -sign;
  }
  return logSub(positive, negative);
}

/**
 * The RDP ε(α) of one round of the Poisson-subsampled Gaussian mechanism with sampling rate `q` and noise
 * multiplier `z` (noise std over clipping norm), at order `order` > 1. Exact closed forms at the ends: 0 for
 * q = 0, α/(2z²) for q = 1, and ∞ for z = 0 with q > 0.
 *
 * @example
 * subsampledGaussianRdp(1, 2, 3);      // 3 / (2·4) = 0.375
 * subsampledGaussianRdp(0.01, 1.1, 8); // ≈ 5.84e-4
 */
export function subsampledGaussianRdp(q: number, z: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sampling rate must be in [0, 1] (got ${q})`);
  if (!(z >= 0) || Number.isNaN(z)) throw new RangeError(`the noise multiplier must be non-negative (got ${z})`);
  if (!(order > 1) || !Number.isFinite(order)) throw new RangeError(`the RDP order must be a finite number above 1 (got ${order})`);
  if (q === 0) return 0;
  if (z === 0) return Infinity;
  if (q === 1) return order / (2 * z * z);
  const logA = Number.isInteger(order) ? logAInteger(q, z, order) : logAFractional(q, z, order);
  return Math.max(0, logA / (order - 1));
}
