import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { durableTransaction, openDb } from '../src/db/client.js';

const level = (db: Parameters<typeof durableTransaction>[0]) => db.get<{ synchronous: number }>(sql`PRAGMA synchronous`).synchronous;

test('a durable transaction commits with synchronous FULL (1 → 2), then the connection is back to NORMAL', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-durable-'));
  const opened = openDb(path.join(dir, 'db.sqlite'));
  const { db } = opened;
  try {
    db.run(sql`CREATE TABLE t (x INTEGER)`);
    const inside: number[] = [];

    durableTransaction(db, (tx) => {
      tx.run(sql`INSERT INTO t VALUES (1)`);
      inside.push(level(tx));
    });

    assert.deepEqual(inside, [2]);
    assert.equal(level(db), 1);
    assert.equal(db.get<{ n: number }>(sql`SELECT count(*) AS n FROM t`).n, 1);
  } finally {
    opened.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("inside a caller's transaction it nests (that transaction's commit decides) and a failure rolls back", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-durable-'));
  const opened = openDb(path.join(dir, 'db.sqlite'));
  const { db } = opened;
  try {
    db.run(sql`CREATE TABLE t (x INTEGER)`);

    db.transaction((outer) => durableTransaction(outer, (tx) => tx.run(sql`INSERT INTO t VALUES (1)`)));
    assert.throws(() =>
      durableTransaction(db, (tx) => {
        tx.run(sql`INSERT INTO t VALUES (2)`);
        throw new Error('no');
      }),
    );

    assert.equal(db.get<{ n: number }>(sql`SELECT count(*) AS n FROM t`).n, 1);
    assert.equal(level(db), 1);
  } finally {
    opened.close();
    await rm(dir, { recursive: true, force: true });
  }
});
