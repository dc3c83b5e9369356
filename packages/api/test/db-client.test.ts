// The database client on both engines: transactions (commit, rollback, nesting, SQLite's one-at-a-time),
// notifications (once per listener, after the commit), lockTask across instances, migrations started together.
// The PostgreSQL half runs on a throwaway cluster (test/support/postgres.ts) when Debian's binaries are there.
// It sits in test/, not beside client.ts, because it uses test/support, outside the build's rootDir (src).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { count, eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { postgresBin, startPostgres, type PostgresCluster } from './support/postgres.js';
import { lockTask, openDb, transaction, type Db, type NotifyChannel, type OpenDb } from '../src/db/client.js';

const settingsKeys = async (db: Db) => (await db.orm.select({ key: db.tables.settings.key }).from(db.tables.settings).orderBy(db.tables.settings.key)).map((r) => r.key);
const put = (db: Db, key: string) => db.orm.insert(db.tables.settings).values({ key, value: key });

/** Payloads a listener received, and a wait for a number of them (PostgreSQL's arrive over the network). */
function collect(database: OpenDb, channel: NotifyChannel) {
  const received: string[] = [];
  const stop = database.notifier.listen(channel, (payload) => received.push(payload));
  const settle = async (n: number, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // anything more that was wrongly sent would have arrived by now
    await new Promise((r) => setTimeout(r, 100));
    return received;
  };
  return { received, stop, settle };
}

function engineTests(engine: 'sqlite' | 'postgres', open: () => Promise<OpenDb>) {
  describe(`the database client on ${engine}`, () => {
    let database: OpenDb;
    let db: Db;
    before(async () => {
      database = await open();
      db = database.db;
    });
    after(() => database?.close());

    test('opens migrated, with its dialect and its tables', async () => {
      assert.equal(db.dialect, engine);
      assert.equal(db.inTransaction, false);
      const [row] = await db.orm.select({ n: count() }).from(db.tables.tasks);
      assert.equal(row.n, 0, 'count() is a number');
      await database.ping();
    });

    test('a transaction commits what its body wrote and resolves to what the body returns', async () => {
      const result = await transaction(db, async (tx) => {
        assert.equal(tx.inTransaction, true);
        await put(tx, 'commit-1');
        return 42;
      });
      assert.equal(result, 42);
      assert.ok((await settingsKeys(db)).includes('commit-1'));
    });

    test('a body that throws rolls everything back and the transaction rejects with its error', async () => {
      const failure = new Error('no');
      await assert.rejects(
        transaction(db, async (tx) => {
          await put(tx, 'rolled-back');
          throw failure;
        }),
        (error) => error === failure,
      );
      assert.ok(!(await settingsKeys(db)).includes('rolled-back'));
    });

    test('a nested call runs in the caller\'s transaction, also when given the database', async () => {
      await assert.rejects(
        transaction(db, async (tx) => {
          await transaction(tx, async (inner) => {
            assert.equal(inner, tx);
            await put(inner, 'nested-1');
          });
          await transaction(db, async (inner) => {
            assert.equal(inner, tx, 'a call with the database from within the body joins the transaction');
            await put(inner, 'nested-2');
          });
          assert.deepEqual((await settingsKeys(tx)).filter((k) => k.startsWith('nested')), ['nested-1', 'nested-2']);
          throw new Error('undo both');
        }),
        /undo both/,
      );
      assert.deepEqual((await settingsKeys(db)).filter((k) => k.startsWith('nested')), []);
    });

    test('within a body the database is in the transaction too: it sees the writes, its notifications wait for the commit', async () => {
      const listener = collect(database, 'disco_rounds');
      await assert.rejects(
        transaction(db, async (tx) => {
          await put(tx, 'seen-inside');
          assert.ok((await settingsKeys(db)).includes('seen-inside'));
          await database.notifier.notify(db, 'disco_rounds', 'from-the-database');
          await lockTask(db, 'task');
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.ok(!(await settingsKeys(db)).includes('seen-inside'));
      assert.deepEqual(await listener.settle(1, 300), [], 'rolled back with the transaction');
      listener.stop();
    });

    test('a finished transaction cannot be used for another', async () => {
      const kept = await transaction(db, async (tx) => tx);
      await assert.rejects(transaction(kept, async () => 1), /has ended/);
    });

    test('a notification outside a transaction reaches each listener once', async () => {
      const a = collect(database, 'disco_rounds');
      const b = collect(database, 'disco_rounds');
      const other = collect(database, 'disco_signals');
      await database.notifier.notify(db, 'disco_rounds', 'plain');
      assert.deepEqual(await a.settle(1), ['plain']);
      assert.deepEqual(await b.settle(1), ['plain']);
      assert.deepEqual(other.received, []);
      a.stop();
      await database.notifier.notify(db, 'disco_rounds', 'after-stop');
      assert.deepEqual(await b.settle(2), ['plain', 'after-stop']);
      assert.deepEqual(a.received, ['plain'], 'a stopped listener receives nothing more');
      b.stop();
      other.stop();
    });

    test('a notification in a transaction is delivered after its commit, and never after a rollback', async () => {
      const listener = collect(database, 'disco_signals');
      await transaction(db, async (tx) => {
        await database.notifier.notify(tx, 'disco_signals', 'committed');
        await put(tx, 'notify-commit');
        await new Promise((r) => setTimeout(r, engine === 'postgres' ? 100 : 0));
        assert.deepEqual(listener.received, [], 'nothing before the commit');
      });
      assert.deepEqual(await listener.settle(1), ['committed']);
      await assert.rejects(
        transaction(db, async (tx) => {
          await database.notifier.notify(tx, 'disco_signals', 'rolled-back');
          throw new Error('rollback');
        }),
      );
      assert.deepEqual(await listener.settle(2, 300), ['committed']);
      listener.stop();
    });

    test('a payload of 8000 bytes or more is refused', async () => {
      await assert.rejects(database.notifier.notify(db, 'disco_rounds', 'x'.repeat(8000)), /under 8000 bytes/);
    });

    test('lockTask needs a transaction', async () => {
      await assert.rejects(lockTask(db, 't'), /needs a transaction/);
      await transaction(db, (tx) => lockTask(tx, 't'));
    });
  });
}

engineTests('sqlite', async () => openDb(':memory:'));

describe('the database client on sqlite only', () => {
  let folder: string;
  let database: OpenDb;
  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'disco-client-'));
    database = await openDb(path.join(folder, 'nested', 'disco.sqlite'));
  });
  after(async () => {
    await database?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a file database is in WAL mode, synchronous NORMAL, with foreign keys on', async () => {
    const { orm } = database.db;
    assert.deepEqual(await orm.all(sql`PRAGMA journal_mode`), [{ journal_mode: 'wal' }]);
    assert.deepEqual(await orm.all(sql`PRAGMA synchronous`), [{ synchronous: 1 }]);
    assert.deepEqual(await orm.all(sql`PRAGMA foreign_keys`), [{ foreign_keys: 1 }]);
  });

  test('a durable transaction commits with synchronous FULL, then the connection is back to NORMAL', async () => {
    const { orm } = database.db;
    const inside = await transaction(database.db, async (tx) => tx.orm.all(sql`PRAGMA synchronous`), { durable: true });
    assert.deepEqual(inside, [{ synchronous: 2 }]);
    assert.deepEqual(await orm.all(sql`PRAGMA synchronous`), [{ synchronous: 1 }]);
  });

  test('two concurrent transactions run one after the other, not interleaved', async () => {
    const log: string[] = [];
    const body = (name: string) => async (tx: Db) => {
      for (let step = 1; step <= 3; step++) {
        log.push(`${name}${step}`);
        await put(tx, `${name}-${step}`);
      }
    };
    await Promise.all([transaction(database.db, body('a')), transaction(database.db, body('b'))]);
    assert.deepEqual(log, ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
  });

  test('a failed transaction releases the connection for the next one', async () => {
    const first = transaction(database.db, async () => {
      throw new Error('first fails');
    });
    const second = transaction(database.db, async (tx) => {
      await put(tx, 'after-failure');
      return 'ok';
    });
    await assert.rejects(first, /first fails/);
    assert.equal(await second, 'ok');
    const [row] = await database.db.orm.select().from(database.db.tables.settings).where(eq(database.db.tables.settings.key, 'after-failure'));
    assert.equal(row.key, 'after-failure');
  });
});

let postgresMissing: string | false = false;
try {
  postgresBin();
} catch (error) {
  postgresMissing = (error as Error).message;
}

describe('the database client on postgres', { skip: postgresMissing }, () => {
  let cluster: PostgresCluster;
  let databases = 0;
  const fresh = async () => cluster.createDatabase(`client_${++databases}`);
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.stop());

  engineTests('postgres', async () => openDb(await fresh()));

  test('instances started together on an empty database migrate once, one after the other', async () => {
    const url = await fresh();
    const instances = await Promise.all([openDb(url), openDb(url), openDb(url)]);
    try {
      const [row] = await instances[0].db.orm.select({ n: count() }).from(instances[0].db.tables.tasks);
      assert.equal(row.n, 0);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
    }
  });

  test('every instance, the sender included, receives a notification once', async () => {
    const url = await fresh();
    const [one, two] = await Promise.all([openDb(url), openDb(url)]);
    try {
      const atOne = collect(one, 'disco_rounds');
      const atTwo = collect(two, 'disco_rounds');
      await transaction(one.db, (tx) => one.notifier.notify(tx, 'disco_rounds', '{"taskId":"t"}'));
      assert.deepEqual(await atOne.settle(1), ['{"taskId":"t"}']);
      assert.deepEqual(await atTwo.settle(1), ['{"taskId":"t"}']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('the listening connection, when it drops, reconnects and receives again', async (t) => {
    const url = await fresh();
    const one = await openDb(url);
    t.after(() => one.close());
    const errors: string[] = [];
    t.mock.method(console, 'error', (...args: unknown[]) => errors.push(args.map(String).join(' ')));
    const listener = collect(one, 'disco_signals');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query<{ killed: boolean }>(
      `select pg_terminate_backend(pid) as killed from pg_stat_activity where query like 'LISTEN%' and datname = current_database()`,
    );
    await admin.end();
    assert.deepEqual(rows, [{ killed: true }], 'the listening connection was found and ended');
    const deadline = Date.now() + 10_000;
    // Keep sending until one arrives: the ones sent before it listened again are lost, as documented.
    while (!listener.received.length && Date.now() < deadline) {
      await one.notifier.notify(one.db, 'disco_signals', 'after-reconnect');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(listener.received[0], 'after-reconnect');
    assert.ok(errors.some((e) => /notification connection dropped/.test(e)), 'the drop is logged');
    listener.stop();
  });

  test('with a pool of one connection, transactions whose bodies use the database do not wait for a second', async () => {
    const single = await openDb(await fresh(), { poolSize: 1 });
    try {
      const bodies = [1, 2, 3].map((n) =>
        transaction(single.db, async (tx) => {
          await put(tx, `pool-${n}`);
          return (await settingsKeys(single.db)).filter((k) => k.startsWith('pool-')).length;
        }),
      );
      assert.deepEqual(await Promise.all(bodies), [1, 2, 3]);
    } finally {
      await single.close();
    }
  });

  test('lockTask makes another instance\'s transaction on the same task wait for the commit', async () => {
    const url = await fresh();
    const [one, two] = await Promise.all([openDb(url), openDb(url)]);
    try {
      const log: string[] = [];
      let releaseFirst!: () => void;
      const firstMayCommit = new Promise<void>((r) => (releaseFirst = r));
      let firstLocked!: () => void;
      const locked = new Promise<void>((r) => (firstLocked = r));
      const first = transaction(one.db, async (tx) => {
        await lockTask(tx, 'task-a');
        log.push('first locked');
        firstLocked();
        await firstMayCommit;
        await put(tx, 'first');
        log.push('first commits');
      });
      await locked;
      const second = transaction(two.db, async (tx) => {
        await lockTask(tx, 'task-a');
        log.push('second locked');
        assert.ok((await settingsKeys(tx)).includes('first'), 'the second sees what the first committed');
      });
      // another task's lock is not held up
      await transaction(two.db, async (tx) => {
        await lockTask(tx, 'task-b');
        log.push('other task locked');
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(log, ['first locked', 'other task locked'], 'the second waits while the first holds the lock');
      releaseFirst();
      await Promise.all([first, second]);
      assert.deepEqual(log, ['first locked', 'other task locked', 'first commits', 'second locked']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
