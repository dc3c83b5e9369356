import { shuffleInPlace, type Random } from '../data/random.js';
import { cryptoRandom } from '../privacy/noise.js';
import { BufferedAggregator } from './buffered.js';
import { AggregationError, type Strategy } from './strategy.js';

/**
 * The bucket means of bucketing (Karimireddy, He and Jaggi, 2022): the updates in a random order (Fisher–Yates
 * driven by `random`), cut into ⌈n / s⌉ consecutive buckets of `s` (the last one smaller when s does not
 * divide n), each replaced by its unweighted mean.
 */
export function bucketMeans(updates: readonly Float32Array[], size: number, random: Random): Float32Array[] {
  return [...eachBucketMean(updates, size, random)];
}

/** {@link bucketMeans} one at a time, so that a caller holds one mean at once. */
function* eachBucketMean(updates: readonly Float32Array[], size: number, random: Random): Generator<Float32Array> {
  if (updates.length === 0) throw new AggregationError('no update to aggregate');
  if (!(Number.isInteger(size) && size >= 1)) throw new AggregationError(`bucketing needs a whole bucket size of at least 1, got ${size}`);
  const order = shuffleInPlace(Array.from(updates.keys()), random);
  const sum = new Float64Array(updates[0].length);
  for (let first = 0; first < order.length; first += size) {
    const bucket = order.slice(first, first + size);
    sum.fill(0);
    for (const k of bucket) {
      const u = updates[k];
      for (let i = 0; i < sum.length; i++) sum[i] += u[i];
    }
    const mean = new Float32Array(sum.length);
    for (let i = 0; i < mean.length; i++) mean[i] = sum[i] / bucket.length;
    yield mean;
  }
}

/**
 * Bucketing around any strategy: the round's updates are shuffled, averaged in buckets of `size`, and the
 * bucket means go to `inner` (each with weight 1). Averaging brings the honest updates closer together
 * (their spread shrinks by √s) so that a robust rule tells them from the Byzantine ones on non-IID data,
 * while at most f buckets contain a Byzantine update: the inner rule's f stays valid. Keeps every update
 * (`streaming: false`) and ignores the claimed weights. The default source is the platform's cryptographic
 * generator, so that no participant can predict its bucket; tests pass a seeded one.
 *
 * @example
 * ```ts
 * const strategy = withBucketing(median, 2);
 * ```
 */
export function withBucketing(inner: Strategy, size: number, random: Random = cryptoRandom()): Strategy {
  if (!(Number.isInteger(size) && size >= 1)) throw new AggregationError(`bucketing needs a whole bucket size of at least 1, got ${size}`);
  return {
    name: inner.name,
    streaming: false,
    createAggregator: (length) =>
      new BufferedAggregator(length, (updates) => {
        const aggregator = inner.createAggregator(length);
        for (const mean of eachBucketMean(updates, size, random)) aggregator.add(mean, 1);
        return aggregator.result();
      }),
  };
}
