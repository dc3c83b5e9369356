import { test } from 'node:test';
import assert from 'node:assert/strict';
import { l2Norm } from '../weights/flat.js';
import { mulberry32 } from '../data/random.js';
import { clipToNorm } from './clipping.js';

test('an update longer than C is scaled to norm C, and the original norm is reported', () => {
  const input = new Float32Array([3, 4]);

  const { update, norm, clipped } = clipToNorm(input, 1);

  assert.equal(norm, 5);
  assert.equal(clipped, true);
  assert.ok(Math.abs(update[0] - 0.6) < 1e-6 && Math.abs(update[1] - 0.8) < 1e-6, `${update[0]}, ${update[1]}`);
  assert.ok(l2Norm(update) <= 1);
});

test('an update within C comes back unchanged, as a copy', () => {
  const input = new Float32Array([0.5, -0.5, 0.5, -0.5]);

  const { update, norm, clipped } = clipToNorm(input, 1);

  assert.equal(norm, 1);
  assert.equal(clipped, false);
  assert.deepEqual([...update], [0.5, -0.5, 0.5, -0.5]);
  assert.notEqual(update, input);
});

test('the input is never modified, and a zero update stays zero', () => {
  const input = new Float32Array([6, 8]);

  clipToNorm(input, 2);
  const zero = clipToNorm(new Float32Array(3), 0.1);

  assert.deepEqual([...input], [6, 8]);
  assert.deepEqual([...zero.update], [0, 0, 0]);
  assert.equal(zero.clipped, false);
});

test('the clipped norm never exceeds C despite float32 rounding, on many random updates', () => {
  const random = mulberry32(11);
  for (let trial = 0; trial < 200; trial++) {
    const input = Float32Array.from({ length: 1 + trial * 7 }, () => (random() < 0.5 ? -1 : 1) * (10 + random() * 10));
    const clip = 0.01 + random() * 3;

    const { update, clipped } = clipToNorm(input, clip);

    assert.ok(clipped);
    const after = l2Norm(update);
    assert.ok(after <= clip, `trial ${trial}: ${after} > ${clip}`);
    assert.ok(after > clip * (1 - 1e-6), `trial ${trial}: ${after} is more than a rounding below ${clip}`);
  }
});

test('a clipping norm that is not positive, or an update with NaN, is refused', () => {
  assert.throws(() => clipToNorm(new Float32Array([1]), 0), RangeError);
  assert.throws(() => clipToNorm(new Float32Array([1]), Number.NaN), RangeError);
  assert.throws(() => clipToNorm(new Float32Array([1]), Infinity), RangeError);
  assert.throws(() => clipToNorm(new Float32Array([1, Number.NaN]), 1), RangeError);
});
