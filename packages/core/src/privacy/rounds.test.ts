import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../data/random.js';
import { titanic } from '../task/builtin/titanic.js';
import type { Task } from '../task/schema.js';
import { l2Norm } from '../weights/flat.js';
import { computeEpsilon } from './accountant.js';
import { accountRound, budgetExhaustedMessage, createRoundAggregator, privacyState } from './rounds.js';

const withPrivacy = (privacy: Partial<Task['privacy']>): Task => ({ ...titanic, privacy: { ...titanic.privacy, ...privacy } });

test('clipping alone: an update above C is clipped and counted, the weights stay the examples claimed', () => {
  const aggregator = createRoundAggregator(withPrivacy({ clippingNorm: 1 }), 2);
  aggregator.add(new Float32Array([30, 40]), 3); // norm 50 → [0.6, 0.8]
  aggregator.add(new Float32Array([0, 0.5]), 1);

  const mean = aggregator.result();

  assert.equal(aggregator.clipped, 1);
  assert.ok(Math.abs(mean[0] - (3 * 0.6) / 4) < 1e-6 && Math.abs(mean[1] - (3 * 0.8 + 0.5) / 4) < 1e-6, `${mean[0]}, ${mean[1]}`);
});

test('central noise: weight 1 per update, and aggregate·m − Σ clipped has std zC on every coordinate', () => {
  const size = 20_000;
  const [clip, z, m] = [0.5, 2, 4];
  const aggregator = createRoundAggregator(withPrivacy({ clippingNorm: clip, noiseMultiplier: z }), size, mulberry32(3));
  const updates = Array.from({ length: m }, (_, k) => Float32Array.from({ length: size }, (_, i) => (i % 7 === k ? 1 : 0)));
  let sum = new Float64Array(size);
  updates.forEach((update, k) => {
    aggregator.add(update, 1000 * (k + 1)); // claimed examples are ignored under noise
    const scale = Math.min(1, clip / l2Norm(update));
    sum = sum.map((s, i) => s + update[i] * scale);
  });

  const noisy = aggregator.result();
  const noise = Array.from(noisy, (value, i) => value * m - sum[i]);
  const mean = noise.reduce((a, b) => a + b, 0) / size;
  const std = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / (size - 1));

  assert.equal(aggregator.clipped, m); // every update had norm ~53 > 0.5
  // The sample std of 20,000 normals is within 2% of σ = zC = 1 with probability > 0.999 (its sd is σ/√(2n) = 0.5%).
  assert.ok(Math.abs(std - z * clip) < 0.02, `std ${std}`);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
});

test('a task without privacy settings aggregates with its strategy unchanged', () => {
  const aggregator = createRoundAggregator(titanic, 1);
  aggregator.add(new Float32Array([10]), 1);
  aggregator.add(new Float32Array([0]), 3);

  assert.deepEqual([...aggregator.result()], [2.5]);
  assert.equal(aggregator.clipped, 0);
});

test('each closed round is one accountant step: ε after k rounds equals computeEpsilon(q, z, k, δ)', () => {
  const task = withPrivacy({ clippingNorm: 1, noiseMultiplier: 1.1, samplingRate: 0.5, delta: 1e-6 });
  let stored = null;
  for (let k = 1; k <= 3; k++) {
    const account = accountRound(task, stored);
    assert.ok(account);
    assert.equal(account.epsilon, computeEpsilon({ q: 0.5, z: 1.1, steps: k, delta: 1e-6 }).epsilon);
    // Stored as JSON and read back, as the server does.
    stored = JSON.parse(JSON.stringify(account.accountant)) as typeof account.accountant;
  }
  assert.equal(accountRound(withPrivacy({ clippingNorm: 1 }), null), null);
});

test('the budget is exhausted once one more round would exceed it, and the refusal names both ε', () => {
  // q = 1, z = 2, δ = 1e-5: RDP α/8 per round; one round costs ε = 2.53 (α = 11), two 3.65 (α = 8) > 3.5.
  const task = withPrivacy({ clippingNorm: 1, noiseMultiplier: 2, budget: { epsilon: 3.5 } });
  const one = accountRound(task, null)!;

  assert.deepEqual(privacyState(task, null), { epsilon: 0, delta: 1e-5, budget: 3.5, exhausted: false });
  const after = privacyState(task, one.accountant)!;
  assert.equal(after.exhausted, true);
  assert.equal(after.epsilon, computeEpsilon({ q: 1, z: 2, steps: 1, delta: 1e-5 }).epsilon);
  assert.equal(
    budgetExhaustedMessage({ id: 'titanic' }, after),
    `task "titanic" has spent its privacy budget: ε = ${Number(after.epsilon.toPrecision(4))} of ε = 3.5 at δ = 0.00001, and one more round would exceed it; no further round opens`,
  );
  assert.equal(privacyState(titanic, null), undefined);
});
