import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTask, validateTask, type TaskInput } from './schema.js';

const minimal: TaskInput = {
  id: 'heart-disease',
  title: 'Heart disease',
  description: 'Predict **heart disease** from four measurements.',
  dataType: 'tabular',
  tabular: { inputColumns: ['age', 'chol'], outputColumn: 'target', labels: ['0', '1'] },
  model: { source: 'builtin', architecture: 'tabular-mlp' },
};

test('an asynchronous task gets FedBuff defaults', () => {
  const task = parseTask({ ...minimal, mode: 'async' });
  assert.equal(task.mode, 'async');
  assert.deepEqual(task.async, { bufferSize: 4, maxStaleness: 10, stalenessWeighting: 'polynomial', stalenessExponent: 0.5 });
});

test('asynchronous training is refused with secure aggregation and with sampling, saying why', () => {
  const result = validateTask({
    ...minimal,
    mode: 'async',
    minParticipants: 3,
    aggregation: { maxSamplesPerUpdate: 100 },
    privacy: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 1, samplingRate: 0.5 },
  });
  assert.deepEqual(!result.ok && result.errors, [
    'privacy.secureAggregation: secure aggregation needs the members of a sum to run the protocol together (keys, shares, masked inputs, unmasking), which asynchronous participants never do: not available with mode "async"; use mode "sync"',
    'privacy.samplingRate: sampling draws each participant for each round; an asynchronous task has no rounds to draw for, so the accountant would count a rate nobody used: not available with mode "async" (each version is accounted at q = 1)',
  ]);
});

test('asynchronous training takes central DP and robust strategies', () => {
  assert.equal(validateTask({ ...minimal, mode: 'async', privacy: { clippingNorm: 1, noiseMultiplier: 1, samplingRate: 1 } }).ok, true);
  assert.equal(validateTask({ ...minimal, mode: 'async', aggregation: { strategy: 'median', bucketing: { size: 2 } } }).ok, true);
});

test('asynchronous training is refused for decentralized tasks (decision 0013)', () => {
  const result = validateTask({ ...minimal, mode: 'async', scheme: 'decentralized' });
  assert.deepEqual(!result.ok && result.errors, ['mode: asynchronous training applies to federated tasks only (this one is decentralized; see decision 0013)']);
});
