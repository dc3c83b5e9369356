// Durable commits on SQLite (decision 0014): what src/db/client.test.ts does not cover of `transaction(…,
// { durable: true })`: nested in a caller's transaction (the outermost commit decides), and a failed one (rolled
// back, the connection back to NORMAL). PostgreSQL's commits are all durable: nothing to check there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openDb, transaction, type Db, type OpenDb } from '../src/db/client.js';

const level = async (db: Db) => (await db.orm.all<{ synchronous: number }>(sql`PRAGMA synchronous`))[0].synchronous;
const rows = async (db: Db) => (await db.orm.all<{ n: number }>(sql`SELECT count(*) AS n FROM t`))[0].n;

async function withDb(body: (opened: OpenDb) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-durable-'));
  const opened = await openDb(path.join(dir, 'db.sqlite'));
  try {
    await opened.db.orm.run(sql`CREATE TABLE t (x INTEGER)`);
    await body(opened);
  } finally {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test("a durable transaction inside a caller's joins it: the outermost commit decides the level", async () => {
  await withDb(async ({ db }) => {
    const inside: number[] = [];
    await transaction(db, async (outer) =>
      transaction(
        outer,
        async (tx) => {
          await tx.orm.run(sql`INSERT INTO t VALUES (1)`);
          inside.push(await level(tx));
        },
        { durable: true },
      ),
    );
    assert.deepEqual(inside, [1], 'NORMAL: the outer transaction was not durable');
    await transaction(db, async (outer) => transaction(outer, async (tx) => void inside.push(await level(tx))), { durable: true });
    assert.deepEqual(inside, [1, 2], 'FULL: the outer one was');
    assert.equal(await rows(db), 1);
    assert.equal(await level(db), 1);
  });
});

test('a durable transaction that fails rolls back, and the connection is back to NORMAL', async () => {
  await withDb(async ({ db }) => {
    await assert.rejects(
      transaction(
        db,
        async (tx) => {
          await tx.orm.run(sql`INSERT INTO t VALUES (2)`);
          throw new Error('no');
        },
        { durable: true },
      ),
      /no/,
    );
    assert.equal(await rows(db), 0);
    assert.equal(await level(db), 1);
  });
});
