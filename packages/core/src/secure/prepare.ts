// What a participant of a secure round masks, and how the unmasked sum becomes the next model: the one
// implementation for federated and decentralized rounds (decisions 0010 and 0011).
import type { Random } from '../data/random.js';
import { clipToNorm } from '../privacy/clipping.js';
import { addGaussianNoise, cryptoRandom, splitNoiseStd } from '../privacy/noise.js';
import type { Task } from '../task/schema.js';
import { SecureAggregationError } from './errors.js';
import { decodeSum, encodeUpdate, fixedPointCode, type FixedPointCode } from './fixed-point.js';
import { secureThreshold } from './masking.js';

/** How updates of one secure round are encoded: the same on every participant (it follows from the task and |U1|). */
export interface SecureEncoding {
  /** The fixed-point code (its norm bound covers the split noise under DP). */
  code: FixedPointCode;
  /** The clipping norm C of the task. */
  clipNorm: number;
  /** Whether updates are weighted by their examples (false under DP: every weight is 1). */
  weighted: boolean;
  /** The most examples one update may claim (W; 1 under DP). */
  maxWeight: number;
  /** The noise multiplier z (0 without DP). */
  noiseMultiplier: number;
  /** The round's threshold t = secureThreshold(|U1|): the fewest survivors any unmasked sum has. */
  threshold: number;
  /** Std of the noise each participant adds, zC/√t (0 without DP). */
  noiseStd: number;
}

/**
 * The encoding of a secure round of `task` whose roster U1 has `participants` members and whose model has
 * `dimension` parameters. Under DP (noiseMultiplier > 0) each participant adds N(0, (zC)²/t) after clipping to C,
 * so the encoded vector may exceed C: the code's norm bound is C plus (√d + 8) noise standard deviations, which a
 * χ_d-distributed noise norm exceeds with probability below e^-32 (then the encoder clips it, as for any input).
 *
 * @throws SecureAggregationError `range` when the task has no clipping norm, or no scale fits 32 bits.
 */
export function secureEncoding(task: Pick<Task, 'privacy' | 'aggregation'>, participants: number, dimension: number): SecureEncoding {
  const clipNorm = task.privacy.clippingNorm;
  if (clipNorm === undefined) throw new SecureAggregationError('range', 'secure aggregation needs privacy.clippingNorm');
  const noiseMultiplier = task.privacy.noiseMultiplier ?? 0;
  const weighted = !(noiseMultiplier > 0);
  const maxWeight = weighted ? task.aggregation.maxSamplesPerUpdate : 1;
  if (maxWeight === undefined) throw new SecureAggregationError('range', 'secure aggregation without noise needs aggregation.maxSamplesPerUpdate (the bound of the summed weights)');
  const threshold = secureThreshold(participants);
  const noiseStd = weighted ? 0 : splitNoiseStd(clipNorm, noiseMultiplier, threshold);
  const bound = clipNorm + noiseStd * (Math.sqrt(dimension) + 8);
  const code = fixedPointCode({ clipNorm: bound, maxParticipants: participants, maxWeight });
  return { code, clipNorm, weighted, maxWeight, noiseMultiplier, threshold, noiseStd };
}

/** One participant's prepared input. */
export interface PreparedUpdate {
  /** The d + 1 words to mask (the weighted update in fixed point, then the weight). */
  words: Uint32Array;
  /** The weight w sent: min(examples, W), or 1 under DP. */
  weight: number;
  /** Whether the update was scaled down to the clipping norm. */
  clipped: boolean;
  /** The update's L2 norm before clipping. */
  norm: number;
}

/**
 * The input a participant masks: u = local − start, clipped to C, plus N(0, (zC)²/t) under DP, weighted by
 * min(examples, W) (1 under DP), in the round's fixed point.
 */
export function prepareSecureUpdate(
  input: { start: Float32Array; local: Float32Array; examples: number },
  encoding: SecureEncoding,
  random: Random = cryptoRandom(),
): PreparedUpdate {
  const { start, local } = input;
  if (start.length !== local.length) throw new SecureAggregationError('range', `the local model has ${local.length} parameters, the round's start ${start.length}`);
  const update = new Float32Array(local.length);
  for (let k = 0; k < update.length; k++) update[k] = local[k] - start[k];
  const clip = clipToNorm(update, encoding.clipNorm);
  const noisy = encoding.noiseStd > 0 ? addGaussianNoise(clip.update, encoding.noiseStd, random) : clip.update;
  const weight = encoding.weighted ? Math.min(Math.max(0, Math.floor(input.examples)), encoding.maxWeight) : 1;
  return { words: encodeUpdate({ update: noisy, weight }, encoding.code, random), weight, clipped: clip.clipped, norm: clip.norm };
}

/** The model after a secure round: start + Σwᵢuᵢ / Σwᵢ, and Σwᵢ (the number of updates m under DP). */
export function applySecureSum(start: Float32Array, sum: Uint32Array, encoding: SecureEncoding): { values: Float32Array; totalWeight: number } {
  const decoded = decodeSum(sum, encoding.code);
  if (decoded.mean.length !== start.length) throw new SecureAggregationError('protocol', `the sum has ${decoded.mean.length} parameters, the model ${start.length}`);
  const values = new Float32Array(start.length);
  for (let k = 0; k < values.length; k++) values[k] = start[k] + decoded.mean[k];
  return { values, totalWeight: decoded.totalWeight };
}
