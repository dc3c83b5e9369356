import type { AggregationStrategyName } from '../task/schema.js';

/**
 * Aggregation strategies: how the server (federated) or a peer (decentralized) combines the updates of
 * one round into one. Flower-like: a strategy is a small factory of {@link Aggregator}s; the maths are pure
 * functions over `Float32Array`s, testable with literal numbers.
 *
 * Updates are added one at a time as they arrive. A streaming strategy (FedAvg) keeps O(model) memory
 * however many clients submit; a robust one (median, trimmed mean, Krum) must keep every update and says
 * so with `streaming: false`, so that a server can bound the number of clients it accepts.
 *
 * @example
 * ```ts
 * const aggregator = createStrategy({ strategy: 'fedavg' }).createAggregator(size);
 * for (const { delta, samples } of updates) aggregator.add(delta, samples);
 * const meanDelta = aggregator.result();
 * ```
 */
export interface Strategy {
  readonly name: AggregationStrategyName;
  /** True when the aggregator holds O(model) memory whatever the number of updates. */
  readonly streaming: boolean;
  /** A fresh accumulator for one round of updates of `size` values each. */
  createAggregator(size: number): Aggregator;
}

/** Participants that did not contribute to a round; failures are data, not exceptions. */
export interface AggregationFailure {
  participantId: string;
  reason: 'late' | 'dropped' | 'refused' | 'left';
}

export interface Aggregator {
  /**
   * Adds one update. `weight` is its importance (FedAvg: the number of training examples); it must be a
   * positive finite number. The array is read, never kept by streaming aggregators; robust ones copy it.
   */
  add(update: Float32Array, weight: number): void;
  /** Updates added so far. */
  readonly count: number;
  /** Sum of the weights added so far. */
  readonly totalWeight: number;
  /**
   * The aggregate of the updates added so far, as a new array. Throws when no update was added (a round
   * with no update has nothing to aggregate; callers check `count` first). `failures` lists the
   * participants that did not contribute, for strategies that adapt to them.
   */
  result(failures?: readonly AggregationFailure[]): Float32Array;
}

/** Raised for misuse (a wrong size, a non-positive weight, an empty aggregate). */
export class AggregationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AggregationError';
  }
}

/** Checks one update against the aggregator's size and its weight; shared by every strategy. */
export function checkAggregatorInput(size: number, update: Float32Array, weight: number): void {
  if (update.length !== size) throw new AggregationError(`update has ${update.length} values, expected ${size}`);
  if (!(weight > 0) || !Number.isFinite(weight)) throw new AggregationError(`update weight must be a positive finite number, got ${weight}`);
}
