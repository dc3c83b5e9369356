import type { AggregationStrategyName } from '../task/schema.js';

/**
 * Aggregation strategies: how the server (federated) or a peer (decentralized) combines the updates of
 * one round into one. Flower-like: a strategy is a small factory of {@link Aggregator}s; the maths are pure
 * functions over `Float32Array`s, testable with literal numbers.
 *
 * Updates are added one at a time as they arrive. A streaming strategy (FedAvg) keeps O(model) memory
 * however many clients submit; a robust one (median, trimmed mean, Krum) must keep every update and says
 * so with `streaming: false`, so that a server can bound the number of clients it accepts
 * ({@link bufferedUpdateLimit}).
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

export interface Aggregator {
  /**
   * Adds one update. `weight` is its importance (FedAvg: the number of training examples, which the
   * server bounds by the task's `aggregation.maxSamplesPerUpdate`); it must be a positive finite number.
   * The robust strategies (median, trimmed mean, Krum) ignore it: every update counts once, whatever it
   * claims. The array is read, never kept by streaming aggregators; robust ones copy it.
   */
  add(update: Float32Array, weight: number): void;
  /** Updates added so far. */
  readonly count: number;
  /** Sum of the weights added so far. */
  readonly totalWeight: number;
  /**
   * The aggregate of the updates added so far, as a new array. Throws when no update was added (a round
   * with no update has nothing to aggregate; callers check `count` first).
   */
  result(): Float32Array;
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

/** Bytes a buffering aggregator keeps per update: a float32 copy of each value. */
export const BYTES_PER_BUFFERED_VALUE = 4;

/**
 * How many updates of `parameters` values `strategy` can hold within `memoryBytes`: unbounded
 * (`Infinity`) for a streaming strategy, ⌊memoryBytes ÷ (4 bytes × parameters)⌋ for one that keeps every
 * update (median, trimmed mean, Krum). A server accepts no more participants than this in a task.
 *
 * @example
 * ```ts
 * bufferedUpdateLimit(median, 1_000_000, 1024 ** 3); // 268: a 1-million-parameter model, 1 GiB of updates
 * ```
 */
export function bufferedUpdateLimit(strategy: Pick<Strategy, 'streaming'>, parameters: number, memoryBytes: number): number {
  if (strategy.streaming) return Infinity;
  return Math.floor(memoryBytes / (BYTES_PER_BUFFERED_VALUE * Math.max(1, parameters)));
}
