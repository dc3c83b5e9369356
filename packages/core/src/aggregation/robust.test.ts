import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AggregationStrategyName } from '../task/schema.js';
import { createStrategy } from './index.js';
import { coordinateMedian } from './median.js';
import { trimmedMean } from './trimmed-mean.js';

const f32 = (...values: number[]) => Float32Array.from(values);

test('median takes the middle value of each coordinate, ignoring one outlier', () => {
  const result = coordinateMedian([f32(1, 10), f32(2, -5), f32(1000, 0)]);
  assert.deepEqual(Array.from(result), [2, 0]);
});

test('median of an even number of updates averages the two middle values', () => {
  assert.deepEqual(Array.from(coordinateMedian([f32(1), f32(2), f32(4), f32(100)])), [3]);
});

test('trimmed mean drops the extremes of each coordinate', () => {
  const updates = [f32(-100, 1), f32(1, 2), f32(2, 3), f32(3, 4), f32(100, 5)];
  assert.deepEqual(Array.from(trimmedMean(updates, 0.2)), [2, 3]);
});

test('trimmed mean trims each coordinate on its own, not whole updates', () => {
  // Fraction 0.2 of 5: 1 value cut at each end. First coordinates −5 1 2 3 100 → (1 + 2 + 3)/3 = 2; second
  // −5 2 4 6 100 → (2 + 4 + 6)/3 = 4. Dropping the updates of largest and smallest norm instead would keep
  // [−5, 100], [2, 4], [3, 6]: [0, 36.7].
  const updates = [f32(100, -5), f32(-5, 100), f32(1, 2), f32(2, 4), f32(3, 6)];
  assert.deepEqual(Array.from(trimmedMean(updates, 0.2)), [2, 4]);
});

test('trimmed mean cuts ⌊fraction · n⌋ values at each end', () => {
  // n = 6, fraction 0.25: ⌊1.5⌋ = 1 → (1 + 2 + 4 + 8)/4 = 3.75; rounding up to 2 would give (2 + 4)/2 = 3.
  assert.deepEqual(Array.from(trimmedMean([f32(100), f32(1), f32(-100), f32(8), f32(2), f32(4)], 0.25)), [3.75]);
});

test('median works per coordinate: the middles may come from different updates', () => {
  // First coordinates 0 5 9 → 5 (from the second update); second 7 −1 3 → 3 (from the third).
  assert.deepEqual(Array.from(coordinateMedian([f32(0, 7), f32(5, -1), f32(9, 3)])), [5, 3]);
});

test('trimmed mean with fraction 0 is the plain mean', () => {
  assert.deepEqual(Array.from(trimmedMean([f32(1), f32(2), f32(6)], 0)), [3]);
});

test('robust strategies keep every update and ignore sample weights', () => {
  const aggregator = createStrategy({ strategy: 'median' }).createAggregator(1);
  aggregator.add(f32(1), 1000);
  aggregator.add(f32(2), 1);
  aggregator.add(f32(3), 1);
  assert.deepEqual(Array.from(aggregator.result()), [2]);
  assert.equal(createStrategy({ strategy: 'median' }).streaming, false);
});

test('createStrategy reads the trimmed fraction and refuses what is not implemented', () => {
  const strategy = createStrategy({ strategy: 'trimmed-mean', parameter: 0.25 });
  const aggregator = strategy.createAggregator(1);
  [-50, 1, 2, 3].forEach((v) => aggregator.add(f32(v), 1));
  assert.deepEqual(Array.from(aggregator.result()), [1.5]);
  assert.throws(() => createStrategy({ strategy: 'trimmed-mean', parameter: 0.5 }), { message: 'trim fraction must be in [0, 0.5), got 0.5' });
  // A name from another build (a stored task, a newer client) is refused, though the schema lists none.
  assert.throws(() => createStrategy({ strategy: 'bulyan' as AggregationStrategyName }), {
    message:
      'aggregation strategy "bulyan" is not implemented yet (available: fedavg, median, trimmed-mean, krum, multi-krum, centered-clipping)',
  });
});
