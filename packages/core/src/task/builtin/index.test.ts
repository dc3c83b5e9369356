import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTask } from '../schema.js';
import { builtinTasks, getBuiltinTask } from './index.js';

test('the built-in tasks are valid and documented', () => {
  assert.deepEqual(builtinTasks.map((t) => t.id), ['titanic', 'mnist', 'cifar10', 'shakespeare']);
  for (const task of builtinTasks) {
    assert.deepEqual(parseTask(task), task);
    assert.ok(task.description.length > 50);
    assert.ok(task.dataFormat.length > 50);
    assert.ok(task.sample);
    assert.equal(task.scheme, 'federated');
  }
});

test('the built-in tasks bound the examples one update may claim by their whole data set', () => {
  assert.deepEqual(
    builtinTasks.map((t) => [t.id, t.aggregation.maxSamplesPerUpdate]),
    [['titanic', 1309], ['mnist', 60000], ['cifar10', 50000], ['shakespeare', 1369]],
  );
});

test('getBuiltinTask returns a copy, or undefined for an unknown id', () => {
  const task = getBuiltinTask('mnist')!;
  task.training.rounds = 1;
  assert.equal(getBuiltinTask('mnist')!.training.rounds, 5);
  assert.equal(getBuiltinTask('nope'), undefined);
});
