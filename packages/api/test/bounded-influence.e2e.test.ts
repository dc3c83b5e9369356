import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, type FederationApi, type Task } from '@disco/core';
import { encodeUpdate, INITIAL, joinAll, putUpdate, roundHistory, storedUpdates, testServer, testTask, waitFor } from './helpers.js';

// Bounded influence (issue 10) over real HTTP: a task's `aggregation.maxSamplesPerUpdate` bounds the weight
// one participant's update can claim, and an aggregate that is not finite is never stored.


const BOUND = 1309;
const bounded = (overrides: Partial<Task> = {}) => testTask({ aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: BOUND }, ...overrides });

async function start(t: { after(fn: () => unknown): void }, task: Task, n: number, roundDeadlineMs = 30_000) {
  const server = await testServer({ tasks: [task], timings: { heartbeatTimeoutMs: 60_000, roundDeadlineMs } });
  t.after(() => server.cleanup());
  return { server, ...(await joinAll(server, n, t)) };
}

async function globalModel(api: FederationApi, version: number): Promise<number[]> {
  return Array.from(decodeWeights(await api.downloadWeights('test-task', version)).weights.values);
}

/** What the server stores for FedAvg over `updates`: base + Σ wᵢ·uᵢ / Σ wᵢ, the mean in float32, added in float32. */
function fedavgModel(updates: readonly { values: readonly number[]; samples: number }[]): number[] {
  const total = updates.reduce((sum, u) => sum + u.samples, 0);
  return Array.from(INITIAL, (base, i) => {
    const mean = Math.fround(updates.reduce((sum, u) => sum + u.samples * u.values[i], 0) / total);
    return Math.fround(base + mean);
  });
}

const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(...a.map((x, i) => x - b[i]));

/** Three honest participants: their deltas and claims (400 + 450 + 459 = 1309 examples between them). */
const HONEST = [
  { values: [1, 1, 1, 1, 1, 1, 1, 1, 1], samples: 400 },
  { values: [2, 0, 2, 0, 2, 0, 2, 0, 2], samples: 450 },
  { values: [0.5, -1, 0.25, 1, 0, -0.5, 1.5, 2, -2], samples: 459 },
];
/** The attacker's delta: far from every honest one. */
const ATTACK = new Array(9).fill(-50) as number[];

test('a claim above the task bound is refused with BAD_META naming the claim and the bound, and nothing is stored', async (t) => {
  const { server, joined } = await start(t, bounded(), 2);
  await putUpdate(server.url, joined[0].token, 1, encodeUpdate(new Array(9).fill(1), { samples: 10 }));
  const before = await storedUpdates(server);

  for (const samples of [BOUND + 1, 1e12]) {
    const refused = await putUpdate(server.url, joined[1].token, 1, encodeUpdate(new Array(9).fill(1), { samples }));
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, {
      code: 'BAD_META',
      message: `the update claims ${samples} training examples; task "test-task" allows at most 1309 per update`,
    });
  }

  assert.deepEqual(await storedUpdates(server), before);
  assert.deepEqual(before, { updates: 1, submitted: 1 });
  // A claim of exactly the bound is accepted (and closes the round: both participants submitted).
  const accepted = await putUpdate(server.url, joined[1].token, 1, encodeUpdate(new Array(9).fill(1), { samples: BOUND }));
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
});

test('one participant claiming 10^12 examples next to three honest ones cannot move the global model at all', async (t) => {
  const task = bounded({ minParticipants: 3 });
  // The attacker stays joined without an accepted update: the round closes with the three honest ones at its deadline.
  const { server, api, joined } = await start(t, task, 4, 800);
  const [attacker, ...honest] = joined;

  const refused = await putUpdate(server.url, attacker.token, 1, encodeUpdate(ATTACK, { samples: 1e12 }));
  assert.equal(refused.body.code, 'BAD_META');
  for (const [i, participant] of honest.entries())
    await putUpdate(server.url, participant.token, 1, encodeUpdate(HONEST[i].values, { samples: HONEST[i].samples }));
  await waitFor('round 2', () => api.heartbeat(honest[0].token), (s) => s.round === 2 && s.modelVersion === 1, 10_000);

  const [, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.submitted, round1.samples, round1.modelVersion], ['closed', 3, 1309, 1]);
  assert.deepEqual(await globalModel(api, 1), fedavgModel(HONEST));
});

test('an attacker claiming exactly the bound moves the global model at most bound / (bound + Σ honest) of the way', async (t) => {
  const { server, api, joined } = await start(t, bounded({ minParticipants: 4 }), 4);
  const [attacker, ...honest] = joined;

  for (const [i, participant] of honest.entries())
    await putUpdate(server.url, participant.token, 1, encodeUpdate(HONEST[i].values, { samples: HONEST[i].samples }));
  const accepted = await putUpdate(server.url, attacker.token, 1, encodeUpdate(ATTACK, { samples: BOUND }));
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  await waitFor('round 2', () => api.heartbeat(honest[0].token), (s) => s.modelVersion === 1);

  const global = await globalModel(api, 1);
  const honestModel = fedavgModel(HONEST);
  const attackerModel = Array.from(INITIAL, (base, i) => base + ATTACK[i]);
  const honestTotal = HONEST.reduce((sum, u) => sum + u.samples, 0);
  const share = BOUND / (BOUND + honestTotal); // 1309 / 2618 = 0.5
  const moved = distance(global, honestModel);
  const allowed = share * distance(attackerModel, honestModel);
  assert.ok(moved <= allowed * (1 + 1e-6), `moved ${moved} from the honest mean, allowed ${allowed}`);
  assert.deepEqual(global, fedavgModel([...HONEST, { values: ATTACK, samples: BOUND }]));
});

test('a non-finite aggregate fails the round with its reason, the version stays, and the next honest round succeeds', async (t) => {
  // No bound: a claim of Number.MAX_VALUE examples passes the update check, and its weighted sum overflows.
  const { server, api, joined } = await start(t, testTask(), 2);

  await putUpdate(server.url, joined[0].token, 1, encodeUpdate(new Array(9).fill(2), { samples: Number.MAX_VALUE }));
  await putUpdate(server.url, joined[1].token, 1, encodeUpdate(new Array(9).fill(1), { samples: 10 }));
  const state = await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2);

  assert.equal(state.modelVersion, 0);
  const [round2, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.modelVersion], ['failed', null]);
  assert.equal(round1.failureReason, 'the aggregate is not finite (9 of 9 values are infinite or NaN): the model stays at its previous version');
  assert.deepEqual([round2.phase, round2.baseVersion], ['open', 0]);

  for (const participant of joined) await putUpdate(server.url, participant.token, 2, encodeUpdate(new Array(9).fill(1), { samples: 10 }));
  await waitFor('round 3', () => api.heartbeat(joined[0].token), (s) => s.round === 3 && s.modelVersion === 1);
  assert.deepEqual(await globalModel(api, 1), Array.from(INITIAL, (g) => Math.fround(g + 1)));
});
