import { BufferedAggregator, perCoordinate } from './buffered.js';
import { AggregationError, type Strategy } from './strategy.js';

/**
 * Coordinate-wise median (Yin et al., 2018): robust to fewer than half Byzantine clients. Unweighted;
 * the mean of the two middle values for an even number of updates.
 */
export function coordinateMedian(updates: readonly Float32Array[]): Float32Array {
  if (updates.length === 0) throw new AggregationError('no update to aggregate');
  return perCoordinate(updates, (sorted) => {
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  });
}

export const median: Strategy = {
  name: 'median',
  streaming: false,
  createAggregator: (size) => new BufferedAggregator(size, (updates) => coordinateMedian(updates)),
};
