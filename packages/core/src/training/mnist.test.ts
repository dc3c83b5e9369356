import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/init-backend.js';
import { loadBuiltinDataset } from '../data/node/builtin-data.js';
import { evaluateModel } from '../evaluation/evaluate.js';
import { buildModel } from '../model/build.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import { Trainer } from './trainer.js';

before(async () => {
  await initBackend();
});

// The slowest test of the package (about a minute on 2 busy cores): the built-in CNN on the wasm
// backend, which needs our Conv2DBackpropFilter kernel to train at all.
test('the MNIST CNN trained on 6,000 digits reaches ≥ 0.95 on 1,000 test digits, leaking nothing per epoch', async () => {
  const task = getBuiltinTask('mnist');
  assert.ok(task);
  const [train, test] = await Promise.all([
    loadBuiltinDataset('mnist', { split: 'train', limit: 6000 }),
    loadBuiltinDataset('mnist', { split: 'test', limit: 1000 }),
  ]);
  const model = buildModel(task);
  const trainer = new Trainer(model, task.training);
  const epochs = async (n: number) => {
    let seen = 0;
    for await (const event of trainer.train(train, { epochs: n })) if (event.type === 'epoch') seen += 1;
    return seen;
  };
  assert.equal(await epochs(1), 1); // creates the optimizer's state
  const before = tf.memory().numTensors;
  assert.equal(await epochs(2), 2);
  assert.equal(tf.memory().numTensors, before);
  const report = evaluateModel(model, test);
  assert.ok(report.accuracy >= 0.95, `test accuracy ${report.accuracy}`);
});
