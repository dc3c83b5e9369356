import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { getBuiltinTask, womenSurviveAccuracy, type Task } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { startServer, type RunningServer } from '../src/server.js';
import { disco } from './cli-helpers.js';
import { ADMIN, tempDir } from './helpers.js';

/**
 * Asynchronous training (FedBuff, decision 0013) through the real server and `disco simulate`: Titanic, 4
 * clients of which the last is 5× slower (`--speeds 1,1,1,5`), the same seed, data and rounds as a synchronous
 * run beside it. Each run's server is in this process, so that the test reads its database afterwards.
 */

const ROUNDS = 3;
/**
 * Versions the asynchronous run publishes: each is K = 4 updates like a synchronous round, but stale updates
 * count less (1/√(1+s)), so a version moves the model less than a round; 5 versions still take less wall time
 * than the 3 rounds that wait for the slow client (both figures in the test's diagnostics).
 */
const VERSIONS = 5;
const titanic = getBuiltinTask('titanic') as Task;
/** 3 local epochs a round (the built-in's 5 make the synchronous run, which waits for the slow client, too long here). */
const taskIn = (mode: Task['mode']): Task => ({ ...titanic, mode, training: { ...titanic.training, epochsPerRound: 3, rounds: mode === 'async' ? VERSIONS : ROUNDS } });

interface Run {
  done: Record<string, unknown> & { testAccuracy: number };
  dbPath: string;
}

let tmp: ReturnType<typeof tempDir>;
let rule: number;
before(async () => {
  tmp = tempDir();
  rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));
});
after(() => tmp.remove());

/** A server of this process whose built-in titanic runs in `mode` (started one at a time: TF.js initialises once). */
async function serve(mode: Task['mode']): Promise<{ server: RunningServer; dbPath: string }> {
  const dbPath = path.join(tmp.dir, `${mode}.sqlite`);
  return { server: await startServer({ port: 0, dbPath, adminToken: ADMIN, builtinTasks: [taskIn(mode)] }), dbPath };
}

/** `disco simulate` against `server`: 4 clients, the last 5× slower. */
async function simulate({ server, dbPath }: { server: RunningServer; dbPath: string }, rounds: number): Promise<Run> {
  try {
    const run = await disco(['simulate', '--server', server.url, '--task', 'titanic', '--clients', '4', '--rounds', String(rounds), '--speeds', '1,1,1,5', '--seed', '42', '--json'], { timeoutMs: 200_000 });
    assert.equal(run.code, 0, run.stderr);
    const done = run.events.at(-1) as Run['done'];
    assert.equal(done.type, 'done');
    return { done, dbPath };
  } finally {
    await server.close();
  }
}

/** Rows of the run's database. */
function query<T>(dbPath: string, sql: string): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('asynchronous training on Titanic with a client 5× slower', () => {
  let sync: Run;
  let async: Run;
  before(async () => {
    // Side by side: the synchronous run mostly sleeps while it waits for its slow client.
    const servers = [await serve('sync'), await serve('async')];
    [sync, async] = await Promise.all([simulate(servers[0], ROUNDS), simulate(servers[1], VERSIONS)]);
  });

  test('async reaches the synchronous run\'s held-out accuracy (within 1 point), ≥ 0.80 and above the women-survive rule', (t) => {
    t.diagnostic(`test accuracy: async ${async.done.testAccuracy} in ${String(async.done.seconds)} s, sync ${sync.done.testAccuracy} in ${String(sync.done.seconds)} s`);
    assert.deepEqual([async.done.mode, async.done.versions, sync.done.rounds], ['async', VERSIONS, ROUNDS]);
    assert.ok((async.done.updatesAccepted as number) >= VERSIONS * 4, `updatesAccepted ${String(async.done.updatesAccepted)}`);
    const [a, s] = [async.done.testAccuracy, sync.done.testAccuracy];
    assert.ok(a >= s - 0.01, `async ${a}, sync ${s}`);
    assert.ok(a >= 0.8 && a > rule, `async test accuracy ${a}, women-survive rule ${rule}`);
  });

  test('the fast clients never wait for the slow one: versions are published while it is still on its first update', () => {
    // Each participant's first accepted update; the slow client's is the last to arrive.
    const firsts = query<{ participant: string; first: number }>(async.dbPath, 'SELECT participant_id AS participant, min(received_at) AS first FROM async_updates GROUP BY participant_id ORDER BY first');
    assert.equal(firsts.length, 4);
    const slow = firsts[3];
    const versions = query<{ number: number; closedAt: number }>(async.dbPath, "SELECT number, closed_at AS closedAt FROM rounds WHERE phase = 'closed' ORDER BY number");
    const before = versions.filter((v) => v.closedAt < slow.first);
    assert.ok(before.length >= 2, `versions closed before the slow client's first update: ${before.length} of ${versions.length}`);
    // Every update of those versions came from the three fast clients.
    const contributors = query<{ participant: string }>(
      async.dbPath,
      `SELECT DISTINCT u.participant_id AS participant FROM async_updates u JOIN rounds r ON r.id = u.round_id WHERE r.closed_at < ${slow.first}`,
    );
    assert.ok(contributors.length === 3 && contributors.every((c) => c.participant !== slow.participant), JSON.stringify(contributors));
    // Synchronous rounds, by contrast, wait for it: round 1 closes only after its update.
    const [round1] = query<{ closedAt: number; last: number }>(
      sync.dbPath,
      'SELECT r.closed_at AS closedAt, (SELECT max(received_at) FROM updates u WHERE u.round_id = r.id) AS last FROM rounds r WHERE r.number = 1',
    );
    assert.ok(round1.closedAt >= round1.last);
    const syncUpdates = query<{ n: number }>(sync.dbPath, 'SELECT count(*) AS n FROM updates u JOIN rounds r ON r.id = u.round_id WHERE r.number = 1')[0].n;
    assert.equal(syncUpdates, 4);
  });
});
