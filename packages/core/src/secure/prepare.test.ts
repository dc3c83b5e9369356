import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { titanic } from '../task/builtin/titanic.js';
import { parseTask } from '../task/schema.js';
import { sumModular } from './fixed-point.js';
import { applySecureSum, prepareSecureUpdate, secureEncoding } from './prepare.js';

const secure = parseTask({ ...titanic, id: 'secure-prep', minParticipants: 3, privacy: { secureAggregation: true, clippingNorm: 1 }, aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 100 } });

test('three prepared updates sum to start + the weighted mean of the clipped updates', () => {
  const encoding = secureEncoding(secure, 3, 2);
  const start = new Float32Array([1, -1]);
  const locals = [new Float32Array([1.3, -1]), new Float32Array([1, -0.5]), new Float32Array([4, 3])]; // the last is clipped from norm 5 to 1
  const examples = [10, 30, 500]; // 500 is claimed as W = 100
  const prepared = locals.map((local, i) => prepareSecureUpdate({ start, local, examples: examples[i] }, encoding, mulberry32(i + 1)));

  assert.deepEqual(prepared.map((p) => [p.weight, p.clipped]), [[10, false], [30, false], [100, true]]);
  const { values, totalWeight } = applySecureSum(start, sumModular(prepared.map((p) => p.words)), encoding);
  assert.equal(totalWeight, 140);
  // (10·[0.3, 0] + 30·[0, 0.5] + 100·[0.6, 0.8]) / 140 = [0.45, 0.6786]
  assert.ok(Math.abs(values[0] - (1 + 63 / 140)) < 1e-6 && Math.abs(values[1] - (-1 + 95 / 140)) < 1e-6, `${values.join(", ")}`);
});

test('under DP every weight is 1, each adds N(0, (zC)²/t), and the code covers the noisy norm', () => {
  const noisy = parseTask({ ...secure, privacy: { secureAggregation: true, clippingNorm: 0.5, noiseMultiplier: 2 } });
  const encoding = secureEncoding(noisy, 5, 400);
  assert.equal(encoding.threshold, 3);
  assert.ok(Math.abs(encoding.noiseStd - (2 * 0.5) / Math.sqrt(3)) < 1e-12);
  assert.ok(Math.abs(encoding.code.clipNorm - (0.5 + encoding.noiseStd * 28)) < 1e-12);
  const start = new Float32Array(400);
  const prepared = prepareSecureUpdate({ start, local: new Float32Array(400).fill(0.001), examples: 77 }, encoding, mulberry32(3));
  assert.equal(prepared.weight, 1);
  const { values } = applySecureSum(start, prepared.words, encoding);
  // The noise's sample std over 400 coordinates is within 10% of zC/√t.
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  assert.ok(Math.abs(std / encoding.noiseStd - 1) < 0.1, `std ${std}, expected ${encoding.noiseStd}`);
});
