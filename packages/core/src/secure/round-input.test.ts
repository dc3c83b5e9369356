import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { parseTask, type Task } from '../task/schema.js';
import { decodeSum, sumModular } from './fixed-point.js';
import { decodeSecureSum, prepareSecureInput, secureNoiseStd, secureRoundCode } from './round-input.js';

function secureTask(privacy: Record<string, unknown> = {}): Task {
  return parseTask({
    id: 'secure-task',
    title: 'Secure',
    description: 'For tests.',
    dataType: 'tabular',
    tabular: { inputColumns: ['a', 'b'], outputColumn: 'y', labels: ['no', 'yes'] },
    model: { source: 'builtin', architecture: 'tabular-mlp' },
    minParticipants: 3,
    aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 100 },
    privacy: { secureAggregation: true, clippingNorm: 2, ...privacy },
  });
}

test('an input is the update clipped to C, weighted by its examples (at most W), in the round\'s code; the sum decodes to FedAvg', () => {
  const task = secureTask();
  const random = mulberry32(3);
  const updates = [Float32Array.of(3, 4, 0), Float32Array.of(0.5, -0.5, 1), Float32Array.of(-1, 0, 0.25)];
  const samples = [10, 40, 500];
  const prepared = updates.map((u, i) => prepareSecureInput(task, u, { samples: samples[i], participants: 3, random }));
  assert.deepEqual(prepared.map((p) => [p.weight, p.clipped, p.input.length]), [[10, true, 4], [40, false, 4], [100, false, 4]]);
  const code = secureRoundCode(task, 3, 3);
  assert.equal(code.clipNorm, 2);
  assert.equal(code.maxWeight, 100);
  const { delta, samples: total } = decodeSecureSum(task, sumModular(prepared.map((p) => p.input)), 3);
  assert.equal(total, 150);
  // [3,4,0] clipped to norm 2 is [1.2, 1.6, 0].
  const expected = [0, 1, 2].map((k) => ([1.2, 1.6, 0][k] * 10 + [0.5, -0.5, 1][k] * 40 + [-1, 0, 0.25][k] * 100) / 150);
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(delta[k] - expected[k]) < 3 / code.scale, `coordinate ${k}: ${delta[k]} vs ${expected[k]}`);
  assert.deepEqual(decodeSecureSum(task, sumModular(prepared.map((p) => p.input)), 3).delta, decodeSum(sumModular(prepared.map((p) => p.input)), code).mean);
});

test('under DP every input weighs 1 and carries N(0, (zC)²/t) of noise, inside a code wide enough for it', () => {
  const task = secureTask({ noiseMultiplier: 1 });
  assert.equal(secureNoiseStd(task, 4), (1 * 2) / Math.sqrt(3)); // t = 3 of 4
  const d = 20_000;
  const prepared = prepareSecureInput(task, new Float32Array(d), { samples: 50, participants: 4, random: mulberry32(5) });
  assert.equal(prepared.weight, 1);
  const code = secureRoundCode(task, 4, d);
  assert.ok(code.clipNorm > 2 + secureNoiseStd(task, 4) * Math.sqrt(d));
  const { weightedSum, totalWeight } = decodeSum(prepared.input, code);
  assert.equal(totalWeight, 1);
  const variance = weightedSum.reduce((s, v) => s + v * v, 0) / d;
  const std = secureNoiseStd(task, 4);
  assert.ok(Math.abs(Math.sqrt(variance) - std) < 0.03 * std, `noise std ${Math.sqrt(variance)} vs ${std}`);
});
