import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeEpsilon } from '../privacy/accountant.js';
import { titanic } from '../task/builtin/titanic.js';
import type { Task } from '../task/schema.js';
import { encodeWeights } from '../weights/codec.js';
import { InMemoryFederation } from './in-memory-federation.js';

// The fake applies differential privacy like the server (core `privacy/rounds.ts`): clipping counted, ε per
// closed round, the budget rule and its refusal, skipRound.

const shapes = [{ name: 'w', shape: [4] }];
const task = (privacy: Partial<Task['privacy']>): Task => ({ ...titanic, id: 'dp', minParticipants: 2, privacy: { ...titanic.privacy, ...privacy } });
const update = (values: number[], modelVersion: number) => encodeWeights({ values: Float32Array.from(values), shapes }, { taskId: 'dp', modelVersion, meta: { samples: 10 } });

test('the fake clips, accounts each closed round and stops at the budget with the server\'s refusal', async () => {
  // q = 1, z = 2: one round costs ε = 2.526, two 3.645 > budget 3.5.
  const federation = new InMemoryFederation({ tasks: [task({ clippingNorm: 1, noiseMultiplier: 2, budget: { epsilon: 3.5 } })], initial: { dp: { values: new Float32Array(4), shapes } } });
  const [a, b] = [await federation.join('dp'), await federation.join('dp')];
  await federation.submitUpdate(a.token, 1, update([30, 40, 0, 0], 0));
  await federation.submitUpdate(b.token, 1, update([0.1, 0, 0, 0], 0));

  const spent = computeEpsilon({ q: 1, z: 2, steps: 1, delta: 1e-5 }).epsilon;
  assert.deepEqual(
    federation.roundsOf('dp').map((r) => [r.number, r.phase, r.clipped, r.epsilon]),
    [[1, 'closed', 1, spent]],
  );
  const state = await federation.heartbeat(a.token);
  assert.deepEqual([state.round, state.phase, state.modelVersion, state.privacy], [1, 'closed', 1, { epsilon: spent, delta: 1e-5, budget: 3.5, exhausted: true }]);
  await assert.rejects(() => federation.submitUpdate(a.token, 2, update([0, 0, 0, 0], 1)), {
    code: 'ROUND_NOT_OPEN',
    message: 'task "dp" has spent its privacy budget: ε = 2.526 of ε = 3.5 at δ = 0.00001, and one more round would exceed it; no further round opens',
  });
});

test('the fake takes skips: a round closes once everyone sent or sat out', async () => {
  const federation = new InMemoryFederation({ tasks: [task({ samplingRate: 0.5 })], initial: { dp: { values: new Float32Array(4), shapes } } });
  const joined = [await federation.join('dp'), await federation.join('dp'), await federation.join('dp')];
  await federation.submitUpdate(joined[0].token, 1, update([1, 0, 0, 0], 0));
  await federation.submitUpdate(joined[1].token, 1, update([0, 1, 0, 0], 0));
  assert.equal(federation.version('dp'), 0);

  await federation.skipRound(joined[2].token, 1);

  assert.equal(federation.version('dp'), 1);
  assert.deepEqual(federation.calls.filter((c) => c === 'skip'), ['skip']);
});
