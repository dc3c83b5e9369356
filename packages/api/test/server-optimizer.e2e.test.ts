import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeServerOptimizerState, decodeWeights, type FederationApi, type JoinResult } from '@disco/core';
import { createFederationApi } from '@disco/client';
import { encodeUpdate, INITIAL, roundHistory, sqlRows, testServer, testTask, waitFor, WebSocket } from './helpers.js';

// Issue 10: the task's server optimizer moves the global model (its state stored with the last closed round and
// restored after a restart), and a participant that keeps missing rounds stops holding them to their deadline.

type Server = Awaited<ReturnType<typeof testServer>>;

async function joinAll(server: Server, n: number, t: { after(fn: () => void): void }): Promise<{ api: FederationApi; joined: JoinResult[] }> {
  const api = createFederationApi(server.url, { WebSocket });
  t.after(() => api.close());
  const joined: JoinResult[] = [];
  for (let i = 0; i < n; i++) joined.push(await api.join('test-task'));
  return { api, joined };
}

const version = async (api: FederationApi, v: number) => Array.from(decodeWeights(await api.downloadWeights('test-task', v)).weights.values);
const near = (actual: number[], expected: number[]) => actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < 1e-6, `value ${i}: ${a}, expected ${expected[i]}`));

test('momentum on the server: each version moves by η·m, m = β·m + Δ, and m survives a restart', async (t) => {
  const task = testTask({ minParticipants: 2, aggregation: { strategy: 'fedavg', serverOptimizer: { name: 'momentum', momentum: 0.5, learningRate: 1 } } });
  const first = await testServer({ tasks: [task] });
  const { api, joined } = await joinAll(first, 2, t);
  // Round 1: Δ = 1 everywhere; m = 1; version 1 = INITIAL + 1.
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1), { modelVersion: 0 }));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(1), { modelVersion: 0 }));
  // Round 2: Δ = 2; m = 0.5 + 2 = 2.5; version 2 = INITIAL + 3.5.
  await api.submitUpdate(joined[0].token, 2, encodeUpdate(new Array(9).fill(2), { modelVersion: 1 }));
  await api.submitUpdate(joined[1].token, 2, encodeUpdate(new Array(9).fill(2), { modelVersion: 1 }));
  near(await version(api, 1), Array.from(INITIAL, (g) => g + 1));
  near(await version(api, 2), Array.from(INITIAL, (g) => g + 3.5));
  api.close();
  await first.close();

  // One state is kept (the last closed round's): m = 2.5 for each of the 9 parameters, 8 + 4 × 9 bytes.
  const stored = await sqlRows<{ number: number; state: Buffer }>(first.db, 'SELECT number, optimizer_state AS state FROM rounds WHERE optimizer_state IS NOT NULL');
  assert.deepEqual(stored.map((r) => [r.number, r.state.byteLength]), [[2, 44]]);
  assert.deepEqual(Array.from(decodeServerOptimizerState(stored[0].state).m!), new Array(9).fill(2.5));

  // After a restart, round 3 starts from the stored m: Δ = 0 → m = 1.25; version 3 = INITIAL + 4.75.
  const second = await testServer({ tasks: [task], db: first.db });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });
  const again = createFederationApi(second.url, { WebSocket });
  t.after(() => again.close());
  for (const j of joined) await again.join('test-task', { token: j.token });
  await again.submitUpdate(joined[0].token, 3, encodeUpdate(new Array(9).fill(0), { modelVersion: 2 }));
  await again.submitUpdate(joined[1].token, 3, encodeUpdate(new Array(9).fill(0), { modelVersion: 2 }));
  await waitFor('version 3', () => again.heartbeat(joined[0].token), (s) => s.modelVersion === 3);
  near(await version(again, 3), Array.from(INITIAL, (g) => g + 4.75));
});

test('a heartbeating participant that never submits holds rounds 1 and 2 to their deadline, not round 3 (maxMissedRounds 2)', async (t) => {
  const server = await testServer({
    tasks: [testTask({ minParticipants: 2, maxMissedRounds: 2 })],
    timings: { heartbeatTimeoutMs: 10_000, roundDeadlineMs: 1_000 },
  });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 3, t);
  const timer = setInterval(() => void api.heartbeat(joined[2].token).catch(() => {}), 100);
  t.after(() => clearInterval(timer));
  const submitBoth = async (round: number) => {
    await api.submitUpdate(joined[0].token, round, encodeUpdate(new Array(9).fill(1), { modelVersion: round - 1 }));
    await api.submitUpdate(joined[1].token, round, encodeUpdate(new Array(9).fill(1), { modelVersion: round - 1 }));
    return api.heartbeat(joined[0].token);
  };

  for (const round of [1, 2]) {
    const after = await submitBoth(round);
    assert.deepEqual([after.round, after.phase], [round, 'open'], `round ${round} still waits for the third participant`);
    await waitFor(`round ${round + 1}`, () => api.heartbeat(joined[0].token), (s) => s.round === round + 1);
  }
  // Round 3: the third missed 2 rounds in a row; the others' updates close the round at once, before its deadline.
  const after = await submitBoth(3);
  assert.deepEqual([after.round, after.modelVersion], [4, 3]);

  const rounds = await roundHistory(server);
  assert.deepEqual(
    rounds.filter((r) => r.number <= 3).map((r) => [r.number, r.phase, r.submitted, r.participants]),
    [
      [3, 'closed', 2, 2],
      [2, 'closed', 2, 3],
      [1, 'closed', 2, 3],
    ],
  );
  // It sends in round 4: waited for again from round 5.
  await api.submitUpdate(joined[2].token, 4, encodeUpdate(new Array(9).fill(1), { modelVersion: 3 }));
  const round4 = await submitBoth(4);
  assert.equal(round4.round, 5);
  const round5 = await submitBoth(5);
  assert.deepEqual([round5.round, round5.phase], [5, 'open']);
});
