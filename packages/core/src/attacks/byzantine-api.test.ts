import { test } from 'node:test';
import assert from 'node:assert/strict';
import { titanic as titanicTask } from '../task/builtin/titanic.js';
import type { Task } from '../task/schema.js';
import { InMemoryFederation } from '../testing/index.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import type { FlatWeights } from '../weights/flat.js';
import { byzantineApi, Collusion, INFLATED_SAMPLES } from './byzantine-api.js';

const initial: FlatWeights = { values: Float32Array.from([0, 0]), shapes: [{ name: 'w', shape: [2] }] };

function federation(task: Task) {
  return new InMemoryFederation({ tasks: [task], initial: { [task.id]: initial } });
}

function honestUpdate(task: Task, values: number[], samples: number): Uint8Array {
  return encodeWeights({ values: Float32Array.from(values), shapes: initial.shapes }, { taskId: task.id, modelVersion: 0, meta: { samples } });
}

test('a sign-flipping participant joins and uploads like anyone; only its update is −10 × the honest one', async () => {
  const task: Task = { ...titanicTask, minParticipants: 1 };
  const server = federation(task);
  const attacker = byzantineApi(server, { attack: 'sign-flip', task, collusion: new Collusion(1), participants: 1 });
  const { token } = await attacker.join(task.id);
  await attacker.submitUpdate(token, 1, honestUpdate(task, [0.5, -0.25], 10));
  // Alone in the round, its update is the new global model: 0 + (−10 × [0.5, −0.25]).
  assert.deepEqual(Array.from(decodeWeights(await server.downloadWeights(task.id)).weights.values), [-5, 2.5]);
  assert.equal(attacker.stats, server.stats, 'the wrapped port still reports the same transfer statistics');
});

test('colluding ALIE attackers wait for each other and send the same μ − zσ', async () => {
  const task: Task = { ...titanicTask, minParticipants: 2 };
  const server = federation(task);
  const collusion = new Collusion(2);
  const attackers = [0, 1].map(() => byzantineApi(server, { attack: 'alie', parameter: 1, task, collusion, participants: 2 }));
  const tokens = await Promise.all(attackers.map(async (a) => (await a.join(task.id)).token));
  await Promise.all([
    attackers[0].submitUpdate(tokens[0], 1, honestUpdate(task, [1, -4], 5)),
    attackers[1].submitUpdate(tokens[1], 1, honestUpdate(task, [3, -4], 5)),
  ]);
  // μ = [2, −4], σ = [1, 0], z = 1: both send [1, −4], so the FedAvg of the round is [1, −4].
  assert.deepEqual(Array.from(decodeWeights(await server.downloadWeights(task.id)).weights.values), [1, -4]);
});

test('inflate-samples claims the task’s bound (1309 for Titanic), or 10^12 where the task sets none', async () => {
  const bounded: Task = { ...titanicTask, minParticipants: 1, aggregation: { ...titanicTask.aggregation, maxSamplesPerUpdate: 1309 } };
  const server = federation(bounded);
  const attacker = byzantineApi(server, { attack: 'inflate-samples', task: bounded, collusion: new Collusion(1), participants: 1 });
  const { token } = await attacker.join(bounded.id);
  await attacker.submitUpdate(token, 1, honestUpdate(bounded, [1, 1], 3));
  assert.deepEqual(server.roundsOf(bounded.id).find((r) => r.number === 1)?.samples, 1309);

  // Without a bound the claim of 10^12 is taken: next to an honest [1, 1] (3 examples), the model is the attacker's −[1, 1].
  const unbounded: Task = { ...titanicTask, id: 'unbounded', minParticipants: 2, aggregation: { strategy: 'fedavg' } };
  const other = federation(unbounded);
  const greedy = byzantineApi(other, { attack: 'inflate-samples', task: unbounded, collusion: new Collusion(1), participants: 2 });
  const [attackerJoin, honestJoin] = [await greedy.join(unbounded.id), await other.join(unbounded.id)];
  await greedy.submitUpdate(attackerJoin.token, 1, honestUpdate(unbounded, [1, 1], 3));
  await other.submitUpdate(honestJoin.token, 1, honestUpdate(unbounded, [1, 1], 3));
  const global = Array.from(decodeWeights(await other.downloadWeights(unbounded.id)).weights.values);
  assert.ok(global.every((v) => Math.abs(v + 1) < 1e-6), `the attacker took the model over: ${global.join(', ')}`);
  assert.equal(other.roundsOf(unbounded.id).find((r) => r.number === 1)?.samples, INFLATED_SAMPLES + 3);
});
