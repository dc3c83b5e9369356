// What a participant of a secure federated round sends as its input, and how the aggregator reads the sum: one
// definition for the client, the server and the in-memory federation (decision 0010, "What the wiring does").
import type { Random } from '../data/random.js';
import { clipToNorm } from '../privacy/clipping.js';
import { addGaussianNoise, cryptoRandom, splitNoiseStd } from '../privacy/noise.js';
import type { Task } from '../task/schema.js';
import { decodeSum, encodeUpdate, fixedPointCode, type FixedPointCode } from './fixed-point.js';
import { secureThreshold } from './masking.js';

/** Whether the task adds differential-privacy noise (then every update weighs 1, decision 0011). */
function noisy(task: Pick<Task, 'privacy'>): boolean {
  return (task.privacy.noiseMultiplier ?? 0) > 0;
}

/** The standard deviation each client adds under DP: N(0, (zC)²/t), so that any t unmasked inputs carry std ≥ zC. */
export function secureNoiseStd(task: Pick<Task, 'privacy'>, participants: number): number {
  if (!noisy(task)) return 0;
  return splitNoiseStd(task.privacy.clippingNorm as number, task.privacy.noiseMultiplier as number, secureThreshold(participants));
}

/**
 * The fixed-point code of a secure round of `participants` (the roster U1) over updates of `parameters` values.
 * W = the task's `maxSamplesPerUpdate` (1 under DP: every update weighs 1); C = `privacy.clippingNorm`. Under DP
 * the encoded vector is the clipped update plus the client's share of noise, whose L2 norm is about σ·√d: the
 * code's norm is C + σ(√d + 10), which a noisy update exceeds with negligible probability (the χ tail), so the
 * sum cannot overflow.
 *
 * @throws SecureAggregationError `range` when no scale fits (see `fixedPointScale`), or Error for a task that is
 *   not secure or lacks the bounds (the task schema requires them).
 */
export function secureRoundCode(task: Pick<Task, 'privacy' | 'aggregation'>, participants: number, parameters: number): FixedPointCode {
  const clip = task.privacy.clippingNorm;
  if (!task.privacy.secureAggregation || clip === undefined) throw new Error('secure rounds need privacy.secureAggregation and privacy.clippingNorm');
  const maxWeight = noisy(task) ? 1 : task.aggregation.maxSamplesPerUpdate;
  if (maxWeight === undefined) throw new Error('secure rounds without noise need aggregation.maxSamplesPerUpdate');
  const noise = secureNoiseStd(task, participants);
  const clipNorm = noise > 0 ? clip + noise * (Math.sqrt(parameters) + 10) : clip;
  return fixedPointCode({ clipNorm, maxParticipants: participants, maxWeight });
}

/** What {@link prepareSecureInput} returns. */
export interface PreparedSecureInput {
  /** The d + 1 words to mask: the fixed-point w·(clip(u) + noise), then w. */
  input: Uint32Array;
  /** The weight sent: the examples claimed (at most W), or 1 under DP. */
  weight: number;
  /** Whether the update was scaled down to the clipping norm. */
  clipped: boolean;
}

/**
 * A participant's input to a secure round: its update clipped to C, under DP plus its share of noise
 * N(0, (zC)²/t) (t = the round's threshold), weighted and encoded in the round's fixed-point code with stochastic
 * rounding.
 *
 * @param options.samples the examples trained on (clamped to W; ignored under DP, where the weight is 1).
 * @param options.participants the size of the roster U1.
 * @param options.random uniform source for noise and rounding (tests); `cryptoRandom()` when absent.
 */
export function prepareSecureInput(
  task: Pick<Task, 'privacy' | 'aggregation'>,
  update: Float32Array,
  options: { samples: number; participants: number; random?: Random },
): PreparedSecureInput {
  const code = secureRoundCode(task, options.participants, update.length);
  const random = options.random ?? cryptoRandom();
  const { update: clippedUpdate, clipped } = clipToNorm(update, task.privacy.clippingNorm as number);
  const std = secureNoiseStd(task, options.participants);
  const sent = std > 0 ? addGaussianNoise(clippedUpdate, std, random) : clippedUpdate;
  const weight = noisy(task) ? 1 : Math.max(0, Math.min(code.maxWeight, Math.floor(options.samples)));
  return { input: encodeUpdate({ update: sent, weight }, code, random), weight, clipped };
}

/** The aggregate of a secure round from its unmasked sum. */
export interface SecureAggregate {
  /** Σwu / Σw: the FedAvg delta (zeros when Σw = 0). */
  delta: Float32Array;
  /** Σw: the examples (or, under DP, the updates) in the sum. */
  samples: number;
}

/** Decodes the unmasked sum of a secure round of `participants` (U1) into the FedAvg delta and Σw. */
export function decodeSecureSum(task: Pick<Task, 'privacy' | 'aggregation'>, sum: Uint32Array, participants: number): SecureAggregate {
  const { mean, totalWeight } = decodeSum(sum, secureRoundCode(task, participants, sum.length - 1));
  return { delta: mean, samples: totalWeight };
}
