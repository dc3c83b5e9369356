import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStrategy } from './index.js';
import { multiKrum } from './multi-krum.js';

const f32 = (...values: number[]) => Float32Array.from(values);

// n = 6, f = 1: each update is scored by its n − f − 2 = 3 nearest others (squared distances):
//   50 →        17² + 18² + 49² = 289 + 324 + 2401 = 3014   (to 33, 32, 1)
//  −10 →        10² + 11² + 42² = 100 + 121 + 1764 = 1985   (to 0, 1, 32)
//    0 →         1² + 10² + 32² = 1 + 100 + 1024 = 1125     (to 1, −10, 32)
//    1 →         1² + 11² + 31² = 1 + 121 + 961 = 1083      (to 0, −10, 32)
//   32 →         1² + 18² + 31² = 1 + 324 + 961 = 1286      (to 33, 50, 1)
//   33 →         1² + 17² + 32² = 1 + 289 + 1024 = 1314     (to 32, 50, 1)
// Ranked: 1, 0, 32, 33, −10, 50.
const updates = [f32(50), f32(-10), f32(0), f32(1), f32(32), f32(33)];

test('multi-krum averages the m best-scored updates: m = 3 gives (1 + 0 + 32) / 3 = 11', () => {
  // Scoring by the distances to all five others would rank 32 (4074), 33 (4252), 1 first: (32 + 33 + 1) / 3 = 22.
  assert.deepEqual(Array.from(multiKrum(updates, 1, 3)), [11]);
});

test('multi-krum with m = 1 is krum, and with m = n the plain mean', () => {
  assert.deepEqual(Array.from(multiKrum(updates, 1, 1)), [1]);
  // (50 − 10 + 0 + 1 + 32 + 33) / 6 = 106 / 6
  assert.deepEqual(Array.from(multiKrum(updates, 1, 6)), [Math.fround(106 / 6)]);
});

test('the multi-krum strategy averages n − f updates, ignoring the weights each claims', () => {
  // f = 1: the 5 best drop only 50: (−10 + 0 + 1 + 32 + 33) / 5 = 56 / 5 = 11.2 (the weighted mean would be near 50).
  const aggregator = createStrategy({ strategy: 'multi-krum', parameter: 1 }).createAggregator(1);
  updates.forEach((u, i) => aggregator.add(u, i === 0 ? 1e6 : 1));
  assert.deepEqual(Array.from(aggregator.result()), [Math.fround(11.2)]);
  assert.equal(createStrategy({ strategy: 'multi-krum' }).streaming, false);
});

test('multi-krum works per vector: two colluding updates far from three honest ones are left out', () => {
  // n = 5, f = 2: one nearest neighbour each. Honest [0,0], [1,0], [0,1]: scores 1, 1, 1; the attackers
  // [9,9] twice: score 0 each, the best! m = n − f = 3 then takes both attackers and [0,0]:
  // ([9,9] + [9,9] + [0,0]) / 3 = [6,6]. Krum's guarantee needs n > 2f + 2; with f = 1 (two neighbours,
  // m = 4): attackers 0 + 145 = 145 (to [1,0]: 8² + 9²), [0,0] 1 + 1 = 2, [1,0] 1 + 2 = 3, [0,1] 2 + 1 = 3, so the four best are the
  // three honest ones and one attacker: ([0,0] + [1,0] + [0,1] + [9,9]) / 4 = [2.5, 2.5].
  const colluding = [f32(9, 9), f32(0, 0), f32(9, 9), f32(1, 0), f32(0, 1)];
  assert.deepEqual(Array.from(multiKrum(colluding, 2)), [6, 6]);
  assert.deepEqual(Array.from(multiKrum(colluding, 1)), [2.5, 2.5]);
  assert.deepEqual(Array.from(multiKrum(colluding, 1, 3)), [1 / 3, 1 / 3].map(Math.fround));
});

test('multi-krum refuses an m outside 1 … n and a fractional f', () => {
  assert.throws(() => multiKrum(updates, 1, 7), { message: 'multi-krum averages a whole number of updates between 1 and 6, got 7' });
  assert.throws(() => multiKrum(updates, 1, 0), { message: 'multi-krum averages a whole number of updates between 1 and 6, got 0' });
  assert.throws(() => createStrategy({ strategy: 'multi-krum', parameter: 1.5 }), { message: 'multi-krum needs a whole number of Byzantine clients, got 1.5' });
});
