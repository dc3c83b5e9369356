import { AggregationError, checkAggregatorInput, type Aggregator } from './strategy.js';

/**
 * An aggregator that keeps a copy of every update (O(clients × model) memory) and applies `combine`
 * to all of them at the end: the base of the robust strategies, which need every value of a coordinate.
 */
export class BufferedAggregator implements Aggregator {
  private readonly updates: Float32Array[] = [];
  private readonly weightList: number[] = [];

  constructor(
    readonly size: number,
    private readonly combine: (updates: readonly Float32Array[], weights: readonly number[]) => Float32Array,
  ) {}

  get count(): number {
    return this.updates.length;
  }

  get totalWeight(): number {
    return this.weightList.reduce((a, b) => a + b, 0);
  }

  add(update: Float32Array, weight: number): void {
    checkAggregatorInput(this.size, update, weight);
    this.updates.push(update.slice());
    this.weightList.push(weight);
  }

  /** Adds an update without copying it: the caller hands the array over (a worker that received it transferred). */
  adopt(update: Float32Array, weight: number): void {
    checkAggregatorInput(this.size, update, weight);
    this.updates.push(update);
    this.weightList.push(weight);
  }

  /**
   * Hands the buffered updates over and empties this aggregator, so that they can be transferred (to a
   * worker thread) without a copy and without this side keeping them.
   */
  take(): { updates: Float32Array[]; weights: number[] } {
    return { updates: this.updates.splice(0), weights: this.weightList.splice(0) };
  }

  result(): Float32Array {
    if (this.updates.length === 0) throw new AggregationError('no update to aggregate');
    return this.combine(this.updates, this.weightList);
  }
}

/** Applies `reduce` to the sorted values of each coordinate. */
export function perCoordinate(updates: readonly Float32Array[], reduce: (sorted: Float64Array) => number): Float32Array {
  const size = updates[0].length;
  const out = new Float32Array(size);
  const column = new Float64Array(updates.length);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < updates.length; k++) column[k] = updates[k][i];
    column.sort();
    out[i] = reduce(column);
  }
  return out;
}
