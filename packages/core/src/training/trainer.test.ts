import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/init-backend.js';
import type { Dataset } from '../data/dataset.js';
import { loadBuiltinDataset } from '../data/node/builtin-data.js';
import { womenSurviveAccuracy } from '../evaluation/baselines.js';
import { evaluateModel } from '../evaluation/evaluate.js';
import { buildModel } from '../model/build.js';
import { getFlatWeights } from '../model/flat-weights.js';
import { tabularTask } from '../model/test-tasks.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import type { TrainingEvent } from './events.js';
import { Trainer } from './trainer.js';

before(async () => {
  await initBackend();
});

async function collect(stream: AsyncIterable<TrainingEvent>): Promise<TrainingEvent[]> {
  const events: TrainingEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** 200 rows of the toy task: label = (a + b > 0), colour one-hot. */
function toyData(count = 200): Dataset {
  const features = new Float32Array(count * 6);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const a = Math.sin(i * 1.7);
    const b = Math.cos(i * 0.3);
    features.set([a, b, Math.sin(i), i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, i % 3 === 2 ? 1 : 0], i * 6);
    labels[i] = a + b > 0 ? 1 : 0;
  }
  return { features, featureShape: [6], labels, classes: ['no', 'yes'], count };
}

// The seeded test split is the one `disco simulate` and the docs use. The women-survive rule scores 0.813 on it (it
// favours the rule: 0.78 over all passengers), so the model must beat that too, not only 0.80.
test('Titanic trained on the seeded 80 % reaches ≥ 0.80 accuracy on the other 20 %, above the women-survive rule', async () => {
  const task = getBuiltinTask('titanic');
  assert.ok(task);
  const [train, test] = await Promise.all([loadBuiltinDataset('titanic', { split: 'train' }), loadBuiltinDataset('titanic', { split: 'test' })]);
  assert.equal(train.count + test.count, 1309);
  const model = buildModel(task);
  const events = await collect(new Trainer(model, task.training).train(train, { epochs: 10, validation: test }));
  const report = evaluateModel(model, test);
  const rule = womenSurviveAccuracy(test);
  assert.ok(report.accuracy >= 0.8 && report.accuracy > rule, `test accuracy ${report.accuracy}, women-survive rule ${rule}`);
  const lastEpoch = events.filter((e) => e.type === 'epoch').at(-1);
  assert.ok(lastEpoch?.type === 'epoch' && Math.abs((lastEpoch.valAccuracy ?? NaN) - report.accuracy) < 1e-6, 'valAccuracy is the test accuracy');
});

test('an epoch leaves as many tensors as it found', async () => {
  const model = buildModel(tabularTask());
  const trainer = new Trainer(model, { batchSize: 16 });
  const data = toyData();
  await collect(trainer.train(data, { epochs: 1, validation: data })); // creates the optimizer's state
  const before = tf.memory().numTensors;
  await collect(trainer.train(data, { epochs: 1, validation: data, batchEvents: true }));
  assert.equal(tf.memory().numTensors, before);
});

test('events: batches then an epoch, per epoch, then done; round and numbering from 1', async () => {
  const trainer = new Trainer(buildModel(tabularTask()), { batchSize: 64 });
  const events = await collect(trainer.train(toyData(), { epochs: 2, validation: toyData(50), round: 3, batchEvents: true }));
  assert.deepEqual(
    events.map((e) => [e.type, 'epoch' in e ? e.epoch : null, 'batch' in e ? e.batch : null]),
    [
      ['batch', 1, 1], ['batch', 1, 2], ['batch', 1, 3], ['batch', 1, 4], ['epoch', 1, null],
      ['batch', 2, 1], ['batch', 2, 2], ['batch', 2, 3], ['batch', 2, 4], ['epoch', 2, null],
      ['done', null, null],
    ],
  );
  for (const e of events) if (e.type === 'batch' || e.type === 'epoch') assert.equal(e.round, 3);
  const epoch = events[9];
  assert.ok(epoch.type === 'epoch' && epoch.epochs === 2 && epoch.loss > 0 && epoch.accuracy !== undefined && epoch.valLoss !== undefined && epoch.valAccuracy !== undefined);
  const done = events.at(-1);
  assert.ok(done?.type === 'done' && done.stopped === false && done.epochs === 2 && done.metrics.trainLoss === epoch.loss && done.metrics.loss === epoch.valLoss);
  const batch = events[0];
  assert.ok(batch.type === 'batch' && batch.batches === 4 && batch.loss > 0 && batch.accuracy !== undefined);
});

test('the same seed trains to the same weights; the shuffle depends on the seed', async () => {
  const train = async (seed: number) => {
    const task = tabularTask({ training: { seed: 1 } });
    const model = buildModel(task);
    await collect(new Trainer(model, { ...task.training, seed, batchSize: 16 }).train(toyData(), { epochs: 2 }));
    return getFlatWeights(model).values;
  };
  const a = await train(5);
  assert.deepEqual(await train(5), a);
  assert.notDeepEqual(await train(6), a);
});

test('stop() ends the stream after the current batch with done.stopped, and cleans up', async () => {
  const model = buildModel(tabularTask());
  const trainer = new Trainer(model, { batchSize: 8 });
  await collect(trainer.train(toyData(), { epochs: 1 })); // creates the optimizer's state
  const before = tf.memory().numTensors;
  const events: TrainingEvent[] = [];
  for await (const event of trainer.train(toyData(), { epochs: 50, batchEvents: true })) {
    events.push(event);
    if (event.type === 'epoch' && event.epoch === 2) trainer.stop();
  }
  const done = events.at(-1);
  assert.ok(done?.type === 'done' && done.stopped === true && done.epochs === 2, JSON.stringify(done));
  assert.equal(events.filter((e) => e.type === 'epoch').length, 2);
  assert.equal(trainer.training, false);
  assert.equal(tf.memory().numTensors, before);
});

test('stop() at an epoch event trains no further batch', async () => {
  const model = buildModel(tabularTask());
  const trainer = new Trainer(model, { batchSize: 8 });
  let atStop: Float32Array | undefined;
  for await (const event of trainer.train(toyData(), { epochs: 5 }))
    if (event.type === 'epoch' && event.epoch === 1) {
      atStop = getFlatWeights(model).values;
      trainer.stop();
    }
  assert.deepEqual(getFlatWeights(model).values, atStop);
});

test('an aborted signal stops the training; leaving the loop early stops it too', async () => {
  const model = buildModel(tabularTask());
  const trainer = new Trainer(model, { batchSize: 8 });
  const controller = new AbortController();
  let batches = 0;
  for await (const event of trainer.train(toyData(), { epochs: 50, batchEvents: true, signal: controller.signal })) {
    if (event.type === 'batch' && ++batches === 3) controller.abort();
    if (event.type === 'done') assert.equal(event.stopped, true);
  }
  assert.ok(batches < 10, `${batches} batches after the abort`);

  const before = tf.memory().numTensors;
  for await (const event of trainer.train(toyData(), { epochs: 50 })) if (event.type === 'epoch') break;
  assert.equal(trainer.training, false);
  assert.equal(tf.memory().numTensors, before);
});

test('data the model cannot read is refused before training', async () => {
  const trainer = new Trainer(buildModel(tabularTask()));
  const wide: Dataset = { ...toyData(4), features: new Float32Array(4 * 7), featureShape: [7] };
  await assert.rejects(collect(trainer.train(wide)), { name: 'ModelError', message: 'the training examples have shape [7] but the model reads [6]' });
  await assert.rejects(collect(trainer.train({ ...toyData(4), labels: null })), {
    message: 'the training data has no labels: training and validation need labelled examples',
  });
});
