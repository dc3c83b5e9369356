import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { getBuiltinTask, type Task } from '@disco/core';
import { titanicCsvPath } from '@disco/core/node';
import { startServer } from '../src/server.js';
import { disco } from './cli-helpers.js';
import { ADMIN, tempDir } from './helpers.js';

/** `disco train` against a server of this process whose titanic task is asynchronous (decision 0013). */

const titanic = getBuiltinTask('titanic') as Task;

test('disco train on an asynchronous task prints the version and its staleness for each accepted update', async () => {
  // One participant, K = 2, plain FedAvg: it fills each buffer with two updates of its own.
  const task: Task = { ...titanic, mode: 'async', minParticipants: 1, async: { ...titanic.async, bufferSize: 2 }, training: { ...titanic.training, epochsPerRound: 1, rounds: 2 } };
  const tmp = tempDir();
  const server = await startServer({ port: 0, dbPath: path.join(tmp.dir, 'disco.sqlite'), adminToken: ADMIN, builtinTasks: [task] });
  try {
    const run = await disco(['train', '--server', server.url, '--task', 'titanic', '--data', titanicCsvPath, '--scheme', 'federated'], { timeoutMs: 200_000 });

    assert.equal(run.code, 0, run.stderr);
    const accepted = run.stdout.split('\n').filter((line) => line.startsWith('update accepted for version'));
    assert.ok(accepted.length >= 4, run.stdout);
    assert.match(accepted[0], /^update accepted for version 1\/2 · model v0 · staleness 0 · 1 participants/);
    // The second update of a buffer was trained from the same version: still fresh (no version in between).
    assert.ok(accepted.every((line) => /· model v\d+ · staleness \d+ ·/.test(line)), accepted.join('\n'));
    // A third update may be trained from v0 while v1 is being published: it then arrives 1 version stale.
    const done = /^done · .*$/m.exec(run.stdout)?.[0] ?? '';
    assert.match(done, /versions 2/);
    assert.ok(Number(/updatesAccepted (\d+)/.exec(done)?.[1]) >= 4, done);
  } finally {
    await server.close();
    tmp.remove();
  }
});
