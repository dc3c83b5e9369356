import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, type FederationApi } from '@disco/core';
import { createFederationApi } from '@disco/client';
import { encodeUpdate, INITIAL, joinAll, roundHistory, sqlRows, testServer, testTask, waitFor, WebSocket } from './helpers.js';

/** Keeps a participant alive until the returned function is called. */
function heartbeating(api: FederationApi, token: string, everyMs = 100): () => void {
  const timer = setInterval(() => void api.heartbeat(token).catch(() => {}), everyMs);
  return () => clearInterval(timer);
}

test('a round closes at its deadline with the others when a client stops heartbeating', async (t) => {
  const server = await testServer({
    tasks: [testTask({ minParticipants: 2 })],
    timings: { heartbeatTimeoutMs: 10_000, roundDeadlineMs: 800 },
  });
  t.after(() => server.cleanup());
  // The round's clock starts with its first participant, so no earlier than this (joins may be slow on a busy machine).
  const opened = Date.now();
  const { api, joined } = await joinAll(server, 3, t);

  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1), { samples: 1 }));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(3), { samples: 1 }));
  const state = await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2, 5000);

  assert.ok(Date.now() - opened >= 700, 'waited for the third participant until the deadline');
  assert.equal(state.modelVersion, 1);
  const [, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.submitted, round1.participants, round1.modelVersion], ['closed', 2, 3, 1]);
  const v1 = decodeWeights(await api.downloadWeights('test-task', 1)).weights.values;
  assert.deepEqual(Array.from(v1), Array.from(INITIAL.map((g) => g + 2)));
});

test('a participant that misses its heartbeats is dropped and the round closes without waiting for it', async (t) => {
  const server = await testServer({
    tasks: [testTask({ minParticipants: 2 })],
    timings: { heartbeatTimeoutMs: 400, roundDeadlineMs: 30_000 },
  });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 3, t);
  const stops = [heartbeating(api, joined[0].token), heartbeating(api, joined[1].token)];
  t.after(() => stops.forEach((stop) => stop()));

  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1)));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(1)));
  const state = await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2, 5000);

  assert.equal(state.participants, 2);
  const [, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.participants, round1.submitted], ['closed', 2, 2]);
});

test('a round below the minimum is extended, then failed, and the next opens from the same version', async (t) => {
  const server = await testServer({
    tasks: [testTask({ minParticipants: 2 })],
    timings: { heartbeatTimeoutMs: 10_000, roundDeadlineMs: 300, maxExtensions: 1 },
  });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 2, t);
  const states: number[] = [];
  const stop = api.watchRounds('test-task', joined[0].token, (s) => states.push(s.round));
  t.after(stop);

  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1)));
  await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2, 5000);

  const [round2, round1] = await roundHistory(server);
  assert.equal(round1.phase, 'failed');
  assert.equal(round1.extensions, 1);
  assert.equal(round1.failureReason, 'only 1 of the 2 updates needed arrived before the deadline (extended 1 times)');
  assert.equal(round1.modelVersion, null);
  assert.deepEqual([round2.number, round2.phase, round2.baseVersion], [2, 'open', 0]);
  // Round 2 trains from version 0 again: an update against version 0 is accepted.
  assert.deepEqual(await api.submitUpdate(joined[0].token, 2, encodeUpdate(new Array(9).fill(1), { modelVersion: 0 })), { accepted: true, round: 2 });
});

test('with nobody left, a round waits without a deadline instead of failing in a loop', async (t) => {
  const server = await testServer({ tasks: [testTask({ minParticipants: 2 })], timings: { roundDeadlineMs: 150, maxExtensions: 0 } });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 1, t);
  assert.ok(joined[0].state.deadline);

  await api.leave(joined[0].token);
  await new Promise((r) => setTimeout(r, 500));

  const rounds = await roundHistory(server);
  assert.deepEqual(
    rounds.map((r) => [r.number, r.phase, r.deadline]),
    [[1, 'open', null]],
  );
  const again = await api.join('test-task');
  assert.ok(again.state.deadline! > Date.now(), 'the clock starts again with a participant');
});

test('a server restart between rounds resumes training; closed rounds and versions are intact', async (t) => {
  const first = await testServer({ tasks: [testTask({ minParticipants: 2 })] });
  const db = first.db;
  const { api, joined } = await joinAll(first, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1)));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(1)));
  await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2);
  const before = await roundHistory(first);
  await first.close();

  const second = await testServer({ db, tasks: [testTask({ minParticipants: 2 })] });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });
  const api2 = createFederationApi(second.url, { WebSocket });
  t.after(() => api2.close());

  assert.deepEqual(await roundHistory(second), before, 'rounds in the database are intact');
  const rejoined = await Promise.all(joined.map((j) => api2.join('test-task', { token: j.token })));
  assert.deepEqual(rejoined.map((r) => r.participantId), joined.map((j) => j.participantId));
  assert.deepEqual([rejoined[0].state.round, rejoined[0].state.phase, rejoined[0].state.modelVersion], [2, 'open', 1]);
  await api2.submitUpdate(joined[0].token, 2, encodeUpdate(new Array(9).fill(1), { modelVersion: 1 }));
  await api2.submitUpdate(joined[1].token, 2, encodeUpdate(new Array(9).fill(1), { modelVersion: 1 }));
  await waitFor('round 3', () => api2.heartbeat(joined[0].token), (s) => s.round === 3);
  const v2 = decodeWeights(await api2.downloadWeights('test-task')).weights.values;
  assert.deepEqual(Array.from(v2), Array.from(INITIAL.map((g) => g + 1 + 1)));
});

test('a restart during a round loses no accepted update: the round carries on and closes with every update (stored deltas, decision 0015)', async (t) => {
  const first = await testServer({ tasks: [testTask({ minParticipants: 2 })] });
  const { api, joined } = await joinAll(first, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1)));
  await first.close();

  const second = await testServer({ db: first.db, tasks: [testTask({ minParticipants: 2 })] });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });
  const api2 = createFederationApi(second.url, { WebSocket });
  t.after(() => api2.close());

  const [open] = await roundHistory(second);
  assert.deepEqual([open.number, open.phase, open.submitted], [1, 'open', 1], 'round 1 is still open with its update');
  const rejoined = await api2.join('test-task', { token: joined[1].token });
  assert.deepEqual([rejoined.state.round, rejoined.state.submitted], [1, 1]);
  await api2.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(3)));
  await waitFor('round 2', () => api2.heartbeat(joined[0].token), (s) => s.round === 2);

  const [round2, round1] = await roundHistory(second);
  assert.deepEqual([round1.phase, round1.submitted, round1.modelVersion], ['closed', 2, 1]);
  assert.deepEqual([round2.number, round2.phase, round2.baseVersion], [2, 'open', 1]);
  // Both updates are in version 1, the one sent before the restart included: the mean of 1 and 3.
  const v1 = decodeWeights(await api2.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 2)) < 1e-6, `${value} at ${i}`));
  assert.deepEqual(await sqlRows(second.db, 'SELECT count(*) AS n, count(delta) AS kept FROM updates'), [{ n: 2, kept: 0 }], 'the close cleared the stored deltas');
});

test('a round caught aggregating by a restart is aggregated again at start-up from its stored updates', async (t) => {
  const first = await testServer({ tasks: [testTask({ minParticipants: 2 })] });
  const { api, joined } = await joinAll(first, 3, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1)));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(3)));
  await first.close();
  // As if the process had ended between `aggregating` and the close's transaction.
  await sqlRows(first.db, "UPDATE rounds SET phase = 'aggregating' WHERE number = 1");

  const second = await testServer({ db: first.db, tasks: [testTask({ minParticipants: 2 })] });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });

  const [round2, round1] = await waitFor('round 1 closed', () => roundHistory(second), (rounds) => rounds[rounds.length - 1].phase === 'closed');
  assert.deepEqual([round1.phase, round1.submitted, round1.modelVersion], ['closed', 2, 1]);
  assert.deepEqual([round2.number, round2.phase, round2.baseVersion], [2, 'open', 1]);
  const api2 = createFederationApi(second.url, { WebSocket });
  t.after(() => api2.close());
  const v1 = decodeWeights(await api2.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 2)) < 1e-6, `${value} at ${i}`));
});

test('a participant joining after the first update of a round is waited for from the next round', async (t) => {
  const server = await testServer({ tasks: [testTask({ minParticipants: 2 })], timings: { heartbeatTimeoutMs: 10_000, roundDeadlineMs: 30_000 } });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(new Array(9).fill(1)));

  const late = await api.join('test-task');
  assert.equal((late as { firstRound?: number }).firstRound, 2);
  assert.equal(late.state.modelVersion, 0, 'the joiner gets the current global model');
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(new Array(9).fill(1)));
  const state = await waitFor('round 2', () => api.heartbeat(late.token), (s) => s.round === 2, 3000);

  assert.equal(state.participants, 3, 'round 1 closed without waiting for the late joiner, who takes part from round 2');
});
