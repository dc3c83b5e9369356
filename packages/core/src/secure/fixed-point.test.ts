import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { SecureAggregationError } from './errors.js';
import { addModular, decodeSum, encodeUpdate, fixedPointCode, fixedPointScale, fromUint32, roundStochastic, subtractModular, sumModular, toUint32 } from './fixed-point.js';

test('the scale is floor((2^31 − 1 − n) / (n·W·C))', () => {
  assert.equal(fixedPointScale({ clipNorm: 1, maxParticipants: 16 }), Math.floor((2 ** 31 - 1 - 16) / 16));
  assert.equal(fixedPointScale({ clipNorm: 1, maxParticipants: 16 }), 134_217_726);
  assert.equal(fixedPointScale({ clipNorm: 0.5, maxParticipants: 8, maxWeight: 1000 }), Math.floor((2 ** 31 - 1 - 8) / (8 * 1000 * 0.5)));
});

test('bounds that leave no scale ≥ 1, or overflow the sum of weights, are refused', () => {
  assert.throws(() => fixedPointScale({ clipNorm: 2 ** 31, maxParticipants: 2 }), (e: unknown) => e instanceof SecureAggregationError && e.code === 'range');
  assert.throws(() => fixedPointScale({ clipNorm: 1, maxParticipants: 3, maxWeight: 2 ** 30 }), /overflow/);
  assert.throws(() => fixedPointScale({ clipNorm: 0, maxParticipants: 3 }), /clipping norm/);
  assert.throws(() => fixedPointScale({ clipNorm: 1, maxParticipants: 3, maxWeight: 1.5 }), /largest weight/);
});

test('negative numbers travel as their two’s complement mod 2^32 and come back', () => {
  assert.equal(toUint32(-1), 0xffffffff);
  assert.equal(toUint32(-(2 ** 31 - 1)), 0x80000001);
  assert.equal(fromUint32(0xffffffff), -1);
  assert.equal(fromUint32(toUint32(123_456)), 123_456);
  const a = Uint32Array.of(toUint32(-5), 7);
  addModular(a, Uint32Array.of(3, toUint32(-10)));
  assert.deepEqual([...a].map(fromUint32), [-2, -3]);
  subtractModular(a, Uint32Array.of(toUint32(-2), 0));
  assert.deepEqual([...a].map(fromUint32), [0, -3]);
});

test('stochastic rounding goes to one of the two neighbours and is unbiased', () => {
  const random = mulberry32(7);
  for (const v of [2.25, -2.25, -0.7, 5]) {
    let total = 0;
    const trials = 40_000;
    for (let i = 0; i < trials; i++) {
      const q = roundStochastic(v, random);
      assert.ok(q === Math.floor(v) || q === Math.ceil(v));
      total += q;
    }
    // The mean of 40 000 draws of a variable with variance ≤ 1/4 has standard deviation ≤ 0.0025: 0.015 is 6σ.
    assert.ok(Math.abs(total / trials - v) < 0.015, `mean ${total / trials} for ${v}`);
  }
});

test('quantization error of a whole update averages to zero over many encodings', () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 8 });
  const lowRes = { ...code, scale: 10 }; // a coarse scale makes the rounding error large enough to measure
  const random = mulberry32(3);
  const update = Float32Array.from({ length: 20 }, (_, k) => Math.sin(k) / 10);
  const trials = 2000;
  const error = new Float64Array(update.length);
  for (let t = 0; t < trials; t++) {
    const decoded = decodeSum(encodeUpdate({ update }, lowRes, random), lowRes).weightedSum;
    for (let k = 0; k < update.length; k++) error[k] += decoded[k] - update[k];
  }
  // Per coordinate the error is within ±1/scale = ±0.1 (sd ≤ 0.05); averaged over 2000: sd ≤ 0.0011.
  for (const e of error) assert.ok(Math.abs(e / trials) < 0.006, `mean error ${e / trials}`);
});

test('updates are clipped to C before they are weighted, and the weight is an exact last word', () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 4, maxWeight: 100 });
  const encoded = encodeUpdate({ update: Float32Array.of(3, 4), weight: 10 }, code, mulberry32(1));
  assert.equal(encoded.length, 3);
  assert.equal(encoded[2], 10);
  const { weightedSum, totalWeight, mean } = decodeSum(encoded, code);
  assert.equal(totalWeight, 10);
  assert.ok(Math.abs(weightedSum[0] - 6) < 1e-6 && Math.abs(weightedSum[1] - 8) < 1e-6);
  assert.ok(Math.abs(mean[0] - 0.6) < 1e-6 && Math.abs(mean[1] - 0.8) < 1e-6);
});

test('weights outside [0, W] and non-finite updates are refused', () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 4, maxWeight: 100 });
  assert.throws(() => encodeUpdate({ update: Float32Array.of(1), weight: 101 }, code), /weight/);
  assert.throws(() => encodeUpdate({ update: Float32Array.of(1), weight: 2.5 }, code), /weight/);
  assert.throws(() => encodeUpdate({ update: Float32Array.of(Number.NaN) }, code), (e: unknown) => e instanceof SecureAggregationError && e.code === 'range');
});

test('the weighted mean of several clients decodes from their modular sum', () => {
  const code = fixedPointCode({ clipNorm: 10, maxParticipants: 3, maxWeight: 50 });
  const clients = [
    { update: Float32Array.of(1, -2), weight: 10 },
    { update: Float32Array.of(-3, 0.5), weight: 30 },
    { update: Float32Array.of(0, 4), weight: 0 },
  ];
  const random = mulberry32(5);
  const decoded = decodeSum(sumModular(clients.map((c) => encodeUpdate(c, code, random))), code);
  assert.equal(decoded.totalWeight, 40);
  // (10·1 + 30·−3) / 40 = −2, (10·−2 + 30·0.5) / 40 = −0.125; resolution 1/scale per client.
  assert.ok(Math.abs(decoded.mean[0] + 2) < 1e-5 && Math.abs(decoded.mean[1] + 0.125) < 1e-5);
});

test('no overflow at the bound: n clients of weight W, each at norm C on one coordinate, either sign', () => {
  for (const [n, clipNorm, maxWeight] of [[16, 1, 1], [3, 0.37, 1000], [100, 5, 7]] as const) {
    const code = fixedPointCode({ clipNorm, maxParticipants: n, maxWeight });
    const random = mulberry32(n);
    for (const sign of [1, -1]) {
      const encodings = Array.from({ length: n }, () => encodeUpdate({ update: Float32Array.of(sign * clipNorm * 2, 0), weight: maxWeight }, code, random));
      const sum = sumModular(encodings);
      const exact = sign * n * maxWeight * clipNorm;
      const decoded = decodeSum(sum, code);
      assert.ok(Math.abs(decoded.weightedSum[0] - exact) <= n / code.scale + Math.abs(exact) * 1e-6, `${decoded.weightedSum[0]} vs ${exact}`);
      // The modular sum read as int32 is the true integer sum (computed in float64): nothing wrapped.
      assert.equal(fromUint32(sum[0]), encodings.reduce((total, e) => total + fromUint32(e[0]), 0));
      assert.equal(decoded.totalWeight, n * maxWeight);
    }
  }
});

test('the same check catches a wrap when the scale is twice the bound (so the bound is what prevents it)', () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 16 });
  const tooFine = { ...code, scale: code.scale * 2 };
  const encodings = Array.from({ length: 16 }, () => encodeUpdate({ update: Float32Array.of(1) }, tooFine, mulberry32(1)));
  assert.notEqual(fromUint32(sumModular(encodings)[0]), encodings.reduce((total, e) => total + fromUint32(e[0]), 0));
});
