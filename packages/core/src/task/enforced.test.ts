import assert from 'node:assert/strict';
import { test } from 'node:test';
import { titanic } from './builtin/titanic.js';
import { taskCreationIssues, unenforcedSettings } from './enforced.js';

test('a task without privacy settings asks for nothing unenforced', () => {
  assert.deepEqual(unenforcedSettings(titanic), []);
  assert.deepEqual(unenforcedSettings({ privacy: { secureAggregation: false, delta: 1e-5, noiseMultiplier: 0 } }), []);
});

test('clipping, noise, sampling and a budget are enforced: only secure aggregation is still refused', () => {
  assert.deepEqual(unenforcedSettings({ privacy: { secureAggregation: false, delta: 1e-5, clippingNorm: 1, noiseMultiplier: 1.1, samplingRate: 0.5, budget: { epsilon: 3 } } }), []);
  assert.deepEqual(
    unenforcedSettings({ privacy: { secureAggregation: true, delta: 1e-5, clippingNorm: 1 } }).map((issue) => issue.split(':')[0]),
    ['privacy.secureAggregation'],
  );
});

test('a budget that the first round already exceeds is refused at creation, with the ε one round costs', () => {
  // q = 1, z = 1, one step: ε = min over the orders of α/2 + ln(1e5)/(α − 1), at α = 6: 3 + 2.3026 = 5.303.
  const result = taskCreationIssues({ ...titanic, privacy: { clippingNorm: 1, noiseMultiplier: 1, budget: { epsilon: 2 } } }, false);

  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.errors, [
    'privacy.budget: one round costs ε = 5.303 at δ = 0.00001 (samplingRate 1, noiseMultiplier 1), more than the budget ε = 2; raise the budget or the noise multiplier, or lower the sampling rate',
  ]);
  assert.equal(taskCreationIssues({ ...titanic, privacy: { clippingNorm: 1, noiseMultiplier: 1, budget: { epsilon: 6 } } }, false).ok, true);
});
