/**
 * The aggregate of one version of an asynchronous (FedBuff) task, decision 0013: the task's strategy over the
 * buffer's K updates, each scaled by its staleness weight, behind the same central clipping and noise as a
 * synchronous round (`rounds.ts`). Written once for the server and the in-memory federation.
 */
import { BufferedAggregator } from '../aggregation/buffered.js';
import { scaleByStaleness } from '../aggregation/staleness.js';
import type { Random } from '../data/random.js';
import type { Task } from '../task/schema.js';
import { clipToNorm } from './clipping.js';
import { cryptoRandom } from './noise.js';
import { createRoundAggregator, roundPrivacy } from './rounds.js';

/** The accumulator of one version's buffer. */
export interface BufferAggregator {
  /**
   * Adds an accepted update: its delta (`local − base`), the examples it claims and its staleness weight
   * (`admitAsyncUpdate`'s `weight`, in (0, 1]). Under central clipping the delta is clipped to C first, then
   * scaled, so that a stale update weighs less even when it was clipped, and its norm stays at most C.
   */
  add(delta: Float32Array, samples: number, stalenessWeight: number): void;
  /** Updates in the buffer. */
  readonly count: number;
  /** Examples the buffered updates claim (unscaled): FedAvg's normaliser. */
  readonly samples: number;
  /** Updates clipped to the task's `clippingNorm` (on their raw norm). */
  readonly clipped: number;
  /**
   * The strategy's buffer of scaled (and clipped) updates, for a strategy that keeps every update and no noise
   * to add: a server may take them and run `aggregateBuffered` in a worker thread (same result). Undefined for
   * FedAvg and under noise.
   */
  readonly buffered?: BufferedAggregator;
  /**
   * The version's aggregate delta, to which the server optimizer applies (η_g: its learning rate):
   * - FedAvg: Σ wᵢ·nᵢ·Δᵢ / Σ nᵢ (FedBuff's (1/K)·Σ s(τᵢ)·Δᵢ with sample weights; normalised by the samples,
   *   not by the scaled weights, so that stale updates really count less: K stale updates move the model less
   *   than K fresh ones). Fresh updates only: plain FedAvg.
   * - Under noise (every update weighs 1): (Σ wᵢ·clip(Δᵢ) + N(0, (zC)²)) / K, FedBuff's DP form.
   * - A robust rule: the rule over the scaled deltas wᵢ·Δᵢ (their claims ignored, as in a synchronous round).
   */
  result(): Float32Array;
}

/**
 * The {@link BufferAggregator} of a version of `task` (its `aggregation` and `privacy`), for updates of `size`
 * values. `random` drives the noise (tests pass a seeded source).
 *
 * @example
 * ```ts
 * const buffer = createBufferAggregator(task, size);
 * buffer.add(delta, 100, 1);   // fresh
 * buffer.add(other, 100, 0.5); // staleness 3, polynomial weighting
 * const aggregate = buffer.result(); // (1·Δ + 0.5·Δ') · 100 / 200
 * ```
 */
export function createBufferAggregator(task: Pick<Task, 'aggregation' | 'privacy'>, size: number, random: Random = cryptoRandom()): BufferAggregator {
  const inner = createRoundAggregator(task, size, random);
  const { clip, central } = roundPrivacy(task);
  let clipped = 0;
  let samples = 0;
  return {
    buffered: inner.buffered,
    get count() {
      return inner.count;
    },
    get samples() {
      return samples;
    },
    get clipped() {
      return clipped;
    },
    add(delta, claimed, stalenessWeight) {
      let raw = delta;
      // Clip the raw update (the inner aggregator's own clip then finds nothing above C).
      if (central && clip !== undefined) {
        const result = clipToNorm(delta, clip);
        raw = result.update;
        if (result.clipped) clipped += 1;
      }
      // The weighted mean's weight stays the claim (or 1 under noise, inside `inner`): the staleness weight is
      // in the delta, so the normaliser is Σ nᵢ, not Σ wᵢ·nᵢ.
      inner.add(scaleByStaleness(raw, stalenessWeight), claimed);
      samples += claimed;
    },
    result: () => inner.result(),
  };
}
