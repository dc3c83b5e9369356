import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { decodeWeights, getBuiltinTask, holdOut, parseTabular, womenSurviveAccuracy, type Dataset, type Task } from '@disco/core';
import { closeDiscoClient, createDiscoClient, createFederationApi } from '@disco/client';
import { createTaskAsAdmin, disco, startFederatedTrain, startServe, stop, writeTitanicShards, type DiscoProcess } from './cli-helpers.js';

/**
 * Several `disco train --scheme federated` processes against a real `disco serve`: the same global
 * model at the end, a participant killed mid-round, a server killed and restarted between rounds.
 */

const ADMIN = 'cli-federated-admin';
let dir: string;
let shards: string[];
const running: DiscoProcess[] = [];

/** The passengers a client with this file holds out (the task's validation split, 20 % with its seed): nobody trains on them. */
function heldOutOf(file: string): Dataset {
  const titanic = getBuiltinTask('titanic') as Task;
  const { validation } = holdOut(parseTabular(readFileSync(file, 'utf8'), titanic), titanic.training.validationSplit, titanic.training.seed);
  if (!validation) throw new Error(`no validation split in ${file}`);
  return validation;
}

/** A federated copy of the titanic task with short rounds, created on the server with the admin token. */
async function createTask(url: string, id: string, overrides: { rounds: number; minParticipants: number; roundDeadlineSeconds: number }): Promise<Task> {
  const titanic = getBuiltinTask('titanic') as Task;
  const task: Task = {
    ...titanic,
    id,
    minParticipants: overrides.minParticipants,
    roundDeadlineSeconds: overrides.roundDeadlineSeconds,
    training: { ...titanic.training, rounds: overrides.rounds, epochsPerRound: 2 },
  };
  await createTaskAsAdmin(url, ADMIN, task);
  return task;
}

function train(url: string, taskId: string, data: string, out: string): DiscoProcess {
  const proc = startFederatedTrain(url, taskId, data, out);
  running.push(proc);
  return proc;
}

async function roundsOf(url: string, taskId: string) {
  const client = createDiscoClient(url, { WebSocket });
  try {
    return (await client.rounds.list.query({ taskId })).reverse();
  } finally {
    closeDiscoClient(client);
  }
}

/** A port free right now (for a server that must come back on the same address). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-federated-'));
  shards = writeTitanicShards(dir, 3);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => stop(p, 'SIGKILL')));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('disco train --scheme federated against disco serve', () => {
  test('three client processes finish with identical global weights, above 0.80 and the women-survive rule on the passengers they held out', async () => {
    const server = await startServe(['--port', '0', '--db', path.join(dir, 'three.sqlite'), '--admin-token', ADMIN]);
    running.push(server);
    await createTask(server.url, 'titanic-three', { rounds: 3, minParticipants: 3, roundDeadlineSeconds: 60 });
    const outs = [1, 2, 3].map((i) => path.join(dir, `three-${i}`));

    const clients = shards.map((data, i) => train(server.url, 'titanic-three', data, outs[i]));
    const codes = await Promise.all(clients.map((c) => c.exited));

    assert.deepEqual(codes, [0, 0, 0], clients.map((c) => c.stderr()).join('\n'));
    const accuracies: number[] = [];
    for (const client of clients) {
      const done = client.events.at(-1) as { type: string; modelVersion: number; accuracy: number };
      assert.equal(done.type, 'done');
      assert.equal(done.modelVersion, 3);
      accuracies.push(done.accuracy);
      assert.ok(client.events.some((e) => e.type === 'round' && e.round === 3));
    }
    // Each client scores the final global model on the passengers it held out: together ~262 passengers nobody
    // trained on (one client's ~87 are too few to judge). Weighted by their counts, the accuracies are the global
    // model's on all of them, which must beat 0.80 and the women-survive rule on the same passengers.
    const heldOut = shards.map(heldOutOf);
    const total = heldOut.reduce((n, h) => n + h.count, 0);
    const accuracy = heldOut.reduce((sum, h, i) => sum + accuracies[i] * h.count, 0) / total;
    const rule = heldOut.reduce((sum, h) => sum + womenSurviveAccuracy(h) * h.count, 0) / total;
    assert.ok(accuracy >= 0.8 && accuracy > rule, `accuracy ${accuracy} on ${total} held-out passengers (${accuracies.join(', ')}), women-survive rule ${rule}`);
    const weights = outs.map((out) => readFileSync(path.join(out, 'weights.bin')));
    assert.ok(weights[0].equals(weights[1]) && weights[0].equals(weights[2]), 'the three saved models hold the same weights');
    // ... which are the server's version 3.
    const api = createFederationApi(server.url, { WebSocket });
    const global = decodeWeights(await api.downloadWeights('titanic-three', 3)).weights.values;
    api.close();
    assert.ok(weights[0].equals(Buffer.from(global.buffer, global.byteOffset, global.byteLength)));
    const rounds = await roundsOf(server.url, 'titanic-three');
    assert.deepEqual(
      rounds.filter((r) => r.phase === 'closed').map((r) => [r.number, r.modelVersion, r.submitted]),
      [
        [1, 1, 3],
        [2, 2, 3],
        [3, 3, 3],
      ],
    );

    // simulate against this server refuses to start clients that could never close a round.
    const tooFew = await disco(['simulate', '--server', server.url, '--task', 'titanic', '--clients', '1', '--rounds', '1']);
    assert.equal(tooFew.code, 1);
    assert.equal(tooFew.stderr, `disco: task "titanic" on ${server.url} needs at least 2 participants per round: run --clients 2 or more\n`);
  });

  test('a client killed mid-round: the round closes at its deadline with the others and training goes on', async () => {
    const server = await startServe(['--port', '0', '--db', path.join(dir, 'killed.sqlite'), '--admin-token', ADMIN]);
    running.push(server);
    await createTask(server.url, 'titanic-killed', { rounds: 3, minParticipants: 2, roundDeadlineSeconds: 6 });
    const [a, b, victim] = shards.map((data, i) => train(server.url, 'titanic-killed', data, path.join(dir, `killed-${i + 1}`)));

    // The victim's first closed round (1, or 2 when it started after round 1's updates were in): it now
    // trains the next round, so kill it there without a goodbye.
    const first = (await victim.waitForEvent((e) => e.type === 'round')).round as number;
    assert.ok(first < 3, `the victim's first round event was round ${first}`);
    victim.child.kill('SIGKILL');
    const codes = await Promise.all([a.exited, b.exited]);

    assert.deepEqual(codes, [0, 0], a.stderr() + b.stderr());
    for (const client of [a, b]) assert.equal((client.events.at(-1) as { modelVersion: number }).modelVersion, 3);
    const rounds = await roundsOf(server.url, 'titanic-killed');
    const closed = rounds.filter((r) => r.phase === 'closed');
    assert.deepEqual(closed.map((r) => r.modelVersion), [1, 2, 3]);
    assert.ok(closed[0].submitted >= 2, `round 1 closed with ${closed[0].submitted} updates`);
    // The round after the victim's last one waited for it until its deadline, then closed with the two others.
    const underTest = closed[first];
    assert.equal(underTest.submitted, 2);
    assert.ok((underTest.durationMs ?? 0) >= 5_000, `round ${first + 1} took ${underTest.durationMs} ms`);
  });

  test('the server killed and restarted between rounds: training resumes, the rounds in the database are intact', async () => {
    const port = await freePort();
    const db = path.join(dir, 'restart.sqlite');
    const serveArgs = ['--port', String(port), '--db', db, '--admin-token', ADMIN];
    let server = await startServe(serveArgs);
    running.push(server);
    await createTask(server.url, 'titanic-restart', { rounds: 4, minParticipants: 2, roundDeadlineSeconds: 60 });
    const clients = shards.slice(0, 2).map((data, i) => train(server.url, 'titanic-restart', data, path.join(dir, `restart-${i + 1}`)));

    await clients[0].waitForEvent((e) => e.type === 'round' && e.round === 1);
    const before = (await roundsOf(server.url, 'titanic-restart')).filter((r) => r.phase === 'closed');
    await stop(server, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    server = await startServe(serveArgs);
    running.push(server);
    const codes = await Promise.all(clients.map((c) => c.exited));

    assert.deepEqual(codes, [0, 0], clients.map((c) => c.stderr()).join('\n'));
    for (const client of clients) {
      assert.equal((client.events.at(-1) as { modelVersion: number }).modelVersion, 4);
      assert.ok(client.events.some((e) => e.type === 'log' && /reconnected/.test(String(e.message))), 'the client reconnected by itself');
    }
    const weights = clients.map((_, i) => readFileSync(path.join(dir, `restart-${i + 1}`, 'weights.bin')));
    assert.ok(weights[0].equals(weights[1]));
    const after = await roundsOf(server.url, 'titanic-restart');
    // Every round closed before the crash is still there, unchanged.
    for (const round of before) assert.deepEqual(after.find((r) => r.number === round.number), round);
    assert.deepEqual(after.filter((r) => r.phase === 'closed').map((r) => r.modelVersion), [1, 2, 3, 4]);
  });
});
