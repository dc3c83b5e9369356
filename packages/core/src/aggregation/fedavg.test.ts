import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fedavg, weightedMean } from './fedavg.js';

const f32 = (...values: number[]) => Float32Array.from(values);

test('fedavg weights each update by its number of samples', () => {
  const aggregator = fedavg.createAggregator(3);

  aggregator.add(f32(1, 2, 3), 1);
  aggregator.add(f32(4, 5, 6), 3);

  assert.deepEqual(Array.from(aggregator.result()), [3.25, 4.25, 5.25]);
  assert.equal(aggregator.count, 2);
  assert.equal(aggregator.totalWeight, 4);
});

test('fedavg of one update is that update', () => {
  assert.deepEqual(Array.from(weightedMean([f32(0.5, -2)], [712])), [0.5, -2]);
});

test('fedavg streams: it does not keep the arrays it is given', () => {
  const aggregator = fedavg.createAggregator(2);
  const update = f32(2, 4);

  aggregator.add(update, 1);
  update.fill(100);
  aggregator.add(f32(0, 0), 1);

  assert.deepEqual(Array.from(aggregator.result()), [1, 2]);
  assert.equal(fedavg.streaming, true);
});

test('fedavg sums in float64: 10,000 updates of 0.1 average to 0.1 in float32', () => {
  const aggregator = fedavg.createAggregator(1);
  for (let i = 0; i < 10_000; i++) aggregator.add(f32(0.1), 1);
  assert.equal(aggregator.result()[0], Math.fround(0.1));
});

test('fedavg refuses a wrong size, a non-positive weight and an empty result', () => {
  const aggregator = fedavg.createAggregator(2);
  assert.throws(() => aggregator.add(f32(1), 1), { message: 'update has 1 values, expected 2' });
  assert.throws(() => aggregator.add(f32(1, 2), 0), { message: 'update weight must be a positive finite number, got 0' });
  assert.throws(() => aggregator.add(f32(1, 2), NaN), { message: 'update weight must be a positive finite number, got NaN' });
  assert.throws(() => aggregator.result(), { message: 'no update to aggregate' });
});
