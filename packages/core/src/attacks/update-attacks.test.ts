import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { alie, alieZ, coordinateMoments, gaussianUpdate, inverseNormalCdf, ipm, signFlip } from './update-attacks.js';

const f32 = (...values: number[]) => Float32Array.from(values);
const close = (actual: number, expected: number, tolerance: number) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

test('sign flip sends −s × the honest update', () => {
  assert.deepEqual(Array.from(signFlip(f32(1, -2, 0.5), 10)), [-10, 20, -5]);
});

test('the normal quantile matches tabulated values', () => {
  close(inverseNormalCdf(0.5), 0, 1e-12);
  close(inverseNormalCdf(0.975), 1.959963985, 1e-8);
  close(inverseNormalCdf(0.01), -2.326347874, 1e-8); // the lower tail branch
  close(inverseNormalCdf(0.999), 3.090232306, 1e-8); // the upper tail, by symmetry
  assert.throws(() => inverseNormalCdf(1), /0 < p < 1/);
});

test("ALIE's z_max follows the paper: n = 8, f = 2 needs s = 3 more, z = Φ⁻¹(5/8)", () => {
  close(alieZ(8, 2), 0.318639364, 1e-8);
  // n = 50, f = 12 (the paper's CIFAR setting): s = 26 − 12 = 14, z = Φ⁻¹(36/50) ≈ 0.583.
  close(alieZ(50, 12), inverseNormalCdf(36 / 50), 1e-12);
});

test('ALIE sends μ − zσ coordinate-wise from the colluders’ honest updates', () => {
  // Coordinate 0: values 1 and 3, μ = 2, σ = 1 → 2 − 1.5 = 0.5. Coordinate 1: −4 and −4, σ = 0 → −4.
  const sent = alie([f32(1, -4), f32(3, -4)], 1.5);
  assert.deepEqual(Array.from(sent), [0.5, -4]);
  const { mean, std } = coordinateMoments([f32(1, -4), f32(3, -4)]);
  assert.deepEqual([...mean, ...std], [2, -4, 1, 0]);
});

test('IPM sends −ε × the mean of the honest updates', () => {
  assert.deepEqual(Array.from(ipm([f32(2, 4), f32(4, -8)], 0.5)), [-1.5, 1]);
});

test('the gaussian attack has the asked standard deviation and no relation to the update', () => {
  const noise = gaussianUpdate(20_000, 3, mulberry32(9));
  const mean = noise.reduce((s, v) => s + v, 0) / noise.length;
  const std = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / noise.length);
  close(mean, 0, 0.1); // 6 standard errors of 3/√20000
  close(std, 3, 0.1);
});
