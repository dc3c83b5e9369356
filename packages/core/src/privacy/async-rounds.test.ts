import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../data/random.js';
import type { Task } from '../task/schema.js';
import { l2Norm } from '../weights/flat.js';
import { createBufferAggregator } from './async-rounds.js';

const f32 = (...values: number[]) => Float32Array.from(values);
const task = (aggregation: object, privacy: object = {}) =>
  ({ aggregation: { strategy: 'fedavg', ...aggregation }, privacy: { delta: 1e-5, ...privacy } }) as unknown as Pick<Task, 'aggregation' | 'privacy'>;
const close = (actual: Float32Array, expected: number[]) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) < 1e-6, `[${i}] ${actual[i]} ≠ ${e}`));

test('fresh updates only: the version is plain FedAvg', () => {
  const buffer = createBufferAggregator(task({}), 2);
  buffer.add(f32(1, 2), 1, 1);
  buffer.add(f32(4, 5), 3, 1);
  assert.deepEqual(Array.from(buffer.result()), [3.25, 4.25]);
  assert.equal(buffer.count, 2);
  assert.equal(buffer.samples, 4);
});

test('FedAvg normalises the staleness-scaled deltas by the samples, so a stale update counts less', () => {
  const buffer = createBufferAggregator(task({}), 2);
  buffer.add(f32(2, 2), 100, 1); // fresh
  buffer.add(f32(2, 2), 100, 0.5); // staleness 3 under 1/√(1 + s)
  // (1·100·2 + 0.5·100·2) / 200 = 1.5: not 2, which normalising by Σ w·n would give.
  assert.deepEqual(Array.from(buffer.result()), [1.5, 1.5]);
});

test('K equally stale updates move the model by their weight times their mean (FedBuff: (1/K)·Σ s(τ)·Δ)', () => {
  const buffer = createBufferAggregator(task({}), 1);
  for (const d of [1, 2, 3, 6]) buffer.add(f32(d), 10, 0.5);
  assert.deepEqual(Array.from(buffer.result()), [1.5]);
});

test('robust rules run over the scaled deltas: the median of the buffer', () => {
  const buffer = createBufferAggregator(task({ strategy: 'median' }), 1);
  buffer.add(f32(1), 5, 1);
  buffer.add(f32(8), 5, 0.25); // stale: 2
  buffer.add(f32(100), 5, 1); // an outlier
  assert.deepEqual(Array.from(buffer.result()), [2]);
  assert.ok(buffer.buffered, 'the median keeps its updates for a worker thread');
  assert.deepEqual(Array.from(buffer.buffered.take().updates[1]), [2]);
});

test('krum picks among the scaled deltas', () => {
  const buffer = createBufferAggregator(task({ strategy: 'krum', parameter: 1 }), 2);
  buffer.add(f32(1, 1), 1, 1);
  buffer.add(f32(2, 2), 1, 0.5); // (1, 1): the same as the first once scaled
  buffer.add(f32(1.2, 1), 1, 1);
  buffer.add(f32(50, -50), 1, 1);
  close(buffer.result(), [1, 1]);
});

test('bucketing wraps the robust rule over the scaled deltas', () => {
  const buffer = createBufferAggregator(task({ strategy: 'median', bucketing: { size: 2 } }), 1);
  for (const [d, w] of [[4, 0.5], [0, 1], [6, 1], [2, 1]]) buffer.add(f32(d), 1, w);
  // Two buckets of two, whatever the shuffle: the median of two bucket means is the mean of the four scaled deltas,
  // (2 + 0 + 6 + 2) / 4 = 2.5 (3 had the stale 4 not been halved).
  assert.deepEqual(Array.from(buffer.result()), [2.5]);
});

test('central clipping clips the raw update, then scales it: a stale update stays below the clip', () => {
  const buffer = createBufferAggregator(task({}, { clippingNorm: 1 }), 2);
  buffer.add(f32(3, 4), 1, 0.5); // norm 5 → (0.6, 0.8) → (0.3, 0.4)
  buffer.add(f32(0.3, 0), 1, 1); // not clipped
  close(buffer.result(), [0.3, 0.2]);
  assert.equal(buffer.clipped, 1);
});

test('under noise every update weighs 1 and the noisy sum is divided by K', () => {
  const buffer = createBufferAggregator(task({}, { clippingNorm: 1, noiseMultiplier: 1 }), 20_000, mulberry32(7));
  const delta = new Float32Array(20_000);
  delta[0] = 10; // norm 10, clipped to 1
  buffer.add(delta, 1000, 0.5);
  buffer.add(new Float32Array(20_000), 1, 1);
  const result = buffer.result();
  // Σ = (0.5, 0, …) + N(0, 1): the mean of the noise over 20,000 coordinates is ~0, its std 1/K = 0.5.
  let sq = 0;
  for (let i = 1; i < result.length; i++) sq += result[i] * result[i];
  const std = Math.sqrt(sq / (result.length - 1));
  assert.ok(Math.abs(std - 0.5) < 0.01, `noise std ${std}`);
  assert.equal(buffer.clipped, 1);
  assert.ok(l2Norm(result) > 0);
  assert.equal(buffer.buffered, undefined);
});
