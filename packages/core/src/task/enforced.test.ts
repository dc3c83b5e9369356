import assert from 'node:assert/strict';
import { test } from 'node:test';
import { titanic } from './builtin/titanic.js';
import { taskCreationIssues, unenforcedSettings } from './enforced.js';
import { aggregationStrategies } from './schema.js';

test('a task without privacy settings asks for nothing unenforced', () => {
  assert.deepEqual(unenforcedSettings(titanic), []);
  assert.deepEqual(unenforcedSettings({ privacy: { secureAggregation: false, delta: 1e-5, noiseMultiplier: 0 } }), []);
});

test('clipping, noise, sampling, a budget and secure aggregation (federated and decentralized) are enforced', () => {
  assert.deepEqual(unenforcedSettings({ privacy: { secureAggregation: false, delta: 1e-5, clippingNorm: 1, noiseMultiplier: 1.1, samplingRate: 0.5, budget: { epsilon: 3 } } }), []);
  assert.deepEqual(unenforcedSettings({ scheme: 'federated', privacy: { secureAggregation: true, delta: 1e-5, clippingNorm: 1 } }), []);
  assert.deepEqual(unenforcedSettings({ scheme: 'decentralized', privacy: { secureAggregation: true, delta: 1e-5, clippingNorm: 1 } }), []);
  const secureTitanic = { ...titanic, minParticipants: 3, privacy: { secureAggregation: true, clippingNorm: 1 } };
  assert.equal(taskCreationIssues(secureTitanic, false).ok, true);
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

test('a server optimizer is accepted for federated tasks and refused for decentralized ones, which have no server step', () => {
  assert.equal(taskCreationIssues({ ...titanic, aggregation: { serverOptimizer: { name: 'adam', learningRate: 0.01 } } }, false).ok, true);
  const result = taskCreationIssues({ ...titanic, scheme: 'decentralized', aggregation: { serverOptimizer: { name: 'momentum' } } }, false);
  assert.deepEqual(!result.ok && result.errors, ['aggregation.serverOptimizer: only federated rounds apply a server optimizer, not decentralized ones; leave it unset']);
  assert.equal(taskCreationIssues({ ...titanic, scheme: 'decentralized', aggregation: { serverOptimizer: { name: 'sgd' } } }, false).ok, true);
});

test('every strategy the schema names is built, bucketed or not', () => {
  for (const strategy of aggregationStrategies) {
    assert.equal(taskCreationIssues({ ...titanic, aggregation: { strategy } }, false).ok, true, strategy);
    if (strategy !== 'fedavg') assert.equal(taskCreationIssues({ ...titanic, aggregation: { strategy, bucketing: { size: 2 } } }, false).ok, true, strategy);
  }
});
