import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeWeights, readWeightsHeader, type FederationApi, type Task } from '@disco/core';
import { closeDiscoClient, createDiscoClient, createFederationApi } from '@disco/client';
import { ADMIN, encodeUpdate, INITIAL, joinAll, roundHistory, sqlRows, TEST_DB, testServer, testTask, waitFor, WebSocket } from './helpers.js';

/** Keeps a participant alive until the returned function is called. */
function heartbeating(api: FederationApi, token: string, everyMs = 100): () => void {
  const timer = setInterval(() => void api.heartbeat(token).catch(() => {}), everyMs);
  return () => clearInterval(timer);
}

const fill = (value: number) => new Array<number>(9).fill(value);

/** The id of round `number` of the test task (the name of its folder of update files on SQLite). */
async function roundId(db: string, number: number): Promise<number> {
  const [row] = await sqlRows<{ id: number }>(db, "SELECT id FROM rounds WHERE task_id = 'test-task' AND number = ?", [number]);
  return row.id;
}

/** SQLite: the folder of a round's update files, beside the database (decision 0016). */
const updateFolder = (db: string, id: number) => path.join(`${db}.updates`, String(id));

/** How a round's updates are kept, by row: the file naming each (SQLite), whether its row holds its delta (PostgreSQL). */
function keptUpdates(db: string, id: number): Promise<{ participantId: string; file: string | null; hasDelta: number }[]> {
  return sqlRows(db, 'SELECT participant_id AS "participantId", file, CASE WHEN delta IS NULL THEN 0 ELSE 1 END AS "hasDelta" FROM updates WHERE round_id = ? ORDER BY id', [id]);
}

/** A server stopped with round 1 open and the first of its 2 participants' updates kept: what a restart finds. */
async function stoppedMidRound(t: { after(fn: () => unknown): void }) {
  const first = await testServer({ tasks: [testTask({ minParticipants: 2 })] });
  const { api, joined } = await joinAll(first, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(1)));
  await first.close();
  const id = await roundId(first.db, 1);
  const [kept] = await keptUpdates(first.db, id);
  return { first, joined, id, kept };
}

/** A version's values as stored, byte for byte. */
async function versionBytes(api: FederationApi, version: number): Promise<Buffer> {
  const { values } = decodeWeights(await api.downloadWeights('test-task', version)).weights;
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}


/** A second server on the first one's database (a restart: `first` is closed), and a client of it; both cleaned up after the test. */
async function restart(first: Awaited<ReturnType<typeof testServer>>, tasks: Task[], t: { after(fn: () => unknown): void }) {
  const second = await testServer({ db: first.db, tasks });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });
  const api2 = createFederationApi(second.url, { WebSocket });
  t.after(() => api2.close());
  return { second, api2 };
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

  const { second, api2 } = await restart(first, [testTask({ minParticipants: 2 })], t);

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
  assert.deepEqual(await sqlRows(second.db, 'SELECT count(*) AS n, count(delta) AS kept, count(file) AS files FROM updates'), [{ n: 2, kept: 0, files: 0 }], 'the close cleared the stored deltas');
  if (TEST_DB === 'sqlite') await waitFor("round 1's update files removed", async () => existsSync(updateFolder(second.db, await roundId(second.db, 1))), (exists) => !exists);
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

test('each accepted update is kept until its round closes (a file of the round on SQLite, its row on PostgreSQL), then let go', async (t) => {
  const server = await testServer({ tasks: [testTask({ minParticipants: 2 })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 3, t);
  const sent = [encodeUpdate(fill(1), { samples: 10 }), encodeUpdate(fill(2), { samples: 10 })];
  await api.submitUpdate(joined[0].token, 1, sent[0]);
  await api.submitUpdate(joined[1].token, 1, sent[1]);
  const id = await roundId(server.db, 1);

  const during = await keptUpdates(server.db, id);
  assert.deepEqual(during.map((row) => row.participantId), [joined[0].participantId, joined[1].participantId]);
  if (TEST_DB === 'sqlite') {
    assert.deepEqual(during.map((row) => row.hasDelta), [0, 0], 'SQLite keeps no delta in the row');
    during.forEach((row, i) => {
      assert.match(row.file ?? '', new RegExp(`^${id}/[0-9a-f-]{36}\\.update$`));
      assert.deepEqual(new Uint8Array(readFileSync(path.join(`${server.db}.updates`, row.file!))), sent[i], 'the file holds the update as it was sent');
    });
    assert.deepEqual(readdirSync(updateFolder(server.db, id)).sort(), during.map((row) => row.file!.split('/')[1]).sort(), 'one file per accepted update, nothing else');
  } else assert.deepEqual(during.map((row) => [row.file, row.hasDelta]), [[null, 1], [null, 1]]);

  await api.submitUpdate(joined[2].token, 1, encodeUpdate(fill(3), { samples: 10 }));
  await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2);

  const [round2, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.submitted, round1.modelVersion, round2.baseVersion], ['closed', 3, 1, 1]);
  assert.deepEqual((await keptUpdates(server.db, id)).map((row) => [row.file, row.hasDelta]), [[null, 0], [null, 0], [null, 0]], 'the close let every update go');
  if (TEST_DB === 'sqlite') {
    await waitFor("round 1's folder removed", () => existsSync(updateFolder(server.db, id)), (exists) => !exists);
    assert.ok(existsSync(`${server.db}.updates`), 'the store itself stays, for the next rounds');
  }
  const v1 = decodeWeights(await api.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 2)) < 1e-6, `${value} at ${i}`));
});

/** Ways a stored update file may be found after a restart (a power loss, a disk fault), and what the round's failure then says. */
const damages: Array<{ how: string; damage: (file: string) => void; reason: RegExp }> = [
  {
    how: 'has a byte of its payload flipped',
    damage: (file) => {
      const bytes = readFileSync(file);
      bytes[readWeightsHeader(bytes).payloadStart + 1] ^= 0x40;
      writeFileSync(file, bytes);
    },
    reason: /: weights checksum mismatch: the payload is corrupted$/,
  },
  { how: 'is truncated', damage: (file) => truncateSync(file, readFileSync(file).byteLength - 4), reason: /: weights payload is 32 bytes, expected 36 for 9 float32 values$/ },
  { how: 'is missing', damage: (file) => unlinkSync(file), reason: /\(its stored copy is missing or damaged: a server restart after a power loss\?\)$/ },
];

for (const { how, damage, reason } of damages)
  test(`a restart mid-round after which a stored update file ${how} fails the round as a lost update; the next round opens from the same version`, { skip: TEST_DB !== 'sqlite' && 'SQLite keeps updates in files' }, async (t) => {
    const { first, joined, id, kept } = await stoppedMidRound(t);
    damage(path.join(`${first.db}.updates`, kept.file!));

    const { second, api2 } = await restart(first, [testTask({ minParticipants: 2 })], t);
    await api2.join('test-task', { token: joined[1].token });
    await api2.submitUpdate(joined[1].token, 1, encodeUpdate(fill(3)));
    const [round2, round1] = await waitFor('round 2', () => roundHistory(second), (rounds) => rounds[0].number === 2);

    assert.equal(round1.phase, 'failed');
    assert.equal(round1.modelVersion, null);
    assert.match(round1.failureReason ?? '', /^an update of this round was lost \(its stored copy is missing or damaged/);
    assert.match(round1.failureReason ?? '', reason);
    assert.deepEqual([round2.number, round2.phase, round2.baseVersion], [2, 'open', 0]);
    assert.deepEqual((await keptUpdates(second.db, id)).map((row) => row.file), [null, null], 'the failure let the updates go');
    await waitFor("round 1's folder removed", () => existsSync(updateFolder(second.db, id)), (exists) => !exists);
    // The task carries on from version 0.
    await api2.join('test-task', { token: joined[0].token });
    for (const j of joined) assert.deepEqual(await api2.submitUpdate(j.token, 2, encodeUpdate(fill(1), { modelVersion: 0 })), { accepted: true, round: 2 });
    await waitFor('round 3', () => api2.heartbeat(joined[0].token), (s) => s.round === 3);
    const v1 = decodeWeights(await api2.downloadWeights('test-task', 1)).weights.values;
    v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 1)) < 1e-6, `${value} at ${i}`));
  });

test("a round closed in-process (its running sum) and one read back after a restart (its stored updates) give byte-identical versions", async (t) => {
  const task = testTask({ minParticipants: 3 });
  // Values that are not round numbers, weighted by unequal sample counts. Each weighted value needs under 30 bits and
  // their exponents lie within 8 of each other, so the float64 sum is exact in any order (decision 0016: the two
  // orders may differ by a last bit only where that sum is inexact): the versions must be equal byte for byte.
  const values = [0, 1, 2].map((k) => Float32Array.from({ length: 9 }, (_, i) => Math.sin(k * 9 + i + 1) / (k + 1.7)));
  const samples = [7, 13, 29];
  const expected = INITIAL.map((g, i) => g + values.reduce((sum, v, k) => sum + v[i] * samples[k], 0) / (7 + 13 + 29));
  const update = (k: number) => encodeUpdate(values[k], { samples: samples[k] });

  // In-process: sent in the reverse of the participants' id order, the one a read-back sums them in.
  const inProcess = await testServer({ tasks: [task] });
  t.after(() => inProcess.cleanup());
  const a = await joinAll(inProcess, 3, t);
  const order = [...a.joined].sort((x, y) => (x.participantId < y.participantId ? 1 : -1));
  await a.api.submitUpdate(order[0].token, 1, update(0));
  await a.api.submitUpdate(order[1].token, 1, update(1));
  if (TEST_DB === 'sqlite') {
    // The stored copy of the first update is changed under the server (its payload, not its header): a close that
    // read it back would sum the changed values (a file this process wrote is not checked again); the running
    // sum, holding every update of the round, is what the close uses.
    const [kept] = await keptUpdates(inProcess.db, await roundId(inProcess.db, 1));
    const file = path.join(`${inProcess.db}.updates`, kept.file!);
    const bytes = readFileSync(file);
    bytes.fill(0, readWeightsHeader(bytes).payloadStart);
    writeFileSync(file, bytes);
  }
  await a.api.submitUpdate(order[2].token, 1, update(2));
  await waitFor('round 2 (in-process)', () => a.api.heartbeat(order[0].token), (s) => s.round === 2);
  const summed = await versionBytes(a.api, 1);

  // Restarted after two updates: the close reads the three stored updates back.
  const first = await testServer({ tasks: [task] });
  const b = await joinAll(first, 3, t);
  await b.api.submitUpdate(b.joined[0].token, 1, update(0));
  await b.api.submitUpdate(b.joined[1].token, 1, update(1));
  await first.close();
  const { api2 } = await restart(first, [task], t);
  await api2.join('test-task', { token: b.joined[2].token });
  await api2.submitUpdate(b.joined[2].token, 1, update(2));
  await waitFor('round 2 (restarted)', () => api2.heartbeat(b.joined[2].token), (s) => s.round === 2);
  const readBack = await versionBytes(api2, 1);

  assert.ok(readBack.equals(summed), `read back ${new Float32Array(readBack.buffer, readBack.byteOffset, 9).join()} != summed ${new Float32Array(summed.buffer, summed.byteOffset, 9).join()}`);
  new Float32Array(summed.buffer, summed.byteOffset, 9).forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-6, `${value} at ${i}, expected ${expected[i]}`));
});

test('a robust rule keeps no running sum: its close reads every stored update back, each one whole (median of 3)', async (t) => {
  const server = await testServer({ tasks: [testTask({ minParticipants: 3, aggregation: { strategy: 'median' } })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 3, t);
  // Read back through two reused buffers: an update kept as a view of one would be overwritten by the next but one.
  for (const [k, value] of [1, 3, 10].entries()) await api.submitUpdate(joined[k].token, 1, encodeUpdate(fill(value)));
  await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2);

  const [, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.strategy, round1.modelVersion], ['closed', 'median', 1]);
  const v1 = decodeWeights(await api.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 3)) < 1e-6, `${value} at ${i}`));
});

test('a start removes the update files no unfinished round names, and keeps those of its accepted updates', { skip: TEST_DB !== 'sqlite' && 'SQLite keeps updates in files' }, async (t) => {
  const { first, joined, id, kept } = await stoppedMidRound(t);
  // What a crash leaves: a file written but never named by a row (an hour old), the folder of a round that is no more.
  const store = `${first.db}.updates`;
  const orphan = path.join(updateFolder(first.db, id), '00000000-0000-4000-8000-000000000000.update');
  writeFileSync(orphan, encodeUpdate(fill(9)));
  const hourAgo = (Date.now() - 3_600_000) / 1000;
  utimesSync(orphan, hourAgo, hourAgo);
  mkdirSync(updateFolder(first.db, id + 100));
  writeFileSync(path.join(updateFolder(first.db, id + 100), '00000000-0000-4000-8000-000000000001.update'), 'x');

  const second = await testServer({ db: first.db, tasks: [testTask({ minParticipants: 2 })] });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });

  assert.deepEqual(readdirSync(store), [String(id)], 'only the open round keeps a folder');
  assert.deepEqual(readdirSync(updateFolder(first.db, id)), [kept.file!.split('/')[1]], "the round's accepted update stays, the orphan goes");
  const api2 = createFederationApi(second.url, { WebSocket });
  t.after(() => api2.close());
  await api2.join('test-task', { token: joined[1].token });
  await api2.submitUpdate(joined[1].token, 1, encodeUpdate(fill(3)));
  await waitFor('round 2', () => api2.heartbeat(joined[1].token), (s) => s.round === 2);
  const v1 = decodeWeights(await api2.downloadWeights('test-task', 1)).weights.values;
  v1.forEach((value, i) => assert.ok(Math.abs(value - (INITIAL[i] + 2)) < 1e-6, `${value} at ${i}`));
});

test("deleting a task mid-round removes its rounds' update files", { skip: TEST_DB !== 'sqlite' && 'SQLite keeps updates in files' }, async (t) => {
  const server = await testServer({ tasks: [testTask({ minParticipants: 2 })] });
  t.after(() => server.cleanup());
  const { api, joined } = await joinAll(server, 2, t);
  await api.submitUpdate(joined[0].token, 1, encodeUpdate(fill(1)));
  const id = await roundId(server.db, 1);
  assert.equal(readdirSync(updateFolder(server.db, id)).length, 1);

  const admin = createDiscoClient(server.url, { token: ADMIN });
  t.after(() => closeDiscoClient(admin));
  await admin.tasks.delete.mutate({ id: 'test-task' });

  assert.deepEqual(await sqlRows(server.db, 'SELECT count(*) AS n FROM updates'), [{ n: 0 }]);
  await waitFor("the deleted task's update files removed", () => existsSync(updateFolder(server.db, id)), (exists) => !exists, 2000);
});
