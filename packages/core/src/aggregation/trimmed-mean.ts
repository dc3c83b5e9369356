import { BufferedAggregator, perCoordinate } from './buffered.js';
import { AggregationError, type Strategy } from './strategy.js';

/** Fraction trimmed at each end when the task gives none. */
export const DEFAULT_TRIM_FRACTION = 0.1;

/**
 * Coordinate-wise trimmed mean (Yin et al., 2018): drops the `floor(fraction · n)` smallest and largest
 * values of each coordinate and averages the rest (unweighted). `fraction` must be in [0, 0.5).
 */
export function trimmedMean(updates: readonly Float32Array[], fraction: number): Float32Array {
  if (updates.length === 0) throw new AggregationError('no update to aggregate');
  if (!(fraction >= 0 && fraction < 0.5)) throw new AggregationError(`trim fraction must be in [0, 0.5), got ${fraction}`);
  const cut = Math.floor(fraction * updates.length);
  return perCoordinate(updates, (sorted) => {
    let sum = 0;
    for (let k = cut; k < sorted.length - cut; k++) sum += sorted[k];
    return sum / (sorted.length - 2 * cut);
  });
}

export function trimmedMeanStrategy(fraction = DEFAULT_TRIM_FRACTION): Strategy {
  if (!(fraction >= 0 && fraction < 0.5)) throw new AggregationError(`trim fraction must be in [0, 0.5), got ${fraction}`);
  return {
    name: 'trimmed-mean',
    streaming: false,
    createAggregator: (size) => new BufferedAggregator(size, (updates) => trimmedMean(updates, fraction)),
  };
}
