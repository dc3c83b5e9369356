import assert from 'node:assert/strict';
import { test } from 'node:test';
import { titanic } from '../task/builtin/titanic.js';
import type { Task } from '../task/schema.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import { InMemoryFederation } from './in-memory-federation.js';

// The fake applies the server's round rules: the task's server optimizer with its state carried from round to
// round, and maxMissedRounds (a participant that keeps missing rounds stops holding them up).

const shapes = [{ name: 'w', shape: [2] }];
const task = (overrides: Partial<Task>): Task => ({ ...titanic, id: 'fake', minParticipants: 2, ...overrides });
const update = (values: number[], modelVersion: number) => encodeWeights({ values: Float32Array.from(values), shapes }, { taskId: 'fake', modelVersion, meta: { samples: 10 } });
const initial = { fake: { values: new Float32Array(2), shapes } };

test('the fake moves the model by the server optimizer: momentum β = 0.5, η = 1 carries half the last step', async () => {
  const federation = new InMemoryFederation({ tasks: [task({ aggregation: { ...titanic.aggregation, serverOptimizer: { name: 'momentum', momentum: 0.5 } } })], initial });
  const [a, b] = [await federation.join('fake'), await federation.join('fake')];
  // Round 1: Δ = mean([2, 0], [0, 2]) = [1, 1]; m = [1, 1]; version 1 = [1, 1].
  await federation.submitUpdate(a.token, 1, update([2, 0], 0));
  await federation.submitUpdate(b.token, 1, update([0, 2], 0));
  // Round 2: Δ = [1, −1]; m = 0.5·[1, 1] + [1, −1] = [1.5, −0.5]; version 2 = [2.5, 0.5].
  await federation.submitUpdate(a.token, 2, update([1, -1], 1));
  await federation.submitUpdate(b.token, 2, update([1, -1], 1));

  const versions = [1, 2].map(async (v) => Array.from(decodeWeights(await federation.downloadWeights('fake', v)).weights.values));
  assert.deepEqual(await Promise.all(versions), [
    [1, 1],
    [2.5, 0.5],
  ]);
});

test('the fake stops waiting for a participant that missed maxMissedRounds rounds in a row, until it sends again', async () => {
  const federation = new InMemoryFederation({ tasks: [task({ maxMissedRounds: 2 })], initial });
  const [a, b, idle] = [await federation.join('fake'), await federation.join('fake'), await federation.join('fake')];
  const round = async (number: number, from: number) => {
    await federation.submitUpdate(a.token, number, update([1, 0], from));
    await federation.submitUpdate(b.token, number, update([0, 1], from));
  };
  // Rounds 1 and 2 wait for the idle participant (its deadline: closeRound).
  await round(1, 0);
  assert.equal(federation.version('fake'), 0, 'round 1 waits for the third participant');
  federation.closeRound('fake');
  await round(2, 1);
  assert.equal(federation.version('fake'), 1, 'round 2 waits for it too');
  federation.closeRound('fake');
  // Round 3: it missed 2 rounds in a row; the round closes once the others sent.
  await round(3, 2);
  assert.equal(federation.version('fake'), 3);
  // It sends in round 4 (with the others): from round 5 it is waited for again.
  await federation.submitUpdate(idle.token, 4, update([0, 0], 3));
  await round(4, 3);
  assert.equal(federation.version('fake'), 4);
  await round(5, 4);
  assert.equal(federation.version('fake'), 4, 'round 5 waits for it again');
});
