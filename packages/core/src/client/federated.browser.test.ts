import { expect } from '@open-wc/testing';
import { initBackend } from '../backend/init-backend.js';
import { getFlatWeights } from '../model/index.js';
import { syntheticDataset } from '../model/test-tasks.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import type { Task } from '../task/schema.js';
import type { TrainingEvent } from '../training/events.js';
import { FederatedClient } from './federated.js';
import { InMemoryFederation } from '../testing/index.js';

const wasmPaths = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

it('two FederatedClients train together in Chromium and end with the same global model', async () => {
  expect(await initBackend({ wasmPaths })).to.equal('wasm');
  const titanic = getBuiltinTask('titanic') as Task;
  // Synthetic data (the label is the sign of two features): a faster learning rate than Titanic's own.
  const task: Task = { ...titanic, minParticipants: 2, training: { ...titanic.training, rounds: 3, epochsPerRound: 2, learningRate: 0.05 } };
  const federation = new InMemoryFederation({ tasks: [task] });
  const clients = [1, 2].map((seed) => new FederatedClient({ api: federation, taskId: task.id, dataset: syntheticDataset(task, 200, seed), heartbeatIntervalMs: 200, pollIntervalMs: 100 }));

  const runs = await Promise.all(
    clients.map(async (client) => {
      const events: TrainingEvent[] = [];
      for await (const event of client.run()) events.push(event);
      return events;
    }),
  );

  for (const events of runs) {
    expect(events.filter((e) => e.type === 'round').map((e) => (e as { round: number }).round)).to.deep.equal([1, 2, 3]);
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error(`the session ended with ${done?.type}`);
    expect(done.rounds).to.equal(3);
    expect(done.metrics.accuracy).to.be.above(0.8);
  }
  const [a, b] = clients.map((c) => Array.from(getFlatWeights(c.model!).values));
  expect(a).to.deep.equal(b);
  clients.forEach((c) => c.model!.dispose());
});
