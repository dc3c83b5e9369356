import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../backend/index.js';
import type { Dataset } from '../data/dataset.js';
import { loadBuiltinDataset } from '../data/node/index.js';
import { shardDataset, takeDataset } from '../data/operations.js';
import { getFlatWeights } from '../model/index.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import type { Task } from '../task/schema.js';
import type { DoneEvent, TrainingEvent } from '../training/events.js';
import { decodeWeights } from '../weights/codec.js';
import { InMemoryFederation } from '../testing/index.js';
import { FederatedClient } from './federated.js';

let train: Dataset;
before(async () => {
  await initBackend();
  train = takeDataset(await loadBuiltinDataset('titanic', { split: 'train' }), 300);
});

test('FederatedClient on a secure task: every round masked through the fake, the same global model everywhere, done says secureAggregation', async () => {
  const titanic = getBuiltinTask('titanic') as Task;
  const task: Task = {
    ...titanic,
    minParticipants: 3,
    training: { ...titanic.training, rounds: 2, epochsPerRound: 1 },
    privacy: { ...titanic.privacy, secureAggregation: true, clippingNorm: 10 },
  };
  const federation = new InMemoryFederation({ tasks: [task] });
  const shards = shardDataset(train, 3, { seed: 2 });
  const clients = shards.map((dataset) => new FederatedClient({ api: federation, taskId: task.id, dataset, heartbeatIntervalMs: 200, pollIntervalMs: 50 }));

  const runs = await Promise.all(
    clients.map(async (client) => {
      const events: TrainingEvent[] = [];
      for await (const event of client.run()) events.push(event);
      return events;
    }),
  );

  for (const events of runs) {
    const done = events.at(-1) as DoneEvent;
    assert.deepEqual([done.type, done.rounds, done.roundsTrained, done.secureAggregation], ['done', 2, 2, true]);
    assert.deepEqual(events.filter((e) => e.type === 'round').map((e) => e.type === 'round' && e.round), [1, 2]);
  }
  const finals = clients.map((c) => getFlatWeights(c.model!).values);
  assert.deepEqual(finals[0], finals[1]);
  assert.deepEqual(finals[0], decodeWeights(await federation.downloadWeights(task.id, 2)).weights.values);
  // Σw from the sums (each client claims its training examples, 80 % of its shard), and no per-client metrics.
  const closed = federation.roundsOf(task.id).filter((r) => r.phase === 'closed');
  assert.deepEqual(closed.map((r) => [r.submitted, r.metrics]), [[3, null], [3, null]]);
  assert.ok(closed.every((r) => r.samples > 200 && r.samples <= 300), closed.map((r) => r.samples).join(', '));
  clients.forEach((c) => c.model!.dispose());
});
