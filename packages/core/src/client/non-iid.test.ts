import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import type { Dataset } from '../data/dataset.js';
import { buildModel, getFlatWeights, setFlatWeights } from '../model/index.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import type { Task } from '../task/schema.js';
import { Trainer } from '../training/index.js';
import { absentClasses, lookahead, maskClasses, outputBiasOffset, unmaskClasses } from './non-iid.js';

before(async () => {
  await initBackend();
});

/** `count` examples of 2 features, of classes `labels` in turn (of 3 classes). */
function examples(labels: number[], count: number): Dataset {
  const features = Float32Array.from({ length: count * 2 }, (_, i) => ((i * 7919) % 13) / 13);
  return { features, featureShape: [2], labels: Int32Array.from({ length: count }, (_, i) => labels[i % labels.length]), classes: ['a', 'b', 'c'], count };
}

describe('absentClasses', () => {
  test('lists the classes with no example', () => {
    assert.deepEqual(absentClasses(examples([1], 5)), [0, 2]);
    assert.deepEqual(absentClasses({ ...examples([1], 5), labels: null }), []);
  });
});

describe('maskClasses / unmaskClasses', () => {
  test('an absent class gets no gradient: its output weights come back unchanged', async () => {
    const task = getBuiltinTask('titanic') as Task;
    const three: Task = { ...task, tabular: { ...task.tabular!, labels: ['a', 'b', 'c'] } };
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 4, activation: 'relu', name: 'h' }), tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' })] });
    const offset = outputBiasOffset(model, 3);
    assert.equal(offset, 2 * 4 + 4 + 4 * 3, 'after the hidden kernel and bias and the output kernel');
    const start = getFlatWeights(model);
    const absent = [2];
    setFlatWeights(model, { values: maskClasses(start.values, offset, absent), shapes: start.shapes });
    for await (const _ of new Trainer(model, { ...three.training, optimizer: 'adam', learningRate: 0.05 }).train(examples([0, 1], 64), { epochs: 3 }));
    const trained = getFlatWeights(model).values;
    unmaskClasses(trained, start.values, offset, absent);

    const kernel = (v: Float32Array, c: number) => [0, 1, 2, 3].map((row) => v[12 + row * 3 + c]);
    for (const c of absent) {
      assert.deepEqual(kernel(trained, c), kernel(start.values, c), `output kernel column ${c}`);
      assert.equal(trained[offset + c], start.values[offset + c], `output bias ${c}`);
    }
    assert.notDeepEqual(kernel(trained, 1), kernel(start.values, 1), 'the present classes did train');
    model.dispose();
  });

  test('outputBiasOffset is null for a model without a softmax output', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 3, activation: 'linear' })] });
    assert.equal(outputBiasOffset(model, 3), null);
    model.dispose();
    const builtin = buildModel(getBuiltinTask('titanic') as Task);
    assert.equal(outputBiasOffset(builtin, 2), getFlatWeights(builtin).values.length - 2);
    builtin.dispose();
  });
});

describe('lookahead', () => {
  test('global + beta × (global − previous), or a copy of global without a previous model', () => {
    const global = Float32Array.from([1, 2, 3]);
    assert.deepEqual(lookahead(global, Float32Array.from([0, 2, 5]), 0.5), Float32Array.from([1.5, 2, 2]));
    const copy = lookahead(global, null, 0.9);
    assert.deepEqual(copy, global);
    assert.notEqual(copy, global);
  });
});
