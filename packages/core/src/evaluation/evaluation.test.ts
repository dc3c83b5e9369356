import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import Papa from 'papaparse';
import { initBackend } from '../backend/init-backend.js';
import type { Dataset } from '../data/dataset.js';
import { evaluateModel } from './evaluate.js';
import { evaluatePredictions } from './metrics.js';
import { predict, predictionsToCsv } from './predict.js';

before(async () => {
  await initBackend();
});

const classes = ['cat', 'dog', 'bird'];
// 6 examples: true labels and softmax-like rows whose argmax is the prediction.
const labels = [0, 0, 1, 1, 2, 2];
const probabilities = [
  [0.8, 0.1, 0.1], // cat  → cat
  [0.3, 0.6, 0.1], // cat  → dog
  [0.1, 0.7, 0.2], // dog  → dog
  [0.2, 0.7, 0.1], // dog  → dog
  [0.5, 0.1, 0.4], // bird → cat
  [0.1, 0.1, 0.8], // bird → bird
];

test('confusion matrix and per-class precision, recall and F1 are exact', () => {
  const report = evaluatePredictions(probabilities.flat(), labels, classes, ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png']);
  assert.equal(report.count, 6);
  assert.equal(report.accuracy, 4 / 6);
  assert.deepEqual(report.confusion, [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
  assert.deepEqual(report.perClass, [
    { label: 'cat', precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
    { label: 'dog', precision: 2 / 3, recall: 1, f1: (2 * (2 / 3)) / (2 / 3 + 1), support: 2 },
    { label: 'bird', precision: 1, recall: 1 / 2, f1: 2 / 3, support: 2 },
  ]);
  const expectedLoss = -(Math.log(0.8) + Math.log(0.3) + Math.log(0.7) + Math.log(0.7) + Math.log(0.4) + Math.log(0.8)) / 6;
  assert.ok(Math.abs(report.loss - expectedLoss) < 1e-12);
  assert.deepEqual(report.misclassified, [
    { index: 1, source: 'b.png', expected: 'cat', predicted: 'dog', confidence: 0.6 },
    { index: 4, source: 'e.png', expected: 'bird', predicted: 'cat', confidence: 0.5 },
  ]);
});

test('a class never predicted and never present scores 0, not NaN', () => {
  const report = evaluatePredictions([0.9, 0.1, 0, 0.2, 0.8, 0], [0, 1], classes);
  assert.deepEqual(report.perClass[2], { label: 'bird', precision: 0, recall: 0, f1: 0, support: 0 });
  assert.equal(report.accuracy, 1);
});

/** A fixed linear softmax model over 2 features: class = argmax(x · W). */
function linearModel(): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 3, activation: 'softmax', useBias: false })] });
  model.setWeights([tf.tensor2d([[4, 0, 0], [0, 4, 0]])]);
  return model;
}

const dataset: Dataset = {
  features: Float32Array.from([1, 0, 0, 1, 0, 0, 1, 0]),
  featureShape: [2],
  labels: Int32Array.from([0, 1, 2, 1]),
  classes,
  count: 4,
  sources: ['line 2', 'line 3', 'line 4', 'line "5", here'],
};

test('evaluateModel runs the model and reports the same as the arithmetic', () => {
  const model = linearModel();
  const before = tf.memory().numTensors;
  const report = evaluateModel(model, dataset);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(report.count, 4);
  assert.equal(report.accuracy, 2 / 4);
  assert.deepEqual(report.confusion, [
    [1, 0, 0],
    [1, 1, 0],
    [1, 0, 0],
  ]);
  assert.deepEqual(report.misclassified.map((m) => [m.index, m.source, m.expected, m.predicted]), [
    [3, 'line "5", here', 'dog', 'cat'],
    [2, 'line 4', 'bird', 'cat'],
  ]);
});

test('predictions name the source, the class and its probability, and become RFC-4180 CSV', () => {
  const rows = predict(linearModel(), dataset);
  assert.deepEqual(rows.map((r) => [r.source, r.label]), [
    ['line 2', 'cat'],
    ['line 3', 'dog'],
    ['line 4', 'cat'],
    ['line "5", here', 'cat'],
  ]);
  const e4 = Math.exp(4);
  assert.ok(Math.abs(rows[0].confidence - e4 / (e4 + 2)) < 1e-6);
  assert.ok(Math.abs(rows[2].probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const csv = predictionsToCsv(rows, classes);
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'source,label,confidence,p(cat),p(dog),p(bird)');
  assert.ok(lines[4].startsWith('"line ""5"", here",cat,'), lines[4]);
  assert.equal(lines.length, 5);
  const parsed = Papa.parse<string[]>(csv, { newline: '\r\n' }).data;
  assert.equal(parsed[4][0], 'line "5", here');
  assert.equal(Number(parsed[1][2]), Number(rows[0].confidence.toFixed(6)));
});
