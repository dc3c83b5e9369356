import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/init-backend.js';
import type { Dataset } from '../data/dataset.js';
import { evaluateModel } from './evaluate.js';
import { evaluateLanguageModel } from './language-model.js';

before(async () => {
  await initBackend();
});

// A "bigram" model over a vocabulary of 4 whose logits for the next token are a fixed row of W per input token.
const W = [
  [2, 0, -1, 0.5],
  [0, 1, 1.5, -2],
  [-1, 3, 0, 0],
  [0.5, 0.25, 0.25, 0.25],
];
function bigramModel(T: number): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 4, outputDim: 4, inputLength: T, inputShape: [T] })] });
  model.setWeights([tf.tensor2d(W)]);
  return model;
}

/** −log softmax(W[x])[y], by hand. */
function crossEntropy(x: number, y: number): number {
  const row = W[x];
  return Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[y];
}

// Two windows of 3: the second has one target and two padding positions.
const windows: Dataset = {
  features: Float32Array.from([0, 1, 2, 3, 0, 0]),
  featureShape: [3],
  labels: Int32Array.from([1, 2, 1, 0, -1, -1]),
  labelShape: [3],
  classes: [],
  count: 2,
};

test('the loss is the mean cross-entropy per predicted token over the whole set, padding excluded', () => {
  const expected = (crossEntropy(0, 1) + crossEntropy(1, 2) + crossEntropy(2, 1) + crossEntropy(3, 0)) / 4;
  const model = bigramModel(3);
  const before = tf.memory().numTensors;
  // One window per batch: a mean of the two batch means, (3 tokens' mean + 1 token) / 2, would differ.
  for (const batchSize of [1, 2, 8]) {
    const report = evaluateLanguageModel(model, windows, { batchSize });
    assert.ok(Math.abs(report.loss - expected) < 1e-6, `${report.loss} vs ${expected}`);
    assert.ok(Math.abs(report.perplexity - Math.exp(expected)) < 1e-5);
    assert.equal(report.tokens, 4);
    assert.equal(report.count, 2);
    // The most likely next token, argmax of W's row: 0 → 0 (not 1), 1 → 2, 2 → 1, 3 → 0: 3 of 4 right.
    assert.equal(report.accuracy, 3 / 4);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('evaluateModel reports a language model on text windows with its perplexity and no classes', () => {
  const report = evaluateModel(bigramModel(3), windows);
  assert.equal(report.tokens, 4);
  assert.ok(Math.abs(report.perplexity! - Math.exp(report.loss)) < 1e-6);
  assert.deepEqual([report.perClass, report.confusion, report.misclassified], [[], [], []]);
});

test('a uniform model has perplexity the vocabulary size', () => {
  const model = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 4, outputDim: 4, inputLength: 3, inputShape: [3], embeddingsInitializer: 'zeros' })] });
  const report = evaluateLanguageModel(model, windows);
  assert.ok(Math.abs(report.perplexity - 4) < 1e-5);
});

test('data that is not text windows is refused', () => {
  assert.throws(() => evaluateLanguageModel(bigramModel(3), { ...windows, labelShape: undefined }), /text windows/);
  assert.throws(() => evaluateLanguageModel(bigramModel(3), { ...windows, labels: null }), /no labels/);
});
