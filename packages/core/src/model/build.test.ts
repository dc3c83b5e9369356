import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/init-backend.js';
import { buildModel } from './build.js';
import { checkModelForTask } from './check.js';
import { taskFeatureShape } from '../data/feature-shape.js';
import { getFlatWeights, setFlatWeights } from './flat-weights.js';
import { imageTask, tabularTask } from './test-tasks.js';

before(async () => {
  await initBackend();
});

test('the toy task reads 3 numbers and a one-hot column of 3 categories', () => {
  assert.deepEqual(taskFeatureShape(tabularTask()), [3 + 3]);
});

test('every built-in architecture builds with the task input shape and one output per label', () => {
  const cases = [
    [tabularTask(), [null, 6], 2],
    [tabularTask({ model: { source: 'builtin', architecture: 'tabular-mlp', hiddenUnits: [4] } }), [null, 6], 2],
    [imageTask(), [null, 28, 28, 1], 10],
    [imageTask({ model: { source: 'builtin', architecture: 'image-mlp' } }), [null, 28, 28, 1], 10],
    [imageTask({ image: { width: 32, height: 32, channels: 3, labels: ['a', 'b', 'c'] }, model: { source: 'builtin', architecture: 'cifar10-cnn' } }), [null, 32, 32, 3], 3],
  ] as const;
  for (const [task, input, classes] of cases) {
    const model = buildModel(task);
    assert.deepEqual(model.inputs[0].shape, input);
    assert.deepEqual(model.outputs[0].shape, [null, classes]);
    checkModelForTask(model, task);
    model.dispose();
  }
});

test('the same seed builds the same weights; another seed other weights', () => {
  const a = getFlatWeights(buildModel(tabularTask()));
  const b = getFlatWeights(buildModel(tabularTask()));
  const c = getFlatWeights(buildModel(tabularTask({ training: { seed: 7 } })));
  assert.deepEqual(b.shapes, a.shapes);
  assert.deepEqual(b.values, a.values);
  assert.notDeepEqual(c.values, a.values);
  assert.deepEqual(a.shapes.map((s) => s.name), ['hidden_1/kernel', 'hidden_1/bias', 'hidden_2/kernel', 'hidden_2/bias', 'output/kernel', 'output/bias']);
});

test('layers of equal shape are initialised differently', () => {
  const task = tabularTask({ model: { source: 'builtin', architecture: 'tabular-mlp', hiddenUnits: [6, 6] } });
  const { values, shapes } = getFlatWeights(buildModel(task));
  const kernel1 = values.subarray(0, 36);
  const kernel2 = values.subarray(42, 78);
  assert.deepEqual(shapes[2].shape, [6, 6]);
  assert.notDeepEqual(kernel1, kernel2);
});

test('checkModelForTask names the input shape that differs', () => {
  const model = buildModel(tabularTask());
  const narrower = tabularTask({ preprocessing: [{ type: 'one-hot', column: 'colour', categories: ['red', 'green'] }] });
  assert.throws(() => checkModelForTask(model, narrower), {
    name: 'ModelError',
    message: 'model input shape [null,6] does not match the task: expected [null,5]',
  });
});

test('checkModelForTask names the output classes that differ', () => {
  const model = buildModel(tabularTask());
  const threeClasses = tabularTask({ tabular: { inputColumns: ['a', 'b', 'c', 'colour'], outputColumn: 'y', labels: ['x', 'y', 'z'] } });
  assert.throws(() => checkModelForTask(model, threeClasses), {
    name: 'ModelError',
    message: 'model output shape [null,2] does not match the task: expected [null,3] (3 classes: x, y, z)',
  });
});

test('flat weights round-trip into another model of the same task', () => {
  const source = buildModel(tabularTask());
  const target = buildModel(tabularTask({ training: { seed: 1 } }));
  const x = tf.tensor2d([[1, 2, 3, 0, 1, 0]]);
  setFlatWeights(target, getFlatWeights(source));
  assert.deepEqual(getFlatWeights(target).values, getFlatWeights(source).values);
  assert.deepEqual((target.predict(x) as tf.Tensor).arraySync(), (source.predict(x) as tf.Tensor).arraySync());
});

test('setFlatWeights refuses weights of other shapes and keeps the model as it was', () => {
  const model = buildModel(tabularTask());
  const before = getFlatWeights(model).values;
  const other = getFlatWeights(buildModel(tabularTask({ model: { source: 'builtin', architecture: 'tabular-mlp', hiddenUnits: [16, 16] } })));
  assert.throws(() => setFlatWeights(model, other), {
    name: 'ModelError',
    message: 'weights do not fit the model: weight 0 (hidden_1/kernel) has shape [6,16], expected [6,32]',
  });
  const short = getFlatWeights(model);
  assert.throws(() => setFlatWeights(model, { ...short, values: short.values.subarray(1) }), {
    message: `weights do not fit the model: ${short.values.length - 1} values, expected ${short.values.length}`,
  });
  assert.deepEqual(getFlatWeights(model).values, before);
});

test('a task with an uploaded model cannot be built', () => {
  assert.throws(() => buildModel(tabularTask({ model: { source: 'tfjs' } })), {
    name: 'ModelError',
    message: 'task "toy-table" brings its own TF.js model; load it instead of building one',
  });
});
