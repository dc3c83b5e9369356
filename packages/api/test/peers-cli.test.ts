import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { womenSurviveAccuracy } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { disco } from './cli-helpers.js';
import { titanicServer } from './peers-helpers.js';

const titanicCsv = fileURLToPath(new URL('../../core/assets/titanic/titanic.csv', import.meta.url));

// Scored on the seeded test split (262 passengers), where the women-survive rule scores 0.813: the peers' model must
// beat it as well as 0.80.
test('disco simulate --scheme decentralized: peers in one process, each its own WebRTC endpoint, agree and beat 0.80 and the women-survive rule', async () => {
  const run = await disco(['simulate', '--task', 'titanic', '--clients', '3', '--rounds', '3', '--scheme', 'decentralized', '--json']);

  assert.equal(run.code, 0, run.stderr);
  const rounds = run.events.filter((e) => e.type === 'round');
  assert.deepEqual(rounds.map((e) => [e.round, e.participants]), [[1, 3], [2, 3], [3, 3]]);
  const done = run.events.at(-1) as { type: string; scheme: string; testAccuracy: number; maxWeightDifference: number; bytesSent: number; bytesReceived: number };
  assert.equal(done.type, 'done');
  assert.equal(done.scheme, 'decentralized');
  const rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));
  assert.ok(done.testAccuracy >= 0.8 && done.testAccuracy > rule, `test accuracy ${done.testAccuracy}, women-survive rule ${rule}`);
  assert.equal(done.maxWeightDifference, 0, `the peers' models differ by ${done.maxWeightDifference}`);
  // Each peer sent its model to the two others every round: 3 × 2 × 3 models of a few kB.
  assert.ok(done.bytesSent > 18 * 1000 && done.bytesReceived > 18 * 1000);
});

test('disco train --scheme decentralized: two peer processes train a task of a server together', async (t) => {
  const server = await titanicServer(t, { peers: 2, rounds: 2 });
  const args = ['train', '--scheme', 'decentralized', '--server', server.url, '--task', 'titanic-p2p', '--data', titanicCsv, '--json'];

  const runs = await Promise.all([disco(args), disco(args)]);

  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.events.filter((e) => e.type === 'round').map((e) => [e.round, e.participants]), [[1, 2], [2, 2]]);
    assert.equal(Math.max(...run.events.filter((e) => e.type === 'peers').map((e) => e.connected as number)), 1);
    assert.equal(run.events.at(-1)?.type, 'done');
  }
});

test('disco train --scheme decentralized needs a server', async () => {
  const run = await disco(['train', '--scheme', 'decentralized', '--task', 'titanic', '--data', titanicCsv]);

  assert.equal(run.code, 2);
  assert.match(run.stderr, /--scheme decentralized needs --server <url>/);
});
