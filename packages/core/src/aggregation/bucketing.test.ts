import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Random } from '../data/random.js';
import { bucketMeans, withBucketing } from './bucketing.js';
import { createStrategy } from './index.js';
import { median } from './median.js';

const f32 = (...values: number[]) => Float32Array.from(values);
const values = (arrays: Float32Array[]) => arrays.map((a) => Array.from(a));
/** A source that always draws 0: Fisher–Yates then swaps item i with item 0 for i = n−1 … 1. */
const zeros: Random = () => 0;
/** A source just below 1: every swap is with itself, the order stays. */
const ones: Random = () => 0.999999;
const six = [f32(1), f32(2), f32(3), f32(4), f32(5), f32(100)];

test('bucketing shuffles, then averages consecutive buckets of s', () => {
  // Draws of 0 on indices [0 1 2 3 4 5]: swap 5↔0 → [5 1 2 3 4 0]; 4↔0 → [4 1 2 3 5 0]; 3↔0 → [3 1 2 4 5 0];
  // 2↔0 → [2 1 3 4 5 0]; 1↔0 → [1 2 3 4 5 0]. Values in that order: 2 3 4 5 100 1 → buckets of 2:
  // (2+3)/2 = 2.5, (4+5)/2 = 4.5, (100+1)/2 = 50.5.
  assert.deepEqual(values(bucketMeans(six, 2, zeros)), [[2.5], [4.5], [50.5]]);
  // In the original order: 1.5, 3.5, 52.5.
  assert.deepEqual(values(bucketMeans(six, 2, ones)), [[1.5], [3.5], [52.5]]);
});

test('the last bucket is smaller when s does not divide n', () => {
  // n = 5, s = 2: ⌈5/2⌉ = 3 buckets; the last holds one update.
  assert.deepEqual(values(bucketMeans([f32(1, 10), f32(2, 20), f32(3, 30), f32(4, 40), f32(5, 50)], 2, ones)), [[1.5, 15], [3.5, 35], [5, 50]]);
});

test('bucketing around the median: the median of the bucket means', () => {
  // From the buckets above: median(2.5, 4.5, 50.5) = 4.5 with draws of 0, median(1.5, 3.5, 52.5) = 3.5 in order
  // (the plain median of the six would be (3 + 4)/2 = 3.5 too).
  const bucketed = (random: Random) => {
    const aggregator = withBucketing(median, 2, random).createAggregator(1);
    six.forEach((u) => aggregator.add(u, 1));
    return Array.from(aggregator.result());
  };
  assert.deepEqual(bucketed(zeros), [4.5]);
  assert.deepEqual(bucketed(ones), [3.5]);
});

test('createStrategy wraps any robust strategy, keeps its name, and ignores the weights', () => {
  // multi-krum with f = 1 over 3 bucket means of [2.5], [4.5], [50.5] (n = 3 < f + 3: each is scored by its
  // distances to the other two: 2.5 → 4 + 2304 = 2308, 4.5 → 4 + 2116 = 2120, 50.5 → 2304 + 2116 = 4420),
  // averaging n − f = 2: (4.5 + 2.5)/2 = 3.5.
  const strategy = createStrategy({ strategy: 'multi-krum', parameter: 1, bucketing: { size: 2 } }, { random: zeros });
  const aggregator = strategy.createAggregator(1);
  six.forEach((u, i) => aggregator.add(u, i === 5 ? 1e9 : 1));
  assert.deepEqual(Array.from(aggregator.result()), [3.5]);
  assert.equal(strategy.name, 'multi-krum');
  assert.equal(strategy.streaming, false);
});

test('bucketing refuses fedavg and a bucket size that is not a whole number', () => {
  assert.throws(() => createStrategy({ strategy: 'fedavg', bucketing: { size: 2 } }), {
    message: 'bucketing applies to a robust strategy; "fedavg" averages every update already',
  });
  assert.throws(() => withBucketing(median, 1.5), { message: 'bucketing needs a whole bucket size of at least 1, got 1.5' });
});

test('a bucketed round with a cryptographic shuffle still combines every update', () => {
  // Two buckets of 2 out of four updates, in whatever order: the mean of the two bucket means is the mean
  // of the four, (1 + 2 + 3 + 100) / 4 = 26.5 (halves and quarters: exact in float32).
  const aggregator = createStrategy({ strategy: 'trimmed-mean', parameter: 0, bucketing: { size: 2 } }).createAggregator(1);
  [f32(1), f32(2), f32(3), f32(100)].forEach((u) => aggregator.add(u, 1));
  assert.deepEqual(Array.from(aggregator.result()), [26.5]);
});
