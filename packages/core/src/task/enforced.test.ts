import assert from 'node:assert/strict';
import { test } from 'node:test';
import { titanic } from './builtin/titanic.js';
import { unenforcedSettings } from './enforced.js';

test('a task without privacy settings asks for nothing unenforced', () => {
  assert.deepEqual(unenforcedSettings(titanic), []);
  assert.deepEqual(unenforcedSettings({ privacy: { secureAggregation: false, noiseMultiplier: 0 } }), []);
});

test('every privacy setting not enforced yet is named, each on its own line', () => {
  const issues = unenforcedSettings({ privacy: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 1.1, budget: { epsilon: 3, delta: 1e-5 } } });

  assert.deepEqual(
    issues.map((issue) => issue.split(':')[0]),
    ['privacy.secureAggregation', 'privacy.clippingNorm', 'privacy.noiseMultiplier', 'privacy.budget'],
  );
});
