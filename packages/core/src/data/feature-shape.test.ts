import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinTasks } from '../task/builtin/index.js';
import { taskFeatureShape } from './feature-shape.js';

test('the feature shape of each built-in task is its model input shape', () => {
  assert.deepEqual(builtinTasks.map(taskFeatureShape), [[19], [28, 28, 1], [32, 32, 3], [64]]);
});
