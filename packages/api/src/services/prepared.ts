import type { Db } from '../db/client.js';

/**
 * Prepared statements of the hot paths (an update, a round's state), built once per database connection
 * instead of on every call: building a query with drizzle and preparing it in SQLite cost more than running
 * it. Keyed by the connection's session, which the database and its transactions share, so that a statement
 * prepared once also runs inside a transaction (same SQLite connection, synchronous).
 */
const statements = new WeakMap<object, Map<string, unknown>>();

function connectionKey(db: Db): object {
  return (db as unknown as { session?: object }).session ?? db;
}

export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  const key = connectionKey(db);
  let byName = statements.get(key);
  if (!byName) statements.set(key, (byName = new Map<string, unknown>()));
  let statement = byName.get(name) as T | undefined;
  if (statement === undefined) byName.set(name, (statement = build(db)));
  return statement;
}

/** A per-connection cache (e.g. parsed task definitions), sharing the lifetime of the prepared statements. */
export function connectionCache<V>(db: Db, name: string): Map<string, V> {
  return prepared(db, `cache:${name}`, () => new Map<string, V>());
}
