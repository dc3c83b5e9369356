/**
 * Gaussian noise for client-level DP-FedAvg (McMahan et al. 2018): after every update is clipped to L2 norm C
 * (`clipping.ts`), noise of standard deviation σ = z·C on each coordinate of the sum makes the sum a Gaussian
 * mechanism with noise multiplier z, which `accountant.ts` turns into (ε, δ).
 *
 * Two placements:
 * - **central**: the aggregator adds N(0, σ²) to the sum ({@link gaussianNoiseStd}). The aggregator sees the
 *   clean sum, so it must be trusted with it.
 * - **split**, for secure aggregation: each of n clients adds N(0, σ²/n) to its own update before masking
 *   ({@link splitNoiseStd}); the independent shares add up to N(0, σ²) in the sum, which is all the
 *   aggregator learns. Caveats: if only m < n clients' updates reach the sum, it carries σ·√(m/n) (account
 *   with {@link survivingNoiseMultiplier}); each client's own share is small, so clients that collude with the
 *   aggregator weaken the others' guarantee; and once updates are quantized to integers for masking, the sum
 *   of rounded Gaussians is only approximately Gaussian, so the accounted (ε, δ) is then approximate. The
 *   rigorous route under quantization is the distributed discrete Gaussian (Kairouz, Liu and Steinke 2021),
 *   not built here.
 *
 * The sampler is the textbook floating-point Box–Muller transform. It is not hardened against
 * floating-point attacks on the low-order bits of noisy outputs (Mironov 2012); nothing here claims to be.
 */
import type { Random } from '../data/random.js';

// Words fetched per call to crypto.getRandomValues (two make one 53-bit uniform double).
const BUFFER_WORDS = 1024;

/**
 * A uniform source in [0, 1) backed by the platform's cryptographic generator (`crypto.getRandomValues`),
 * with 53 random bits per number. The default source of {@link gaussian} and {@link addGaussianNoise}.
 *
 * @example
 * const random = cryptoRandom();
 * random(); // e.g. 0.7316…, different on every call and every run
 */
export function cryptoRandom(): Random {
  const words = new Uint32Array(BUFFER_WORDS);
  let next = BUFFER_WORDS;
  const word = (): number => {
    if (next === BUFFER_WORDS) {
      globalThis.crypto.getRandomValues(words);
      next = 0;
    }
    return words[next++];
  };
  return () => ((word() >>> 5) * 67108864 + (word() >>> 6)) / 9007199254740992;
}

/**
 * Standard normal draws N(0, 1) from a uniform source by the Box–Muller transform (each pair of uniforms
 * gives two independent normals; the second is kept for the next call). Pass a seeded source such as
 * `mulberry32(seed)` for reproducible tests; the default is {@link cryptoRandom}. With a 32-bit source like
 * mulberry32 the largest draw is about ±6.7σ.
 *
 * @example
 * const normal = gaussian(mulberry32(1));
 * const draw = normal(); // the same first draw for seed 1, on every platform
 */
export function gaussian(random: Random = cryptoRandom()): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - random())); // 1 − u ∈ (0, 1]: the logarithm is finite
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/**
 * The standard deviation σ = z·C of the noise on a sum of updates clipped to norm C, for noise multiplier z
 * (central placement: the aggregator adds it once).
 *
 * @example
 * gaussianNoiseStd(0.5, 1.1); // 0.55
 */
export function gaussianNoiseStd(clip: number, noiseMultiplier: number): number {
  checkPositive('clipping norm', clip);
  checkNonNegative('noise multiplier', noiseMultiplier);
  return noiseMultiplier * clip;
}

/**
 * The standard deviation σ/√n that each of n clients adds to its own update, so that the sum of the n
 * updates carries noise of standard deviation σ = z·C (split placement, for secure aggregation; see the
 * caveats at the top of this module: exact for real numbers, approximate after quantization).
 *
 * @example
 * splitNoiseStd(1, 2, 4); // 1: four shares of std 1 sum to std 2
 */
export function splitNoiseStd(clip: number, noiseMultiplier: number, participants: number): number {
  if (!Number.isInteger(participants) || participants < 1) throw new RangeError(`participants must be a positive integer (got ${participants})`);
  return gaussianNoiseStd(clip, noiseMultiplier) / Math.sqrt(participants);
}

/**
 * The noise multiplier a sum actually carries when the noise was split among `planned` clients and only
 * `survivors` of their updates reached it: z·√(survivors/planned). Account with this value, not z.
 *
 * @example
 * survivingNoiseMultiplier(1.2, 16, 12); // ≈ 1.039
 */
export function survivingNoiseMultiplier(noiseMultiplier: number, planned: number, survivors: number): number {
  if (!Number.isInteger(planned) || planned < 1 || !Number.isInteger(survivors) || survivors < 0 || survivors > planned)
    throw new RangeError(`survivors must be an integer between 0 and planned (got ${survivors} of ${planned})`);
  return noiseMultiplier * Math.sqrt(survivors / planned);
}

/**
 * `values` plus independent N(0, std²) noise on every coordinate, as a new array (the input is not modified).
 * Use it on the sum with {@link gaussianNoiseStd}, or on one client's clipped update with {@link splitNoiseStd}.
 *
 * @example
 * const noisySum = addGaussianNoise(sum, gaussianNoiseStd(clip, 1.1)); // crypto-grade uniforms by default
 * const reproducible = addGaussianNoise(sum, 0.5, mulberry32(7));       // tests only
 */
export function addGaussianNoise(values: Float32Array, std: number, random: Random = cryptoRandom()): Float32Array {
  checkNonNegative('noise standard deviation', std);
  const normal = gaussian(random);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] + std * normal();
  return out;
}

function checkPositive(name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`the ${name} must be a positive number (got ${value})`);
}

function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`the ${name} must be a non-negative number (got ${value})`);
}
