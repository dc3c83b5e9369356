import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { addGaussianNoise, cryptoRandom, gaussian, gaussianNoiseStd, splitNoiseStd, survivingNoiseMultiplier } from './noise.js';

const DRAWS = 100_000;

/** Mean and (population) standard deviation, in double precision. */
function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

// Tolerances over 100k draws: the standard error of the mean is 1/√100000 ≈ 0.0032 σ and that of the
// standard deviation ≈ 1/√200000 ≈ 0.0022 σ; the bounds below are about 4.5 standard errors.
const MEAN_TOLERANCE = 0.015;
const STD_TOLERANCE = 0.01;

test('seeded Box–Muller draws: mean ≈ 0 (±0.015), std ≈ 1 (±0.01), 68.3% within 1σ (±0.6%), 4.55% beyond 2σ (±0.3%)', () => {
  const normal = gaussian(mulberry32(1));

  const draws = Float64Array.from({ length: DRAWS }, normal);

  const { mean, std } = moments(draws);
  assert.ok(Math.abs(mean) < MEAN_TOLERANCE, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < STD_TOLERANCE, `std ${std}`);
  const within1 = draws.filter((x) => Math.abs(x) < 1).length / DRAWS;
  const beyond2 = draws.filter((x) => Math.abs(x) > 2).length / DRAWS;
  assert.ok(Math.abs(within1 - 0.6827) < 0.006, `within 1σ: ${within1}`);
  assert.ok(Math.abs(beyond2 - 0.0455) < 0.003, `beyond 2σ: ${beyond2}`);
});

test('the same seed gives the same draws', () => {
  const a = gaussian(mulberry32(5));
  const b = gaussian(mulberry32(5));

  assert.deepEqual(Array.from({ length: 11 }, a), Array.from({ length: 11 }, b));
});

test('the crypto source is uniform in [0, 1) (mean 0.5 ± 0.005) and feeds std-1 draws (± 0.01)', () => {
  const random = cryptoRandom();

  const uniforms = Float64Array.from({ length: DRAWS }, random);
  const normals = Float64Array.from({ length: DRAWS }, gaussian());

  assert.ok(uniforms.every((u) => u >= 0 && u < 1));
  assert.ok(Math.abs(moments(uniforms).mean - 0.5) < 0.005);
  assert.ok(new Set(uniforms).size === DRAWS, 'no repeated 53-bit value in 100k draws');
  const { mean, std } = moments(normals);
  assert.ok(Math.abs(mean) < MEAN_TOLERANCE, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < STD_TOLERANCE, `std ${std}`);
});

test('σ = z·C; the split share is σ/√n; the surviving multiplier is z·√(m/n)', () => {
  assert.equal(gaussianNoiseStd(0.5, 1.1), 0.55);
  assert.equal(gaussianNoiseStd(2, 0), 0);
  assert.equal(splitNoiseStd(1, 2, 4), 1);
  assert.equal(splitNoiseStd(3, 1, 9), 1);
  assert.ok(Math.abs(survivingNoiseMultiplier(1.2, 16, 12) - 1.0392304845413263) < 1e-15);
  assert.equal(survivingNoiseMultiplier(1, 5, 5), 1);
});

test('central noise on a sum: std σ = z·C (±1%), mean 0 (±0.015σ), the sum itself untouched', () => {
  const sum = new Float32Array(DRAWS).fill(3);
  const sigma = gaussianNoiseStd(0.5, 1.1);

  const noisy = addGaussianNoise(sum, sigma, mulberry32(2));

  const noise = noisy.map((v, i) => v - sum[i]);
  const { mean, std } = moments(noise);
  assert.ok(Math.abs(mean) < MEAN_TOLERANCE * sigma, `mean ${mean}`);
  assert.ok(Math.abs(std / sigma - 1) < STD_TOLERANCE, `std ${std} vs ${sigma}`);
  assert.ok(sum.every((v) => v === 3));
  assert.deepEqual(addGaussianNoise(sum, sigma, mulberry32(2)), noisy);
});

test('split noise: 8 clients adding σ/√8 each give a sum whose noise has std σ (±1%), mean 0 (±0.015σ)', () => {
  const clients = 8;
  const sigma = gaussianNoiseStd(1, 1.1);
  const share = splitNoiseStd(1, 1.1, clients);
  const total = new Float64Array(DRAWS);

  for (let c = 0; c < clients; c++) {
    const noisy = addGaussianNoise(new Float32Array(DRAWS), share, mulberry32(100 + c));
    assert.ok(Math.abs(moments(noisy).std / share - 1) < STD_TOLERANCE, `client ${c}`);
    for (let i = 0; i < DRAWS; i++) total[i] += noisy[i];
  }

  const { mean, std } = moments(total);
  assert.ok(Math.abs(mean) < MEAN_TOLERANCE * sigma, `mean ${mean}`);
  assert.ok(Math.abs(std / sigma - 1) < STD_TOLERANCE, `std ${std} vs ${sigma}`);
});

test('a negative or non-finite setting is refused', () => {
  assert.throws(() => gaussianNoiseStd(0, 1), RangeError);
  assert.throws(() => gaussianNoiseStd(1, -1), RangeError);
  assert.throws(() => splitNoiseStd(1, 1, 0), RangeError);
  assert.throws(() => splitNoiseStd(1, 1, 2.5), RangeError);
  assert.throws(() => survivingNoiseMultiplier(1, 4, 5), RangeError);
  assert.throws(() => addGaussianNoise(new Float32Array(1), Number.NaN), RangeError);
});
