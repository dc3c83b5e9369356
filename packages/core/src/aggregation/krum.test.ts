import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStrategy } from './index.js';
import { krum } from './krum.js';

const f32 = (...values: number[]) => Float32Array.from(values);
const fill = (value: number) => new Float32Array(4).fill(value);

test("krum (Flower's case): of [0.2]×4, [0.7]×4 and [1.0]×4 with one Byzantine client it picks [0.7]×4", () => {
  // n = 3 < f + 3: the fallback scores 0.2: 3.56, 0.7: 1.36, 1.0: 2.92 (squared distances to all others).
  assert.deepEqual(Array.from(krum([fill(0.2), fill(0.7), fill(1.0)], 1)), Array.from(fill(0.7)));
});

test('krum scores each update by its n − f − 2 nearest neighbours, not by all of them nor by index', () => {
  // n = 6, f = 1: 3 neighbours each. Scores: 5 → 30.14, −1 → 19.85, 0 → 11.25, 0.1 → 10.83, 3.2 → 12.86,
  // 3.3 → 13.14. Summing the distances to all five others would pick 3.2 instead; the first update is 5.
  const updates = [f32(5), f32(-1), f32(0), f32(0.1), f32(3.2), f32(3.3)];
  assert.deepEqual(Array.from(krum(updates, 1)), [Math.fround(0.1)]);
});

test('krum with too few updates for f falls back to the medoid: colluding identical outliers do not win', () => {
  // n = 4 < f + 3 = 5. With one neighbour each, the two identical [100]s would score 0 and win; summed
  // over all others: 100 → 19 801, 0 → 20 001, 1 → 19 603.
  assert.deepEqual(Array.from(krum([f32(100), f32(100), f32(0), f32(1)], 2)), [1]);
});

test('krum picks an update far from index 0 when it is the one closest to the others', () => {
  // n = 4, f = 1: one neighbour each. Scores: 50 → 2 470.09 (to 0.3), 0.3 → 0.04, 0.1 → 0.01, 0 → 0.01:
  // 0.1 and 0 tie at 0.01 and the earlier one, 0.1, wins.
  assert.deepEqual(Array.from(krum([f32(50), f32(0.3), f32(0.1), f32(0)], 1)), [Math.fround(0.1)]);
});

test('krum returns a copy of the one update it is given', () => {
  const only = f32(1, 2);
  const result = krum([only], 3);
  assert.deepEqual(Array.from(result), [1, 2]);
  assert.notEqual(result, only);
});

test('krum refuses no update and a number of Byzantine clients that is not a whole number', () => {
  assert.throws(() => krum([], 0), { message: 'no update to aggregate' });
  assert.throws(() => krum([f32(1)], 0.5), { message: 'krum needs a whole number of Byzantine clients, got 0.5' });
});

test('the krum strategy reads f from the task and ignores sample weights', () => {
  const aggregator = createStrategy({ strategy: 'krum', parameter: 1 }).createAggregator(1);
  [5, -1, 0, 0.1, 3.2, 3.3].forEach((v, i) => aggregator.add(f32(v), i === 0 ? 1000 : 1));
  assert.deepEqual(Array.from(aggregator.result()), [Math.fround(0.1)]);
});
