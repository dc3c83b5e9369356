import { rootDb, type Db } from '../db/client.js';

/**
 * Prepared statements of the hot paths (an update, a round's state), built once per database session instead
 * of on every call: on SQLite, building a query with drizzle and preparing it cost more than running it
 * (decision 0014). Run one with `await statement.execute({ …placeholders })`: an array of rows on both
 * dialects (first row: `[0]`, with `.limit(1)` in the query when several could match).
 *
 * Keyed by drizzle's session. SQLite: the database and its transactions share one connection and one session,
 * so a statement prepared once also runs inside a transaction. PostgreSQL: the pool's session, or a
 * transaction's own (its connection), so that a statement used with a `tx` runs in that transaction; there a
 * statement saves drizzle's query building and is otherwise an ordinary (unnamed) query.
 */
const statements = new WeakMap<object, Map<string, unknown>>();

function sessionOf(db: Db): object {
  return (db.orm as unknown as { session?: object }).session ?? db.orm;
}

export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  const key = sessionOf(db);
  let byName = statements.get(key);
  if (!byName) statements.set(key, (byName = new Map<string, unknown>()));
  let statement = byName.get(name) as T | undefined;
  if (statement === undefined) byName.set(name, (statement = build(db)));
  return statement;
}

const caches = new WeakMap<Db, Map<string, Map<string, unknown>>>();

/**
 * A cache per database (e.g. parsed task definitions), shared by its transactions and living as long as it.
 * It is this instance's alone: what it holds must be checked against the database where other instances may
 * have changed it (see `findTask`).
 */
export function connectionCache<V>(db: Db, name: string): Map<string, V> {
  const root = rootDb(db);
  let byName = caches.get(root);
  if (!byName) caches.set(root, (byName = new Map<string, Map<string, unknown>>()));
  let cache = byName.get(name) as Map<string, V> | undefined;
  if (!cache) byName.set(name, (cache = new Map<string, V>()));
  return cache;
}
