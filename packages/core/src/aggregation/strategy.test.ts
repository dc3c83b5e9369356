import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStrategy } from './index.js';
import { bufferedUpdateLimit } from './strategy.js';

test('a strategy that keeps every update holds memory ÷ (4 bytes × parameters) of them', () => {
  assert.equal(bufferedUpdateLimit(createStrategy({ strategy: 'median' }), 1_000_000, 1024 ** 3), 268);
  assert.equal(bufferedUpdateLimit(createStrategy({ strategy: 'krum' }), 9, 72), 2);
  assert.equal(bufferedUpdateLimit(createStrategy({ strategy: 'trimmed-mean' }), 9, 71), 1);
});

test('a streaming strategy holds any number of updates', () => {
  assert.equal(bufferedUpdateLimit(createStrategy({ strategy: 'fedavg' }), 1_000_000, 1), Infinity);
});
