import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { getBuiltinTask, seededPermutation, womenSurviveAccuracy, type Task } from '@disco/core';
import { loadBuiltinDataset, TITANIC_TEST_FRACTION, titanicCsvPath } from '@disco/core/node';
import { closeDiscoClient, createDiscoClient } from '@disco/client';
import { disco, startDisco, startServe, stop, type DiscoProcess } from './cli-helpers.js';

/**
 * Secure aggregation from the command line (issue 9): four `disco train` processes against a real `disco serve`
 * learn the same held-out accuracy with and without masking; `disco simulate --secure` says so in its done line.
 */

const ADMIN = 'cli-secure-admin';
const titanic = getBuiltinTask('titanic') as Task;
let dir: string;
let shards: string[];
let testCsv: string;
const running: DiscoProcess[] = [];

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-secure-'));
  // The built-in test split (the passengers `disco simulate` scores on) is held out of every shard, so that the
  // final global model is judged on passengers nobody trained on; the rest is dealt round-robin to 4 clients.
  const [header, ...rows] = readFileSync(titanicCsvPath, 'utf8').trim().split('\n');
  const order = seededPermutation(rows.length, titanic.training.seed);
  const testCount = Math.round(rows.length * TITANIC_TEST_FRACTION);
  const trainRows = [...order.subarray(testCount)].map((r) => rows[r]);
  testCsv = path.join(dir, 'test.csv');
  writeFileSync(testCsv, [header, ...[...order.subarray(0, testCount)].map((r) => rows[r])].join('\n'));
  shards = [0, 1, 2, 3].map((i) => {
    const file = path.join(dir, `passengers-${i + 1}.csv`);
    writeFileSync(file, [header, ...trainRows.filter((_, r) => r % 4 === i)].join('\n'));
    return file;
  });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => stop(p, 'SIGKILL')));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Four train processes on the four shards; the final global model's accuracy on the held-out test passengers. */
async function trainFour(url: string, taskId: string): Promise<{ accuracy: number; tested: number; done: Record<string, unknown>[] }> {
  const out = path.join(dir, taskId);
  const clients = shards.map((data, i) => {
    const proc = startDisco(['train', '--server', url, '--task', taskId, '--data', data, '--scheme', 'federated', '--json', ...(i === 0 ? ['--out', out] : [])]);
    running.push(proc);
    return proc;
  });
  const codes = await Promise.all(clients.map((c) => c.exited));
  assert.deepEqual(codes, [0, 0, 0, 0], clients.map((c) => c.stderr()).join('\n'));
  const done = clients.map((c) => c.events.at(-1) as Record<string, unknown>);
  const evaluation = await disco(['evaluate', '--task', 'titanic', '--model', out, '--data', testCsv, '--json']);
  assert.equal(evaluation.code, 0, evaluation.stderr);
  const result = evaluation.events.at(-1) as { accuracy: number; count: number };
  return { accuracy: result.accuracy, tested: result.count, done };
}

describe('secure aggregation from the command line', () => {
  test('4 disco train processes on a secure titanic task reach the plain run\'s test accuracy (within 1 point), ≥ 0.80 and above the women-survive rule', async () => {
    const server = await startServe(['--port', '0', '--db', path.join(dir, 'secure.sqlite'), '--admin-token', ADMIN]);
    running.push(server);
    const base: Task = { ...titanic, minParticipants: 4, roundDeadlineSeconds: 60, training: { ...titanic.training, rounds: 3 } };
    const admin = createDiscoClient(server.url, { token: ADMIN });
    try {
      await admin.tasks.create.mutate({ task: { ...base, id: 'titanic-plain' } });
      await admin.tasks.create.mutate({ task: { ...base, id: 'titanic-secure', privacy: { ...titanic.privacy, secureAggregation: true, clippingNorm: 10 } } });
    } finally {
      closeDiscoClient(admin);
    }

    const rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));
    const plain = await trainFour(server.url, 'titanic-plain');
    const secure = await trainFour(server.url, 'titanic-secure');

    assert.equal(secure.tested, 262);
    assert.ok(secure.done.every((d) => d.type === 'done' && d.modelVersion === 3 && d.secureAggregation === true));
    assert.ok(plain.done.every((d) => d.secureAggregation === undefined));
    console.log(`test accuracy (${String(secure.tested)} passengers): plain ${plain.accuracy.toFixed(4)}, secure ${secure.accuracy.toFixed(4)} (women-survive rule ${rule.toFixed(4)}); bytes sent per client: plain ${String(plain.done[0].bytesSent)}, secure ${String(secure.done[0].bytesSent)}`);
    assert.ok(Math.abs(secure.accuracy - plain.accuracy) <= 0.01, `secure ${secure.accuracy}, plain ${plain.accuracy}`);
    assert.ok(secure.accuracy >= 0.8 && secure.accuracy > rule, `secure accuracy ${secure.accuracy}, women-survive rule ${rule}`);
    // The server's record of the secure rounds: every one closed with the 4, and no per-client metrics.
    const client = createDiscoClient(server.url, { WebSocket });
    try {
      const rounds = (await client.rounds.list.query({ taskId: 'titanic-secure' })).reverse().filter((r) => r.phase === 'closed');
      assert.deepEqual(rounds.map((r) => [r.number, r.submitted, r.metrics]), [1, 2, 3].map((n) => [n, 4, null]));
    } finally {
      closeDiscoClient(client);
    }
  });

  test('disco simulate --secure: the done line says secureAggregation; fewer than 3 clients are refused', async () => {
    const run = await disco(['simulate', '--task', 'titanic', '--clients', '4', '--rounds', '2', '--secure', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const done = run.events.at(-1) as Record<string, unknown>;
    assert.equal(done.type, 'done');
    assert.equal(done.secureAggregation, true);
    assert.equal(done.rounds, 2);

    const two = await disco(['simulate', '--task', 'titanic', '--clients', '2', '--rounds', '1', '--secure']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /^disco: --secure needs --clients 3 or more: with 2, the sum of a round would reveal each client's update to the others/);
  });
});
