/**
 * Differential privacy as federated rounds apply it (decision 0011), written once for the server's round
 * coordinator and the in-memory federation:
 * - {@link createRoundAggregator}: central placement (a federated task without secure aggregation). The
 *   aggregator clips every update to the task's `clippingNorm` (counting the clipped ones); under noise
 *   (noiseMultiplier z > 0) every update weighs 1 and the aggregate is (Σ clipped + N(0, (zC)²)) / m, the noise
 *   drawn once on the sum, m the number of updates.
 * - {@link accountRound}: each closed round of a noisy task is one step (q = samplingRate ?? 1, z) of the
 *   accountant, whose state is stored with the round.
 * - {@link privacyState}, {@link budgetExhaustedMessage}, {@link firstRoundBudgetIssue}: what the rounds have
 *   spent, and the budget rule (no round starts that would take ε above the budget).
 */
import { BufferedAggregator, createStrategy, type Aggregator } from '../aggregation/index.js';
import type { PrivacySpentState } from '../client/federation-api.js';
import type { Random } from '../data/random.js';
import type { Task } from '../task/schema.js';
import { Accountant, type AccountantState } from './accountant.js';
import { clipToNorm } from './clipping.js';
import { addGaussianNoise, cryptoRandom, gaussianNoiseStd } from './noise.js';

/** The privacy settings rounds apply, with their defaults: q = 1 (every client every round), z = 0 (no noise). */
export interface RoundPrivacy {
  /** The clipping norm C, when the task clips updates. */
  clip: number | undefined;
  /** The noise multiplier z (0: no noise, no accounting). */
  z: number;
  /** The sampling rate q. */
  q: number;
  delta: number;
  /** The ε budget, when the task has one. */
  budget: number | undefined;
  /** True when the server (or the fake) clips and noises: no secure aggregation, the aggregator sees each update. */
  central: boolean;
}

/** A task's {@link RoundPrivacy}. */
export function roundPrivacy(task: Pick<Task, 'privacy'>): RoundPrivacy {
  const { clippingNorm, noiseMultiplier, samplingRate, delta, budget, secureAggregation } = task.privacy;
  return { clip: clippingNorm, z: noiseMultiplier ?? 0, q: samplingRate ?? 1, delta, budget: budget?.epsilon, central: !secureAggregation };
}

/** True when the task's rounds carry noise and are accounted (noiseMultiplier > 0). */
export function isNoisy(task: Pick<Task, 'privacy'>): boolean {
  return (task.privacy.noiseMultiplier ?? 0) > 0;
}

/** An {@link Aggregator} that also says how many of its updates it clipped. */
export interface RoundAggregator extends Aggregator {
  readonly clipped: number;
  /**
   * The strategy's buffer of (already clipped) updates when the strategy keeps every update and the result
   * adds nothing to its aggregate (no noise): a server may take them and aggregate elsewhere (a worker thread)
   * with `aggregateBuffered`. Undefined for streaming strategies (FedAvg).
   */
  readonly buffered?: BufferedAggregator;
}

/**
 * The aggregator of one round of a federated task: the task's strategy, preceded by central clipping when
 * the task sets `clippingNorm` without secure aggregation, and with central noise when it sets
 * `noiseMultiplier` > 0 (then every update weighs 1, whatever examples it claims: the sum's sensitivity is C).
 * `random` is for tests (a seeded source); the default draws from `crypto.getRandomValues`.
 *
 * @example
 * const aggregator = createRoundAggregator(task, size); // task.privacy: { clippingNorm: 1, noiseMultiplier: 1 }
 * aggregator.add(delta, samples);                        // clipped to norm 1, weight 1
 * const noisyMean = aggregator.result();                 // (Σ clipped + N(0, 1²)) / m
 */
export function createRoundAggregator(task: Pick<Task, 'aggregation' | 'privacy'>, size: number, random: Random = cryptoRandom()): RoundAggregator {
  const inner = createStrategy(task.aggregation).createAggregator(size);
  const { clip, z, central } = roundPrivacy(task);
  const buffered = inner instanceof BufferedAggregator && !(central && z > 0) ? inner : undefined;
  if (!central || clip === undefined) return Object.assign(inner, { clipped: 0, buffered });
  let clipped = 0;
  return {
    buffered,
    get count() {
      return inner.count;
    },
    get totalWeight() {
      return inner.totalWeight;
    },
    get clipped() {
      return clipped;
    },
    add(update, weight) {
      const result = clipToNorm(update, clip);
      inner.add(result.update, z > 0 ? 1 : weight);
      if (result.clipped) clipped += 1;
    },
    result() {
      const mean = inner.result();
      return z > 0 ? privatizeAggregate(mean, inner.count, clip, z, random) : mean;
    },
  };
}

/**
 * The noisy mean (Σ + N(0, (zC)²)) / m of `m` clipped updates whose plain mean is `mean`: the sum gets the
 * Gaussian noise once, then is divided by the (public) number of updates.
 */
export function privatizeAggregate(mean: Float32Array, m: number, clip: number, z: number, random: Random = cryptoRandom()): Float32Array {
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`the number of updates must be a positive integer (got ${m})`);
  const sum = new Float32Array(mean.length);
  for (let i = 0; i < sum.length; i++) sum[i] = mean[i] * m;
  const noisy = addGaussianNoise(sum, gaussianNoiseStd(clip, z), random);
  for (let i = 0; i < noisy.length; i++) noisy[i] /= m;
  return noisy;
}

/** What a closed round stores: the accountant after it, and the (ε, δ) spent so far. */
export interface RoundAccount {
  accountant: AccountantState;
  epsilon: number;
  delta: number;
}

/**
 * Accounts one closed round of a noisy task: the accountant restored from `previous` (the last closed
 * round's state; none before the first) plus one step at (q, z). Null for a task without noise.
 */
export function accountRound(task: Pick<Task, 'privacy'>, previous: AccountantState | null | undefined): RoundAccount | null {
  if (!isNoisy(task)) return null;
  const { q, z, delta } = roundPrivacy(task);
  const accountant = restore(previous).step(q, z);
  return { accountant: accountant.toJSON(), epsilon: accountant.spent(delta).epsilon, delta };
}

// Restoring recomputes the RDP at every order; states are published at every heartbeat, so keep the answers.
const stateCache = new Map<string, PrivacySpentState>();
const STATE_CACHE_SIZE = 256;

/**
 * What a noisy task has spent after the closed rounds whose accountant state is `accountant` (none yet: ε = 0),
 * and whether its budget is exhausted (the next round would exceed it). Undefined for a task without noise.
 */
export function privacyState(task: Pick<Task, 'privacy'>, accountant: AccountantState | null | undefined): PrivacySpentState | undefined {
  if (!isNoisy(task)) return undefined;
  const { q, z, delta, budget } = roundPrivacy(task);
  const key = JSON.stringify([q, z, delta, budget, accountant ?? null]);
  const cached = stateCache.get(key);
  if (cached) return { ...cached };
  const restored = restore(accountant);
  const state: PrivacySpentState = {
    epsilon: restored.spent(delta).epsilon,
    delta,
    ...(budget !== undefined && { budget }),
    exhausted: budget !== undefined && restored.wouldExceed({ epsilon: budget, delta }, q, z),
  };
  if (stateCache.size >= STATE_CACHE_SIZE) stateCache.delete(stateCache.keys().next().value as string);
  stateCache.set(key, state);
  return { ...state };
}

/** The refusal of a task whose budget is spent (a submission, a skip): names the ε spent and the budget. */
export function budgetExhaustedMessage(task: Pick<Task, 'id'>, privacy: PrivacySpentState): string {
  return (
    `task "${task.id}" has spent its privacy budget: ε = ${formatEpsilon(privacy.epsilon)} of ε = ${privacy.budget} at δ = ${privacy.delta}, ` +
    'and one more round would exceed it; no further round opens'
  );
}

/**
 * Why a task cannot even run its first round within its budget (one round costs more ε than the budget),
 * as a `path: reason` line for task creation; undefined when it fits or has no budget.
 */
export function firstRoundBudgetIssue(task: Pick<Task, 'privacy'>): string | undefined {
  const { q, z, delta, budget } = roundPrivacy(task);
  if (budget === undefined || z <= 0) return undefined;
  const first = new Accountant().step(q, z).spent(delta).epsilon;
  if (first <= budget) return undefined;
  return (
    `privacy.budget: one round costs ε = ${formatEpsilon(first)} at δ = ${delta} (samplingRate ${q}, noiseMultiplier ${z}), ` +
    `more than the budget ε = ${budget}; raise the budget or the noise multiplier, or lower the sampling rate`
  );
}

/** ε as messages print it: 4 significant digits. */
export function formatEpsilon(epsilon: number): string {
  return Number.isFinite(epsilon) ? String(Number(epsilon.toPrecision(4))) : String(epsilon);
}

function restore(state: AccountantState | null | undefined): Accountant {
  return state ? Accountant.fromJSON(state) : new Accountant();
}
