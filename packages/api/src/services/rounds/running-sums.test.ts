// RunningSums (decision 0016): a cache of each open round's aggregate, used by the close only for updates it
// knows are stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskInput } from '@disco/core';
import { testTask } from '../../../test/helpers.js';
import { RunningSums } from './running-sums.js';

const task = (overrides: Partial<TaskInput> = {}) => ({ task: testTask(overrides), parameterCount: 2 });

test('a running sum holds the recorded updates: the close gets their weighted mean and which rows it holds', () => {
  const sums = new RunningSums();
  const stored = task();
  sums.add(stored, 7, 1, 101, Float32Array.of(1, 2), 1);
  sums.add(stored, 7, 1, 102, Float32Array.of(4, 8), 3);
  const running = sums.take(7, [{ id: 101 }, { id: 102 }, { id: 103 }]);
  assert.deepEqual([...running!.holds], [101, 102], 'row 103 (another instance recorded it) is read by the close');
  assert.deepEqual([...running!.aggregator.result()], [(1 + 12) / 4, (2 + 24) / 4]);
  assert.equal(sums.take(7, [{ id: 101 }, { id: 102 }]), undefined, 'taken once');
});

test('a running sum holding an update that is not stored is not used', () => {
  const sums = new RunningSums();
  sums.add(task(), 7, 1, 101, Float32Array.of(1, 2), 1);
  sums.add(task(), 7, 1, 102, Float32Array.of(1, 2), 1);
  assert.equal(sums.take(7, [{ id: 101 }]), undefined);
});

test('robust rules keep no running sum (they need every update at the close); forgetting drops sums', () => {
  const sums = new RunningSums();
  sums.add(task({ aggregation: { strategy: 'median' } }), 1, 1, 1, Float32Array.of(1, 2), 1);
  assert.equal(sums.take(1, [{ id: 1 }]), undefined);
  for (const [roundId, round] of [
    [2, 1],
    [3, 2],
    [4, 3],
  ])
    sums.add(task(), roundId, round, roundId * 10, Float32Array.of(1, 2), 1);
  sums.forgetTask('test-task', 2);
  assert.equal(sums.take(2, [{ id: 20 }]), undefined, 'round 1 closed');
  assert.equal(sums.take(3, [{ id: 30 }]), undefined, 'round 2 closed');
  assert.ok(sums.take(4, [{ id: 40 }]), 'round 3 still open');
  sums.add(task(), 5, 4, 50, Float32Array.of(1, 2), 1);
  sums.forget(5);
  assert.equal(sums.take(5, [{ id: 50 }]), undefined);
});
