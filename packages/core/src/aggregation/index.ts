import type { Random } from '../data/random.js';
import type { AggregationStrategyName } from '../task/schema.js';
import { withBucketing } from './bucketing.js';
import { centeredClippingStrategy } from './centered-clipping.js';
import { fedavg } from './fedavg.js';
import { krumStrategy } from './krum.js';
import { median } from './median.js';
import { multiKrumStrategy } from './multi-krum.js';
import { BufferedAggregator } from './buffered.js';
import { AggregationError, type Strategy } from './strategy.js';
import { DEFAULT_TRIM_FRACTION, trimmedMeanStrategy } from './trimmed-mean.js';

export * from './strategy.js';
export { fedavg, weightedMean, WeightedMeanAggregator } from './fedavg.js';
export { median, coordinateMedian } from './median.js';
export { trimmedMean, trimmedMeanStrategy, DEFAULT_TRIM_FRACTION } from './trimmed-mean.js';
export { krum, krumScores, krumStrategy } from './krum.js';
export { multiKrum, multiKrumStrategy } from './multi-krum.js';
export { centeredClipping, centeredClippingStrategy, DEFAULT_CLIPPING_ITERATIONS, type CenteredClippingOptions } from './centered-clipping.js';
export { bucketMeans, withBucketing } from './bucketing.js';
export {
  applyServerOptimizer,
  decodeServerOptimizerState,
  encodeServerOptimizerState,
  serverOptimizerDefaults,
  type ServerOptimizerSettings,
  type ServerOptimizerState,
} from './server-optimizer.js';
export { BufferedAggregator, perCoordinate } from './buffered.js';
export { decideRound, DEFAULT_MAX_MISSED_ROUNDS, isWaitedFor, missedRounds, type RoundDecision, type RoundPolicyInput } from './round-policy.js';
export { asyncSettings, DEFAULT_ASYNC_SETTINGS, isAsync, scaleByStaleness, stalenessOf, stalenessWeight, type AsyncSettings } from './staleness.js';
export {
  admitAsyncUpdate,
  allowsRepeatUpdates,
  decideVersion,
  duplicateInBuffer,
  duplicateInBufferMessage,
  type AsyncAdmission,
  type BufferedUpdateKey,
  type AsyncAdmissionInput,
  type VersionDecision,
  type VersionPolicyInput,
} from './async-policy.js';
export { METRIC_KEYS, finiteMetrics, weightedMetrics, withPerplexities, type MetricKey, type ClientMetrics, type WeightedMetrics } from './metrics.js';

/** The strategies this build implements (a task naming another one is refused where it is created). */
export const availableStrategies: readonly AggregationStrategyName[] = ['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum', 'centered-clipping'];

/**
 * The strategy a task's `aggregation` settings name. `parameter` is the trimmed fraction (trimmed-mean,
 * default 0.1), the number of Byzantine clients tolerated (krum, multi-krum, default 0) or the clipping
 * radius (centered-clipping, default: the median distance). `bucketing` wraps the strategy
 * ({@link withBucketing}); `options.random` drives its shuffle (default: the cryptographic generator).
 */
export function createStrategy(
  settings: { strategy: AggregationStrategyName; parameter?: number; bucketing?: { size: number } },
  options: { random?: Random } = {},
): Strategy {
  const strategy = baseStrategy(settings);
  if (!settings.bucketing) return strategy;
  if (strategy === fedavg) throw new AggregationError('bucketing applies to a robust strategy; "fedavg" averages every update already');
  return withBucketing(strategy, settings.bucketing.size, options.random);
}

/**
 * The aggregate of a round's buffered updates by the strategy `settings` name, taking the arrays over (no
 * copy): what a server runs in a worker thread for a strategy that keeps every update (`streaming: false`),
 * with the updates it took from the round's {@link BufferedAggregator}. Same result as adding them one by one.
 */
export function aggregateBuffered(
  settings: { strategy: AggregationStrategyName; parameter?: number; bucketing?: { size: number } },
  updates: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  if (updates.length === 0) throw new AggregationError('no update to aggregate');
  const aggregator = createStrategy(settings).createAggregator(updates[0].length);
  if (!(aggregator instanceof BufferedAggregator)) throw new AggregationError(`"${settings.strategy}" streams its updates: it buffers none`);
  updates.forEach((update, i) => aggregator.adopt(update, weights[i]));
  return aggregator.result();
}

function baseStrategy(settings: { strategy: AggregationStrategyName; parameter?: number }): Strategy {
  switch (settings.strategy) {
    case 'fedavg':
      return fedavg;
    case 'median':
      return median;
    case 'trimmed-mean':
      return trimmedMeanStrategy(settings.parameter ?? DEFAULT_TRIM_FRACTION);
    case 'krum':
      return krumStrategy(settings.parameter ?? 0);
    case 'multi-krum':
      return multiKrumStrategy(settings.parameter ?? 0);
    case 'centered-clipping':
      return centeredClippingStrategy(settings.parameter);
    default:
      throw new AggregationError(
        `aggregation strategy "${settings.strategy}" is not implemented yet (available: ${availableStrategies.join(', ')})`,
      );
  }
}
