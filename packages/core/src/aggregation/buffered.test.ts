import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoundAggregator } from '../privacy/rounds.js';
import { titanic } from '../task/builtin/titanic.js';
import { aggregateBuffered, BufferedAggregator, createStrategy } from './index.js';

const f32 = (...values: number[]) => Float32Array.from(values);

test('take() hands the buffered updates over and empties the aggregator; aggregateBuffered gives the same result', () => {
  const aggregator = createStrategy({ strategy: 'median' }).createAggregator(2) as BufferedAggregator;
  [f32(1, 10), f32(2, 20), f32(9, -5)].forEach((u) => aggregator.add(u, 1));
  const expected = Array.from(aggregator.result());
  const { updates, weights } = aggregator.take();
  assert.equal(aggregator.count, 0);
  assert.deepEqual(Array.from(aggregateBuffered({ strategy: 'median' }, updates, weights)), expected);
  assert.deepEqual(expected, [2, 10]);
});

test('a round aggregator exposes its buffer for robust rules only, not for FedAvg nor under noise', () => {
  assert.ok(createRoundAggregator({ ...titanic, aggregation: { strategy: 'krum' } }, 2).buffered instanceof BufferedAggregator);
  assert.ok(createRoundAggregator({ ...titanic, aggregation: { strategy: 'median' }, privacy: { ...titanic.privacy, clippingNorm: 1 } }, 2).buffered);
  assert.equal(createRoundAggregator({ ...titanic, aggregation: { strategy: 'fedavg' } }, 2).buffered, undefined);
  assert.throws(() => aggregateBuffered({ strategy: 'fedavg' }, [f32(1)], [1]), { message: '"fedavg" streams its updates: it buffers none' });
});
