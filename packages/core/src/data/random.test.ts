import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, seededPermutation } from './random.js';

test('the same seed gives the same numbers, in [0, 1)', () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const values = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(values, Array.from({ length: 1000 }, () => b()));
  assert.ok(values.every((v) => v >= 0 && v < 1));
  assert.notDeepEqual(values.slice(0, 5), Array.from({ length: 5 }, mulberry32(8)));
});

test('a seeded permutation holds every index once', () => {
  const p = seededPermutation(100, 3);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(p, seededPermutation(100, 3));
});
