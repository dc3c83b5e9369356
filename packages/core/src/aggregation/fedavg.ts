import { AggregationError, checkAggregatorInput, type Aggregator, type Strategy } from './strategy.js';

/**
 * FedAvg (McMahan et al., 2017): the mean of the updates weighted by their number of training examples,
 * Σ wᵢ·uᵢ / Σ wᵢ. Streams: one float64 running sum of the model's size, whatever the number of clients
 * (float64 so that thousands of float32 updates add up without losing precision).
 */
export class WeightedMeanAggregator implements Aggregator {
  private readonly sum: Float64Array;
  private added = 0;
  private weights = 0;

  constructor(readonly size: number) {
    this.sum = new Float64Array(size);
  }

  get count(): number {
    return this.added;
  }

  get totalWeight(): number {
    return this.weights;
  }

  add(update: Float32Array, weight: number): void {
    checkAggregatorInput(this.size, update, weight);
    const sum = this.sum;
    for (let i = 0; i < sum.length; i++) sum[i] += weight * update[i];
    this.added++;
    this.weights += weight;
  }

  result(): Float32Array {
    if (this.added === 0) throw new AggregationError('no update to aggregate');
    const out = new Float32Array(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.sum[i] / this.weights;
    return out;
  }
}

/** Weighted mean of whole arrays at once (the same maths as {@link WeightedMeanAggregator}). */
export function weightedMean(updates: readonly Float32Array[], weights: readonly number[]): Float32Array {
  if (updates.length === 0) throw new AggregationError('no update to aggregate');
  const aggregator = new WeightedMeanAggregator(updates[0].length);
  updates.forEach((u, i) => aggregator.add(u, weights[i]));
  return aggregator.result();
}

export const fedavg: Strategy = {
  name: 'fedavg',
  streaming: true,
  createAggregator: (size) => new WeightedMeanAggregator(size),
};
