import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initBackend } from '../backend/index.js';
import type { Dataset } from '../data/dataset.js';
import { loadBuiltinDataset } from '../data/node/index.js';
import { womenSurviveAccuracy } from '../evaluation/baselines.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import type { Task } from '../task/schema.js';
import type { TrainingEvent } from '../training/events.js';
import { holdOut, LocalClient, trainLocally } from './local.js';

let task: Task;
let titanic: Dataset;
let allPassengers: Dataset;
before(async () => {
  await initBackend();
  task = getBuiltinTask('titanic') as Task;
  [titanic, allPassengers] = await Promise.all([loadBuiltinDataset('titanic', { split: 'train' }), loadBuiltinDataset('titanic', { split: 'all' })]);
});

describe('LocalClient', () => {
  // On all 1,309 passengers the task's validation split (20 %, seed 42) holds out the same 262 passengers as the
  // built-in test split that the other Titanic tests score, where the women-survive rule scores 0.813.
  test('trains the epochs asked for and ends with the validation metrics, above 0.80 and the women-survive rule', async () => {
    const events: TrainingEvent[] = [];
    for await (const event of trainLocally(task, allPassengers, { epochs: 3 })) events.push(event);

    assert.deepEqual(events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [1, 2, 3]);
    const done = events.at(-1) as Extract<TrainingEvent, { type: 'done' }>;
    assert.equal(done.type, 'done');
    assert.equal(done.epochs, 3);
    assert.equal(done.examples?.validation, Math.round(allPassengers.count * task.training.validationSplit));
    const lastEpoch = events.filter((e) => e.type === 'epoch').at(-1) as Extract<TrainingEvent, { type: 'epoch' }>;
    assert.equal(done.metrics.accuracy, lastEpoch.valAccuracy);
    const rule = womenSurviveAccuracy(holdOut(allPassengers, task.training.validationSplit, task.training.seed).validation!);
    const accuracy = done.metrics.accuracy ?? 0;
    assert.ok(accuracy >= 0.8 && accuracy > rule, `accuracy ${accuracy}, women-survive rule ${rule}`);
  });

  test('stop() ends the stream with done (stopped)', async () => {
    const client = new LocalClient(task, titanic, { epochs: 1000 });
    const events: TrainingEvent[] = [];
    for await (const event of client.run()) {
      events.push(event);
      if (event.type === 'epoch') client.stop();
    }
    assert.deepEqual(
      events.map((e) => e.type),
      ['epoch', 'done'],
    );
    assert.equal((events.at(-1) as Extract<TrainingEvent, { type: 'done' }>).stopped, true);
    client.model.dispose();
  });
});

describe('holdOut', () => {
  test('holds out the fraction with the seed, or nothing for 0', () => {
    const { train, validation } = holdOut(titanic, 0.25, 1);
    assert.equal(validation?.count, Math.round(titanic.count * 0.25));
    assert.equal(train.count + (validation?.count ?? 0), titanic.count);
    assert.equal(holdOut(titanic, 0, 1).validation, undefined);
  });
});
