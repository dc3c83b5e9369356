import type { AggregationStrategyName } from '../task/schema.js';
import { fedavg } from './fedavg.js';
import { krumStrategy } from './krum.js';
import { median } from './median.js';
import { AggregationError, type Strategy } from './strategy.js';
import { DEFAULT_TRIM_FRACTION, trimmedMeanStrategy } from './trimmed-mean.js';

export * from './strategy.js';
export { fedavg, weightedMean, WeightedMeanAggregator } from './fedavg.js';
export { median, coordinateMedian } from './median.js';
export { trimmedMean, trimmedMeanStrategy, DEFAULT_TRIM_FRACTION } from './trimmed-mean.js';
export { krum, krumStrategy } from './krum.js';
export { BufferedAggregator, perCoordinate } from './buffered.js';
export { decideRound, type RoundDecision, type RoundPolicyInput } from './round-policy.js';
export { METRIC_KEYS, finiteMetrics, weightedMetrics, type MetricKey, type ClientMetrics, type WeightedMetrics } from './metrics.js';

/** The strategies this build implements (a task naming another one is refused where it is created). */
export const availableStrategies: readonly AggregationStrategyName[] = ['fedavg', 'median', 'trimmed-mean', 'krum'];

/**
 * The strategy a task's `aggregation` settings name. `parameter` is the trimmed fraction (trimmed-mean,
 * default 0.1) or the number of Byzantine clients tolerated (krum, default 0).
 */
export function createStrategy(settings: { strategy: AggregationStrategyName; parameter?: number }): Strategy {
  switch (settings.strategy) {
    case 'fedavg':
      return fedavg;
    case 'median':
      return median;
    case 'trimmed-mean':
      return trimmedMeanStrategy(settings.parameter ?? DEFAULT_TRIM_FRACTION);
    case 'krum':
      return krumStrategy(settings.parameter ?? 0);
    default:
      throw new AggregationError(
        `aggregation strategy "${settings.strategy}" is not implemented yet (available: ${availableStrategies.join(', ')})`,
      );
  }
}
