import { test } from 'node:test';
import assert from 'node:assert/strict';
import { krum } from '@disco/core';
import { aggregateInWorker } from './aggregation-thread.js';

test('a worker thread returns the strategy\'s aggregate, and the updates were transferred (this thread holds none)', async () => {
  const updates = [
    Float32Array.from([1, 1, 1]),
    Float32Array.from([1.1, 0.9, 1]),
    Float32Array.from([0.9, 1, 1.1]),
    Float32Array.from([50, -50, 50]),
  ];
  const expected = krum(updates, 1);
  const delta = await aggregateInWorker({ settings: { strategy: 'krum', parameter: 1 }, updates, weights: [1, 1, 1, 1] });
  assert.deepEqual(Array.from(delta), Array.from(expected));
  assert.deepEqual(updates.map((u) => u.byteLength), [0, 0, 0, 0]);
});

test('a strategy that throws in the worker rejects with its message', async () => {
  const job = { settings: { strategy: 'krum' as const, parameter: 1.5 }, updates: [Float32Array.from([1])], weights: [1] };
  await assert.rejects(aggregateInWorker(job), { message: 'krum needs a whole number of Byzantine clients, got 1.5' });
});
