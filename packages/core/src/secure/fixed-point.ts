// Fixed-point encoding for secure aggregation: clip, scale, stochastically round, and sum in Z/2^32.
// The overflow argument is in docs/decisions/0010-secure-aggregation.md.
import type { Random } from '../data/random.js';
import { clipToNorm } from '../privacy/clipping.js';
import { cryptoRandom } from '../privacy/noise.js';
import { SecureAggregationError } from './errors.js';

const INT32_MAX = 2 ** 31 - 1;

/** What bounds one round's sum: the clipping norm C, the most participants n and the largest weight W. */
export interface FixedPointOptions {
  /** L2 norm C each update is clipped to (so every coordinate satisfies |u_k| ≤ C). */
  clipNorm: number;
  /** The most participants whose encodings are summed (n). */
  maxParticipants: number;
  /** The largest weight (examples trained on) a client may send, a whole number ≥ 1 (W); 1 for an unweighted sum. */
  maxWeight?: number;
}

/** A fixed-point code: its bounds and the scale chosen from them by {@link fixedPointScale}. */
export interface FixedPointCode {
  /** L2 norm C updates are clipped to. */
  readonly clipNorm: number;
  /** The most participants n whose encodings may be summed. */
  readonly maxParticipants: number;
  /** The largest weight W. */
  readonly maxWeight: number;
  /** Integer steps per unit: an encoded coordinate is round(w·u_k·scale). */
  readonly scale: number;
}

/**
 * The largest whole-number scale with which n encodings of weighted, clipped updates cannot overflow an int32 sum:
 * `floor((2^31 − 1 − n) / (n·W·C))`. Each coordinate |w·u_k| ≤ W·C, and stochastic rounding adds less than 1,
 * so |Σ| ≤ n·W·C·scale + n ≤ 2^31 − 1. The weight coordinate is sent as the whole number w (scale 1), so
 * n·W ≤ 2^31 − 1 is required too.
 *
 * @throws SecureAggregationError `range` when the bounds leave no scale ≥ 1.
 * @example fixedPointScale({ clipNorm: 1, maxParticipants: 16 }) // 134_217_726
 */
export function fixedPointScale(options: FixedPointOptions): number {
  const { clipNorm, maxParticipants: n } = options;
  const maxWeight = options.maxWeight ?? 1;
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) throw new SecureAggregationError('range', `the clipping norm must be a positive number, not ${clipNorm}`);
  if (!Number.isInteger(n) || n < 1) throw new SecureAggregationError('range', `the number of participants must be a whole number ≥ 1, not ${n}`);
  if (!Number.isInteger(maxWeight) || maxWeight < 1) throw new SecureAggregationError('range', `the largest weight must be a whole number ≥ 1, not ${maxWeight}`);
  if (n * maxWeight > INT32_MAX - n) {
    throw new SecureAggregationError('range', `${n} participants of weight up to ${maxWeight} overflow a 32-bit sum of weights`);
  }
  const scale = Math.floor((INT32_MAX - n) / (n * maxWeight * clipNorm));
  if (scale < 1) {
    throw new SecureAggregationError('range', `no fixed-point scale ≥ 1 fits ${n} participants, weight ≤ ${maxWeight} and clipping norm ${clipNorm} in 32 bits`);
  }
  return scale;
}

/** The fixed-point code for these bounds (see {@link fixedPointScale}). */
export function fixedPointCode(options: FixedPointOptions): FixedPointCode {
  return { clipNorm: options.clipNorm, maxParticipants: options.maxParticipants, maxWeight: options.maxWeight ?? 1, scale: fixedPointScale(options) };
}

/**
 * Stochastic rounding: ⌊v⌋ + 1 with probability v − ⌊v⌋, else ⌊v⌋, so that E[round(v)] = v exactly.
 * @param random uniform in [0, 1), e.g. `cryptoRandom()` (privacy/noise.ts) or `mulberry32(seed)` in tests.
 */
export function roundStochastic(value: number, random: Random): number {
  const low = Math.floor(value);
  return random() < value - low ? low + 1 : low;
}

/** A whole number in (−2^31, 2^31) as its two's-complement uint32 (the residue mod 2^32). */
export function toUint32(value: number): number {
  return value >>> 0;
}

/** A uint32 residue read back as the signed int32 it stands for. */
export function fromUint32(residue: number): number {
  return residue | 0;
}

/** What a client encodes: its update (clipped to C by {@link encodeUpdate}) and its weight. */
export interface WeightedUpdate {
  /** The update u, any length d; clipped to the code's norm C before it is weighted. */
  update: Float32Array;
  /** The weight w (examples trained on), a whole number in [0, W]; 1 when absent. */
  weight?: number;
}

/**
 * Encodes w·clip(u, C) in fixed point as d uint32 residues mod 2^32, followed by w itself: d + 1 words that the
 * aggregator can sum mod 2^32 without overflow for up to n clients (see {@link fixedPointScale}).
 *
 * @param random uniform in [0, 1) for the stochastic rounding; `cryptoRandom()` (crypto.getRandomValues) when absent.
 * @throws SecureAggregationError `range` for a weight outside [0, W] or a non-finite update.
 */
export function encodeUpdate(input: WeightedUpdate, code: FixedPointCode, random: Random = cryptoRandom()): Uint32Array {
  const weight = input.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 0 || weight > code.maxWeight) {
    throw new SecureAggregationError('range', `the weight must be a whole number in [0, ${code.maxWeight}], not ${weight}`);
  }
  let clipped: Float32Array;
  try {
    clipped = clipToNorm(input.update, code.clipNorm).update;
  } catch (error) {
    throw new SecureAggregationError('range', (error as Error).message);
  }
  const bound = code.maxWeight * code.clipNorm * code.scale;
  const words = new Uint32Array(clipped.length + 1);
  for (let k = 0; k < clipped.length; k++) {
    // clipToNorm guarantees ‖u‖ ≤ C, so |w·u_k·scale| ≤ W·C·scale; the clamp is a belt for float64 rounding here.
    const v = Math.min(bound, Math.max(-bound, weight * clipped[k] * code.scale));
    words[k] = toUint32(roundStochastic(v, random));
  }
  words[clipped.length] = weight;
  return words;
}

/** `into += other` mod 2^32, coordinate by coordinate, in place; returns `into`. */
export function addModular(into: Uint32Array, other: Uint32Array): Uint32Array {
  if (into.length !== other.length) throw new SecureAggregationError('protocol', `cannot add ${other.length} words to ${into.length}`);
  for (let k = 0; k < into.length; k++) into[k] = (into[k] + other[k]) >>> 0;
  return into;
}

/** `into −= other` mod 2^32, coordinate by coordinate, in place; returns `into`. */
export function subtractModular(into: Uint32Array, other: Uint32Array): Uint32Array {
  if (into.length !== other.length) throw new SecureAggregationError('protocol', `cannot subtract ${other.length} words from ${into.length}`);
  for (let k = 0; k < into.length; k++) into[k] = (into[k] - other[k]) >>> 0;
  return into;
}

/** The plain sum mod 2^32 of encodings of one length (what secure aggregation must reproduce bit for bit). */
export function sumModular(encodings: readonly Uint32Array[]): Uint32Array {
  if (encodings.length === 0) throw new SecureAggregationError('protocol', 'nothing to sum');
  const sum = new Uint32Array(encodings[0].length);
  for (const encoding of encodings) addModular(sum, encoding);
  return sum;
}

/** A decoded sum of weighted updates. */
export interface DecodedSum {
  /** Σ wᵢ·uᵢ (clipped updates), to within 1/scale per client and coordinate. */
  weightedSum: Float64Array;
  /** Σ wᵢ, exact. */
  totalWeight: number;
  /** Σ wᵢuᵢ / Σ wᵢ, the weighted mean (FedAvg); zeros when the total weight is 0. */
  mean: Float32Array;
}

/** Decodes the sum mod 2^32 of at most n encodings by {@link encodeUpdate} with this code. */
export function decodeSum(sum: Uint32Array, code: FixedPointCode): DecodedSum {
  if (sum.length < 1) throw new SecureAggregationError('protocol', 'an encoded sum holds at least the weight word');
  const d = sum.length - 1;
  const totalWeight = sum[d];
  const weightedSum = new Float64Array(d);
  const mean = new Float32Array(d);
  for (let k = 0; k < d; k++) {
    weightedSum[k] = fromUint32(sum[k]) / code.scale;
    mean[k] = totalWeight > 0 ? weightedSum[k] / totalWeight : 0;
  }
  return { weightedSum, totalWeight, mean };
}
