import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeWeights, DiscoApiError, type RoundState } from '@disco/core';
import { startServer } from '../src/server.js';
import { ADMIN, encodeUpdate, fakeToolkit, freshDb, INITIAL, joinAll, putUpdate, roundHistory, sqlRows, tempDir, TEST_DB, testServer, testTask, waitFor } from './helpers.js';

/** An asynchronous test task (decision 0013): one participant is enough, K updates a version. */
function asyncTask(settings: { bufferSize?: number; maxStaleness?: number; strategy?: 'fedavg' | 'median' } = {}) {
  return testTask({
    mode: 'async',
    minParticipants: 1,
    async: { bufferSize: settings.bufferSize ?? 2, maxStaleness: settings.maxStaleness ?? 10 },
    ...(settings.strategy && { aggregation: { strategy: settings.strategy } }),
  });
}

const fill = (value: number) => new Array<number>(9).fill(value);

test('an update older than maxStaleness is refused with STALE_UPDATE naming the current version; a stale one within it is weighted', async (t) => {
  const server = await testServer({ tasks: [asyncTask({ bufferSize: 1, maxStaleness: 1 })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 1, t);
  const token = joined[0].token;
  for (const version of [0, 1, 2]) await api.submitUpdate(token, version + 1, encodeUpdate(fill(0.5), { modelVersion: version }));

  const refused = await api.submitUpdate(token, 2, encodeUpdate(fill(1), { modelVersion: 1 })).catch((error: unknown) => error);
  const accepted = await api.submitUpdate(token, 3, encodeUpdate(fill(1), { modelVersion: 2 }));

  assert.ok(refused instanceof DiscoApiError && refused.code === 'STALE_UPDATE', String(refused));
  assert.match(refused.message, /2 versions behind the current version 3/);
  assert.deepEqual(accepted, { accepted: true, round: 4, staleness: 1 });
  const [, version4] = await roundHistory(server);
  assert.equal(version4.modelVersion, 4);
  assert.deepEqual(version4.contributions?.map((c) => [c.participantId, c.staleness, c.weight]), [[joined[0].participantId, 1, 1 / Math.SQRT2]]);
  // Versions 1–3 each added 0.5; version 4 added 1 × 1/√2 (FedAvg of one update scaled by its staleness weight).
  const v4 = decodeWeights(await api.downloadWeights('test-task', 4)).weights.values;
  v4.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 1.5 + Math.SQRT1_2)) < 1e-5, `${value}`));
});

test('the buffer closes every K updates whoever sends them; a late joiner contributes to the next version; the state says async', async (t) => {
  const server = await testServer({ tasks: [asyncTask({ bufferSize: 2 })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 2, t);
  const states: RoundState[] = [];
  t.after(api.watchRounds('test-task', joined[0].token, (s) => states.push(s)));
  // A fast participant sends twice for the same buffer (plain FedAvg allows it): version 1 is made without B.
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(1), { samples: 10 }));
  // The same update again (a retry whose answer was lost) counts once.
  const retried = await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(1), { samples: 10 })).catch((error: unknown) => error);
  assert.ok(retried instanceof DiscoApiError && retried.code === 'DUPLICATE_UPDATE', String(retried));
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(3), { samples: 30 }));
  const late = await api.join('test-task');

  const fromLate = await api.submitUpdate(late.token, 2, encodeUpdate(fill(2), { modelVersion: 1 }));
  const fromB = await api.submitUpdate(joined[1].token, 1, encodeUpdate(fill(4), { modelVersion: 0 }));

  assert.deepEqual(fromLate, { accepted: true, round: 2, staleness: 0 });
  assert.deepEqual(fromB, { accepted: true, round: 2, staleness: 1 });
  const [open, version2, version1] = await roundHistory(server);
  assert.deepEqual([version1.modelVersion, version1.contributions?.map((c) => c.participantId)], [1, [joined[0].participantId, joined[0].participantId]]);
  assert.deepEqual([version2.modelVersion, version2.participants, version2.contributions?.map((c) => [c.participantId, c.staleness])], [
    2,
    2,
    [
      [late.participantId, 0],
      [joined[1].participantId, 1],
    ],
  ]);
  assert.deepEqual([open.phase, open.baseVersion, open.deadline], ['open', 2, null]);
  // v1 = 0 + (10·1 + 30·3)/40 = 2.5; v2 = v1 + (10·2 + 10·4/√2)/20.
  const v2 = decodeWeights(await api.downloadWeights('test-task', 2)).weights.values;
  assert.ok(Math.abs(v2[0] - (INITIAL[0] + 2.5 + (20 + 40 * Math.SQRT1_2) / 20)) < 1e-5, `${v2[0]}`);
  const last = await waitFor('the announced state of version 2', () => states.at(-1), (s) => s?.modelVersion === 2);
  assert.deepEqual([last?.mode, last?.bufferSize, last?.round, last?.submitted, last?.deadline], ['async', 2, 3, 0, null]);
});

test('a participant leaving mid-training stalls nobody: a one-update-each buffer closes with those still there', async (t) => {
  // Median keeps one update per participant and buffer, so the buffer of 3 waits for every active participant.
  const server = await testServer({ tasks: [asyncTask({ bufferSize: 3, strategy: 'median' })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 3, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(1)));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(fill(3)));
  const again = await api.submitUpdate(joined[1].token, 1, encodeUpdate(fill(3))).catch((error: unknown) => error);
  assert.ok(again instanceof DiscoApiError && again.code === 'DUPLICATE_UPDATE', String(again));
  assert.equal((await api.heartbeat(joined[0].token)).modelVersion, 0);

  await api.leave(joined[2].token);

  const state = await waitFor('version 1', () => api.heartbeat(joined[0].token), (s) => s.modelVersion === 1, 5000);
  assert.equal(state.round, 2);
  const [, version1] = await roundHistory(server);
  assert.deepEqual([version1.submitted, version1.participants], [2, 2]);
});

test('a server restart in async mode loses no accepted update and no version', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const options = { port: 0, db: await freshDb(tmp.dir), adminToken: ADMIN, modelToolkit: fakeToolkit, builtinTasks: [asyncTask({ bufferSize: 3 })], timings: { tickMs: 50 } };
  const first = await startServer(options);
  const before = await joinAll(first, 2, t);
  await before.api.submitUpdate(before.joined[0].token, 1, encodeUpdate(fill(1), { samples: 10 }));
  await before.api.submitUpdate(before.joined[1].token, 1, encodeUpdate(fill(2), { samples: 10 }));
  before.api.close();
  await first.close();

  const second = await startServer(options);
  t.after(() => second.close());
  const after = await joinAll(second, 0, t);
  const restored = (await after.api.join('test-task', { token: before.joined[0].token })).state;
  const third = await putUpdate(second.url, before.joined[1].token, 1, encodeUpdate(fill(6), { samples: 20 }));

  assert.deepEqual([restored.round, restored.submitted, restored.modelVersion], [1, 2, 0]);
  assert.equal(third.status, 200, JSON.stringify(third.body));
  const [, version1] = await roundHistory(second);
  assert.deepEqual([version1.phase, version1.modelVersion, version1.submitted, version1.contributions?.length], ['closed', 1, 3, 3]);
  // All three updates are in version 1: (10·1 + 10·2 + 20·6) / 40 = 3.75.
  const v1 = decodeWeights(await after.api.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 3.75)) < 1e-5, `${value}`));
  // The version's transaction cleared the buffered bytes; the rows stay as its history.
  assert.deepEqual(await sqlRows(options.db, 'SELECT count(*) AS rows, count(delta) AS bytes, count(file) AS files FROM async_updates'), [{ rows: 3, bytes: 0, files: 0 }]);
});

test("a buffer's updates are kept until its version is stored (files of the buffer on SQLite, rows on PostgreSQL), then let go", async (t) => {
  const server = await testServer({ tasks: [asyncTask({ bufferSize: 2 })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 2, t);
  const sent = encodeUpdate(fill(1), { samples: 10 });
  await api.submitUpdate(joined[0].token, 1, sent);
  const [{ id }] = await sqlRows<{ id: number }>(server.db, "SELECT id FROM rounds WHERE task_id = 'test-task' AND number = 1");
  const kept = () =>
    sqlRows<{ file: string | null; hasDelta: number }>(server.db, 'SELECT file, CASE WHEN delta IS NULL THEN 0 ELSE 1 END AS "hasDelta" FROM async_updates WHERE round_id = ? ORDER BY id', [id]);
  const folder = path.join(`${server.db}.updates`, String(id));

  const [during] = await kept();
  if (TEST_DB === 'sqlite') {
    assert.match(during.file ?? '', new RegExp(`^${id}/[0-9a-f-]{36}\\.update$`));
    assert.equal(during.hasDelta, 0);
    assert.deepEqual(new Uint8Array(readFileSync(path.join(`${server.db}.updates`, during.file!))), sent, 'the file holds the update as it was sent');
  } else assert.deepEqual([during.file, during.hasDelta], [null, 1]);
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(fill(3), { samples: 10 }));
  await waitFor('version 1', () => api.heartbeat(joined[0].token), (s) => s.modelVersion === 1);

  assert.deepEqual(await kept(), [{ file: null, hasDelta: 0 }, { file: null, hasDelta: 0 }], 'the version let the buffer go; its rows stay as its history');
  if (TEST_DB === 'sqlite') await waitFor("the buffer's folder removed", () => existsSync(folder), (exists) => !exists);
  const v1 = decodeWeights(await api.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 2)) < 1e-6, `${value}`));
});

test('a buffer caught aggregating by a restart is aggregated at start-up from its stored updates', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const options = { port: 0, db: await freshDb(tmp.dir), adminToken: ADMIN, modelToolkit: fakeToolkit, builtinTasks: [asyncTask({ bufferSize: 3 })], timings: { tickMs: 50 } };
  const first = await startServer(options);
  const { api, joined } = await joinAll(first, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(1)));
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(fill(3)));
  api.close();
  await first.close();
  // As if the process had ended between `aggregating` and the version's transaction.
  await sqlRows(options.db, "UPDATE rounds SET phase = 'aggregating' WHERE number = 1");

  const second = await startServer(options);
  t.after(() => second.close());

  const [open, version1] = await roundHistory(second);
  assert.deepEqual([version1.phase, version1.modelVersion, version1.submitted], ['closed', 1, 2]);
  assert.deepEqual([open.phase, open.baseVersion], ['open', 1]);
});

test('differential privacy in async mode: each version is one step of the accountant, one update per participant and buffer', async (t) => {
  const task = testTask({ mode: 'async', minParticipants: 1, async: { bufferSize: 2 }, privacy: { clippingNorm: 1, noiseMultiplier: 2 } });
  const server = await testServer({ tasks: [task] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(0.1)));
  const second = await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(0.2))).catch((error: unknown) => error);
  await api.submitUpdate(joined[1].token, 1, encodeUpdate(fill(0.1)));
  await api.submitUpdate(joined[0].token, 2, encodeUpdate(fill(0.1), { modelVersion: 1 }));
  await api.submitUpdate(joined[1].token, 2, encodeUpdate(fill(0.1), { modelVersion: 1 }));

  assert.ok(second instanceof DiscoApiError && second.code === 'DUPLICATE_UPDATE', String(second));
  assert.match(second.message, /differential privacy accounts each version with one update per participant/);
  const [open, version2, version1] = await roundHistory(server);
  assert.deepEqual([version1.modelVersion, version2.modelVersion, open.phase], [1, 2, 'open']);
  assert.ok(version1.epsilon! > 0 && version2.epsilon! > version1.epsilon!, `ε ${version1.epsilon}, ${version2.epsilon}`);
  const state = await api.heartbeat(joined[0].token);
  assert.equal(state.privacy?.epsilon, version2.epsilon);
});

test('a robust rule over a buffer runs in a worker thread when asked, and the version is its result', async (t) => {
  const server = await testServer({ tasks: [asyncTask({ bufferSize: 3, strategy: 'median' })], timings: { offThreadBytes: 0 } });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 3, t);
  for (const [i, value] of [1, 3, 10].entries()) await api.submitUpdate(joined[i].token, 1, encodeUpdate(fill(value)));

  await waitFor('version 1', () => api.heartbeat(joined[0].token), (s) => s.modelVersion === 1, 10_000);

  const v1 = decodeWeights(await api.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 3)) < 1e-6, `${value}`));
  const [, version1] = await roundHistory(server);
  assert.deepEqual([version1.phase, version1.contributions?.length], ['closed', 3]);
});

