import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/init-backend.js';
import { buildModel, compileForTask } from '../build.js';
import { checkModelForTask } from '../check.js';
import { getFlatWeights } from '../flat-weights.js';
import { modelFromArtifacts, modelToArtifacts } from '../artifacts.js';
import { textTask } from '../test-tasks.js';
import { createGptModel } from './layer.js';
import { languageModelLoss } from './loss.js';
import { GPT2_VOCABULARY, GPT_SIZES, gptParameterCount } from './sizes.js';

before(async () => {
  await initBackend();
});

/** `rows` windows of `length` token ids below 1000, reproducible. */
function tokenWindows(rows: number, length: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const ids = Array.from({ length: rows * (length + 1) }, (_, i) => (i * 7919) % 1000);
  const x: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    const start = r * (length + 1);
    x.push(...ids.slice(start, start + length));
    y.push(...ids.slice(start + 1, start + length + 1));
  }
  return { x: tf.tensor2d(x, [rows, length]), y: tf.tensor2d(y, [rows, length]) };
}

test('a text task builds a nano GPT: token ids [null, T] in, logits [null, T, 50257] out, checked against the task', () => {
  const task = textTask({}, 16);
  const model = buildModel(task);
  assert.deepEqual(model.inputs[0].shape, [null, 16]);
  assert.deepEqual(model.outputs[0].shape, [null, 16, GPT2_VOCABULARY]);
  checkModelForTask(model, task);
  assert.throws(() => checkModelForTask(model, textTask({}, 32)), /expected \[null,32\]/);
  model.dispose();
});

test('the parameter count follows the shapes: nano as built, and GPT-2 small is 124,439,808 with a tied head', () => {
  const model = buildModel(textTask({}, 128));
  assert.equal(model.countParams(), gptParameterCount(GPT_SIZES.nano, 128, GPT2_VOCABULARY));
  assert.equal(model.countParams(), 2_498_016 + (128 - 16) * 48);
  model.dispose();
  // Checked against a built model of another shape too, then applied to GPT-2 small without allocating 0.5 GB.
  const micro = createGptModel({ ...GPT_SIZES.micro, contextLength: 32, vocabulary: 100, dropout: 0, seed: 1 });
  assert.equal(micro.countParams(), gptParameterCount(GPT_SIZES.micro, 32, 100));
  micro.dispose();
  assert.equal(gptParameterCount(GPT_SIZES.gpt2, 1024, GPT2_VOCABULARY), 124_439_808);
});

test('weights carry clear names: embeddings, per-block layer norms, attention and MLP, final layer norm', () => {
  const model = buildModel(textTask());
  const names = getFlatWeights(model).shapes.map((s) => s.name);
  assert.equal(names.length, 2 + 3 * 12 + 2);
  assert.deepEqual(names.slice(0, 4), ['transformer/wte', 'transformer/wpe', 'transformer/h0/ln_1/gamma', 'transformer/h0/ln_1/beta']);
  assert.ok(names.includes('transformer/h2/mlp/c_proj/kernel'));
  assert.equal(names.at(-1), 'transformer/ln_f/beta');
  model.dispose();
});

test('the same seed builds the same version-0 weights; another seed other weights', () => {
  const build = (seed: number) => {
    const model = buildModel(textTask({ training: { seed } }));
    const { values } = getFlatWeights(model);
    model.dispose();
    return values;
  };
  const a = build(42);
  assert.deepEqual(build(42), a);
  assert.notDeepEqual(build(7), a);
  // GPT-2's initialisation: embeddings normal with std 0.02.
  const embedding = a.subarray(0, GPT2_VOCABULARY * 48);
  const std = Math.sqrt(embedding.reduce((s, v) => s + v * v, 0) / embedding.length);
  assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
});

test('the loss is the mean cross-entropy per predicted token, padding excluded, not halved', () => {
  const logits = [
    [2, 0.5, -1, 0],
    [0, 0, 0, 0],
    [1, 3, 0.25, -2],
    [-1, 4, 2, 2],
  ];
  const targets = [0, 3, -1, 2]; // the third position is padding
  const expected = (() => {
    let sum = 0;
    let count = 0;
    logits.forEach((row, i) => {
      if (targets[i] < 0) return;
      const logSumExp = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      sum += logSumExp - row[targets[i]];
      count += 1;
    });
    return sum / count;
  })();
  const yPred = tf.tensor3d([logits], [1, 4, 4]);
  const yTrue = tf.tensor2d([targets], [1, 4]);
  const loss = languageModelLoss(yTrue, yPred).dataSync()[0];
  assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss}, by hand ${expected}`);
  // All padding: 0, not NaN.
  assert.equal(languageModelLoss(tf.fill([1, 4], -1), yPred).dataSync()[0], 0);
  tf.dispose([yPred, yTrue]);
});

test('the loss gradient is (softmax − one-hot) / predicted tokens, zero on padding, as automatic differentiation finds', () => {
  const logits = tf.tensor3d([[[2, 0.5, -1, 0], [0, 1, 0, 0], [1, 3, 0.25, -2]]]);
  const targets = tf.tensor2d([[1, -1, 3]]);
  const ours = tf.grad((x: tf.Tensor) => languageModelLoss(targets, x))(logits);
  const reference = tf.grad((x: tf.Tensor) => {
    const flat = tf.reshape(x, [3, 4]);
    const nll = tf.sub(tf.logSumExp(flat, 1), tf.sum(tf.mul(flat, tf.oneHot(tf.tensor1d([1, 0, 3], 'int32'), 4)), 1));
    return tf.div(tf.sum(tf.mul(nll, tf.tensor1d([1, 0, 1]))), 2);
  })(logits);
  const a = ours.dataSync();
  const b = reference.dataSync();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `gradient ${i}: ${v} vs ${b[i]}`));
  assert.deepEqual(Array.from(a.subarray(4, 8)), [0, 0, 0, 0]);
  tf.dispose([logits, targets, ours, reference]);
});

test('the loss gradient reaches every weight, including the tied embedding through both of its uses', () => {
  const model = createGptModel({ layers: 1, heads: 2, embedding: 8, contextLength: 4, vocabulary: 11, dropout: 0, seed: 3 });
  const x = tf.tensor2d([[1, 2, 2, 5]]);
  const y = tf.tensor2d([[2, 2, 5, -1]]);
  const { grads, value } = tf.variableGrads(() => languageModelLoss(y, model.apply(x) as tf.Tensor));
  assert.equal(Object.keys(grads).length, model.trainableWeights.length);
  // Only the ids 1, 2, 5 are read and 2, 5 scored... yet every row of the tied table is scored (softmax).
  const wte = grads[(model.trainableWeights[0].read() as tf.Variable).name].arraySync() as number[][];
  for (const row of wte) assert.ok(row.some((v) => v !== 0));
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
});

test('model.fit trains a GPT on token windows [count, T] with labels [count, T]: the loss falls, no tensor is left behind', async () => {
  const task = textTask({ training: { learningRate: 0.01 } });
  const model = buildModel(task);
  const { x, y } = tokenWindows(4, 8);
  const first = await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 }); // creates the optimizer's slots
  const before = tf.memory().numTensors;
  const later = await model.fit(x, y, { epochs: 6, batchSize: 2, verbose: 0 });
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
  assert.equal(tf.memory().numTensors, before);
  const start = first.history.loss[0] as number;
  const end = later.history.loss.at(-1) as number;
  assert.ok(Math.abs(start - Math.log(GPT2_VOCABULARY)) < 0.5, `initial loss ${start} ≈ ln 50257`);
  assert.ok(end < start - 1, `loss ${start} → ${end}`);
  assert.deepEqual(Object.keys(later.history), ['loss']); // no arg-max over the logits while training
  const loss = model.evaluate(x, y, { verbose: 0 }) as tf.Scalar;
  assert.ok(loss.dataSync()[0] < start);
  tf.dispose([x, y, loss]);
  model.dispose();
});

test('save → load gives identical logits; the loaded model compiles as a language model and trains', async () => {
  const task = textTask();
  const model = buildModel(task);
  const { x, y } = tokenWindows(2, 8);
  await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
  const files = await modelToArtifacts(model);
  assert.equal(files.modelJson.trainingConfig, undefined, 'the custom loss is not serialised');
  const loaded = await modelFromArtifacts(files.modelJson, files.weightsBin, { task });
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  assert.deepEqual(b.dataSync(), a.dataSync());
  // Loaded without a task: uncompiled, then compiled for the task like any loaded model.
  const bare = await modelFromArtifacts(JSON.parse(JSON.stringify(files.modelJson)), files.weightsBin);
  compileForTask(bare, task);
  const history = await bare.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
  assert.ok(Number.isFinite(history.history.loss[0]));
  tf.dispose([x, y, a, b]);
  for (const m of [model, loaded, bare]) m.dispose();
});

test('dropout acts only while training', () => {
  const model = buildModel(textTask({ model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano', dropout: 0.5 } } }));
  const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]]);
  const [p1, p2] = [model.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor];
  assert.deepEqual(p1.dataSync(), p2.dataSync());
  const t1 = model.apply(x, { training: true }) as tf.Tensor;
  assert.notDeepEqual(t1.dataSync(), p1.dataSync());
  tf.dispose([x, p1, p2, t1]);
  model.dispose();
});
