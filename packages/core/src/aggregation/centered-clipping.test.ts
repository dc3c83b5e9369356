import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centeredClipping } from './centered-clipping.js';
import { createStrategy } from './index.js';

const f32 = (...values: number[]) => Float32Array.from(values);
const close = (actual: Float32Array, expected: number[]) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-6, `value ${i}: ${value}, expected ${expected[i]}`));
};

test('centered clipping, τ = 2, from 0: each iteration moves the centre by the mean of the clipped differences', () => {
  const updates = [f32(1), f32(2), f32(100)];
  // v₀ = 0. L = 1: differences 1, 2, 100 → clipped 1, 2, 2 → v₁ = 5/3 (the mean would be 103/3, the median 2).
  close(centeredClipping(updates, { radius: 2, iterations: 1 }), [5 / 3]);
  // L = 2: differences 1 − 5/3 = −2/3, 2 − 5/3 = 1/3, 100 − 5/3 → 2 → v₂ = 5/3 + (−2/3 + 1/3 + 2)/3 = 5/3 + 5/9 = 20/9.
  close(centeredClipping(updates, { radius: 2, iterations: 2 }), [20 / 9]);
  // L = 3 (the default): differences −11/9, −2/9, → 2 → v₃ = 20/9 + (−13/9 + 2)/3 = 20/9 + 5/27 = 65/27.
  close(centeredClipping(updates, { radius: 2 }), [65 / 27]);
});

test('centered clipping clips the L2 norm of a whole difference, not each coordinate', () => {
  // τ = 1, L = 1, v₀ = 0: [3, 4] (norm 5) → [0.6, 0.8]; [0.5, 0] stays; [0, −2] (norm 2) → [0, −1].
  // v₁ = ([0.6, 0.8] + [0.5, 0] + [0, −1]) / 3 = [1.1/3, −0.2/3]. Clipping each coordinate to ±1 would give [2.5/3, 0].
  close(centeredClipping([f32(3, 4), f32(0.5, 0), f32(0, -2)], { radius: 1, iterations: 1 }), [1.1 / 3, -0.2 / 3]);
});

test('centered clipping starts from a given centre', () => {
  // v₀ = 10, τ = 2, L = 1: differences −9, −8, 90 → clipped −2, −2, 2 → v₁ = 10 − 2/3 = 28/3.
  close(centeredClipping([f32(1), f32(2), f32(100)], { radius: 2, iterations: 1, start: f32(10) }), [28 / 3]);
});

test('without a radius, each iteration clips to the median distance to the centre', () => {
  // L = 1: distances 1, 2, 100 → τ = 2 → v₁ = 5/3 (as with τ = 2).
  // L = 2: distances 2/3, 1/3, 295/3 → τ = 2/3 → differences −2/3, 1/3, 2/3 → v₂ = 5/3 + (1/3)/3 = 16/9.
  close(centeredClipping([f32(1), f32(2), f32(100)], { iterations: 2 }), [16 / 9]);
  // Even count: the mean of the two middle distances. [1], [3], [5], [101] from 0: τ = (3 + 5)/2 = 4 →
  // 1, 3, 4, 4 → v₁ = 12/4 = 3.
  close(centeredClipping([f32(1), f32(3), f32(5), f32(101)], { iterations: 1 }), [3]);
});

test('the centered-clipping strategy reads τ from the task, iterates 3 times from 0 and ignores weights', () => {
  const strategy = createStrategy({ strategy: 'centered-clipping', parameter: 2 });
  const aggregator = strategy.createAggregator(1);
  aggregator.add(f32(1), 1);
  aggregator.add(f32(2), 1);
  aggregator.add(f32(100), 1e9);
  close(aggregator.result(), [65 / 27]);
  assert.equal(strategy.streaming, false);
});

test('centered clipping refuses a radius that is not positive, a bad iteration count and a wrong start', () => {
  assert.throws(() => createStrategy({ strategy: 'centered-clipping', parameter: 0 }), { message: 'centered clipping needs a positive clipping radius, got 0' });
  assert.throws(() => centeredClipping([f32(1)], { iterations: 0 }), {
    message: 'centered clipping needs a whole number of iterations of at least 1, got 0',
  });
  assert.throws(() => centeredClipping([f32(1)], { start: f32(1, 2) }), { message: 'start has 2 values, expected 1' });
  assert.throws(() => centeredClipping([]), { message: 'no update to aggregate' });
});
