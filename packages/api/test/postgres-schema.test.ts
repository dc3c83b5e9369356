// The PostgreSQL schema (src/db/schema.pg.ts) against the SQLite one (src/db/schema.ts, the reference): the same
// tables, columns, keys, indexes and defaults under the same TypeScript names, as drizzle declares them and as
// the drizzle-kit migrations (drizzle-pg/) create them in a real PostgreSQL cluster; rows with blobs and JSON
// read back as they were written. A column added to one schema and not the other fails here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eq, getTableName, is, type InferInsertModel, type InferSelectModel } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import * as pgSchema from '../src/db/schema.pg.js';
import * as sqliteSchema from '../src/db/schema.js';
import { startPostgres, type PostgresCluster } from './support/postgres.js';

const pgMigrations = fileURLToPath(new URL('../drizzle-pg', import.meta.url));

/** The PostgreSQL types a SQLite column may become (by drizzle's column type); `*_at` times must be bigint. */
const compatible: Record<string, string[]> = {
  SQLiteText: ['text'],
  SQLiteTextJson: ['jsonb'],
  SQLiteInteger: ['integer', 'bigint'],
  SQLiteBoolean: ['boolean'],
  SQLiteReal: ['double precision'],
  SQLiteBlobBuffer: ['bytea'],
};

/** Every table the SQLite schema exports, by its TypeScript name. */
const sqliteTables: [string, SQLiteTable][] = [];
for (const [key, value] of Object.entries(sqliteSchema) as [string, unknown][]) if (is(value, SQLiteTable)) sqliteTables.push([key, value]);
const pgTables: [string, PgTable][] = [];
for (const [key, value] of Object.entries(pgSchema) as [string, unknown][]) if (is(value, PgTable)) pgTables.push([key, value]);

// Compile time (`npm run typecheck`): each table's row and insert types are the same in both dialects, so a
// service written against one dialect's tables type-checks against the other's.
type TableNames = { [K in keyof typeof sqliteSchema]: (typeof sqliteSchema)[K] extends SQLiteTable ? K : never }[keyof typeof sqliteSchema];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type RowTypesMatch = {
  [K in TableNames]: K extends keyof typeof pgSchema
    ? (typeof pgSchema)[K] extends PgTable
      ? Same<InferSelectModel<(typeof sqliteSchema)[K]>, InferSelectModel<(typeof pgSchema)[K]>> extends true
        ? Same<InferInsertModel<(typeof sqliteSchema)[K]>, InferInsertModel<(typeof pgSchema)[K]>>
        : false
      : false
    : false;
};
// Any table's false makes the union `boolean`, which `false extends` catches.
const rowTypesMatch: false extends RowTypesMatch[TableNames] ? false : true = true;

describe('the PostgreSQL schema mirrors the SQLite schema', () => {
  test('the same tables under the same TypeScript names, and no other', () => {
    assert.ok(rowTypesMatch);
    assert.ok(sqliteTables.length >= 11, 'the SQLite schema was read');
    const names = (tables: [string, SQLiteTable | PgTable][]) => tables.map(([key, table]) => `${key} → ${getTableName(table)}`).sort();
    assert.deepEqual(names(pgTables), names(sqliteTables));
  });

  test('the same columns, nullability, defaults, keys, indexes and foreign keys, as drizzle declares them', () => {
    for (const [key, sqliteTable] of sqliteTables) {
      const lite = sqliteTableConfig(sqliteTable);
      const post = pgTableConfig(new Map(pgTables).get(key)!);
      const columns = (config: typeof lite | typeof post) =>
        Object.fromEntries(
          config.columns.map((c) => {
            const value: unknown = c.default;
            const described = {
              notNull: c.notNull,
              // SQLite's AUTOINCREMENT is PostgreSQL's identity; otherwise the same default, or a default in both
              default: value !== null && typeof value === 'object' ? 'sql' : value,
              primary: c.primary,
              generated: ('autoIncrement' in c && c.autoIncrement === true) || c.generatedIdentity ? 'always new' : undefined,
              enum: c.enumValues as string[] | undefined,
            };
            return [c.name, described];
          }),
        );
      assert.deepEqual(columns(post), columns(lite), `table ${lite.name}: columns`);

      const keys = (config: typeof lite | typeof post) => config.primaryKeys.map((pk) => pk.columns.map((c) => c.name));
      assert.deepEqual(keys(post), keys(lite), `table ${lite.name}: composite primary keys`);
      const indexes = (config: typeof lite | typeof post) =>
        config.indexes
          .map((i) => ({ name: i.config.name, unique: i.config.unique ?? false, columns: i.config.columns.map((c) => ('name' in c ? c.name : '?')) }))
          .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      assert.deepEqual(indexes(post), indexes(lite), `table ${lite.name}: indexes`);
      const foreignKeys = (config: typeof lite | typeof post) =>
        config.foreignKeys
          .map((fk) => {
            const ref = fk.reference();
            return `${ref.columns.map((c) => c.name).join(',')} → ${ref.foreignColumns.map((c) => `${getTableName(c.table)}.${c.name}`).join(',')} on delete ${fk.onDelete ?? 'no action'}`;
          })
          .sort();
      assert.deepEqual(foreignKeys(post), foreignKeys(lite), `table ${lite.name}: foreign keys`);
    }
  });
});

describe('the PostgreSQL migrations on a real cluster', () => {
  let cluster: PostgresCluster;
  let pool: pg.Pool;
  let db: NodePgDatabase<typeof pgSchema>;

  before(async () => {
    cluster = await startPostgres();
    pool = new pg.Pool({ connectionString: cluster.url, max: 2 });
    db = drizzle(pool, { schema: pgSchema });
    await migrate(db, { migrationsFolder: pgMigrations });
  });
  after(async () => {
    await pool?.end();
    await cluster?.stop();
  });

  test('create every table and column of the SQLite schema with a compatible type (the one schema.pg.ts declares), nullability and default', async () => {
    const { rows } = await pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: 'YES' | 'NO'; column_default: string | null; is_identity: 'YES' | 'NO' }>(
      `SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    );
    const live = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
    const expected = new Set<string>();
    const declared = new Map(pgTables.flatMap(([, t]) => pgTableConfig(t).columns.map((c) => [`${getTableName(t)}.${c.name}`, c.getSQLType()] as const)));
    for (const [, table] of sqliteTables) {
      const config = sqliteTableConfig(table);
      for (const column of config.columns) {
        const name = `${config.name}.${column.name}` as const;
        expected.add(name);
        const found = live.get(name);
        assert.ok(found, `${name} is missing in PostgreSQL`);
        // schema.pg.ts and drizzle-pg/ agree (the migration was generated after the last change)
        assert.equal(found.data_type, declared.get(name), `${name}: the type schema.pg.ts declares; run \`npm run db:generate\``);
        const types = compatible[String(column.columnType)];
        assert.ok(types, `${name}: no PostgreSQL type is known for ${column.columnType}; add it to this test's table`);
        assert.ok(types.includes(found.data_type), `${name}: ${found.data_type} in PostgreSQL, expected ${types.join(' or ')} for ${column.columnType}`);
        if (column.name.endsWith('_at')) assert.equal(found.data_type, 'bigint', `${name}: epoch milliseconds need bigint`);
        assert.equal(found.is_nullable === 'NO', column.notNull, `${name}: nullability`);
        const autoIncrement = 'autoIncrement' in column && column.autoIncrement === true;
        assert.equal(found.is_identity === 'YES', autoIncrement, `${name}: identity (SQLite AUTOINCREMENT)`);
        // (drizzle counts AUTOINCREMENT as a default; PostgreSQL's identity is not one)
        assert.equal(found.column_default !== null, column.hasDefault && !autoIncrement, `${name}: a default in one dialect only`);
        if (column.hasDefault && !autoIncrement && typeof column.default !== 'object') assert.equal(found.column_default, String(column.default), `${name}: default`);
      }
    }
    assert.deepEqual([...live.keys()].filter((name) => !expected.has(name)), [], 'columns in PostgreSQL only');
  });

  test('create the same indexes, primary keys and cascading foreign keys', async () => {
    const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const { rows: constraints } = await pool.query<{ table_name: string; constraint_type: string; columns: string; delete_rule: string | null; target: string | null }>(
      `SELECT tc.table_name, tc.constraint_type,
              string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS columns,
              rc.delete_rule, max(ccu.table_name || '.' || ccu.column_name) AS target
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
         LEFT JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name
         LEFT JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = rc.unique_constraint_name
        WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')
        GROUP BY tc.table_name, tc.constraint_name, tc.constraint_type, rc.delete_rule`,
    );
    const live = new Set(constraints.map((c) => `${c.table_name} ${c.constraint_type} (${c.columns})${c.target ? ` → ${c.target} on delete ${c.delete_rule}` : ''}`));
    for (const [, table] of sqliteTables) {
      const config = sqliteTableConfig(table);
      for (const index of config.indexes) {
        const columns = index.config.columns.map((c) => ('name' in c ? c.name : '?'));
        const found = indexes.find((i) => i.indexname === index.config.name);
        assert.ok(found, `index ${index.config.name} is missing`);
        assert.equal(found.indexdef.startsWith('CREATE UNIQUE INDEX'), index.config.unique ?? false, `index ${index.config.name}: uniqueness`);
        assert.match(found.indexdef, new RegExp(`ON public\\.${config.name} USING btree \\(${columns.join(', ')}\\)$`), `index ${index.config.name}: columns`);
      }
      const primary = config.primaryKeys[0]?.columns.map((c) => c.name) ?? config.columns.filter((c) => c.primary).map((c) => c.name);
      assert.ok(live.has(`${config.name} PRIMARY KEY (${primary.join(',')})`), `${config.name}: primary key (${primary.join(',')})`);
      for (const fk of config.foreignKeys) {
        const ref = fk.reference();
        const target = `${sqliteTableConfig(ref.foreignTable).name}.${ref.foreignColumns[0].name}`;
        const expected = `${config.name} FOREIGN KEY (${ref.columns.map((c) => c.name).join(',')}) → ${target} on delete ${(fk.onDelete ?? 'no action').toUpperCase()}`;
        assert.ok(live.has(expected), `missing: ${expected}`);
      }
    }
  });

  test('rows with blobs, JSON, booleans, unsigned CRC-32s and epoch milliseconds read back as written; deleting a task cascades', async () => {
    // Every byte value, and a float32 payload as the codec writes it.
    const weights = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(new Float32Array([0.5, -1e-30, Number.NaN, 3e38]).buffer)]);
    const definition = { id: 'pg-task', title: 'Tâche « test » ✓', training: { rounds: 3, rate: 0.001 }, labels: ['no', 'yes'], nothing: null };
    const before = Date.now();
    await db.insert(pgSchema.tasks).values({ id: 'pg-task', definition, shapes: [{ name: 'dense/kernel', shape: [2, 3] }], parameterCount: 6, builtin: true });
    await db.insert(pgSchema.modelVersions).values({ taskId: 'pg-task', version: 0, weights, bytes: weights.length });
    const [round] = await db
      .insert(pgSchema.rounds)
      .values({ taskId: 'pg-task', number: 1, phase: 'open', baseVersion: 0, openedAt: Date.UTC(2100, 0, 1), strategy: 'fedavg', optimizerState: Buffer.alloc(0), state: { shares: [1, 2] } })
      .returning();
    await db.insert(pgSchema.participants).values({ id: 'p1', taskId: 'pg-task', tokenHash: 'ab'.repeat(32), joinedAt: before, firstRound: 1, lastHeartbeatAt: before });
    const [update] = await db
      .insert(pgSchema.asyncUpdates)
      .values({ roundId: round.id, participantId: 'p1', baseVersion: 0, checksum: 0xffffffff, staleness: 0, weight: 1 / 3, samples: 12.5, delta: weights, bytes: weights.length, receivedAt: before })
      .returning();
    const after = Date.now();

    const task = await db.query.tasks.findFirst({ where: eq(pgSchema.tasks.id, 'pg-task') });
    assert.ok(task);
    assert.deepEqual(task.definition, definition);
    assert.equal(task.builtin, true);
    assert.equal(task.uploadedModel, false);
    assert.equal(typeof task.createdAt, 'number');
    assert.ok(task.createdAt >= before - 1 && task.createdAt <= after, `createdAt ${task.createdAt} defaults to now (${before}…${after})`);
    const [version] = await db.select().from(pgSchema.modelVersions);
    assert.ok(Buffer.isBuffer(version.weights));
    assert.ok(version.weights.equals(weights));
    const [storedRound] = await db.select().from(pgSchema.rounds).where(eq(pgSchema.rounds.id, round.id));
    assert.equal(storedRound.openedAt, Date.UTC(2100, 0, 1));
    assert.deepEqual(storedRound.state, { shares: [1, 2] });
    assert.equal(storedRound.metrics, null);
    assert.equal(storedRound.samples, 0);
    assert.equal(storedRound.optimizerState?.length, 0);
    const [stored] = await db.select().from(pgSchema.asyncUpdates).where(eq(pgSchema.asyncUpdates.id, update.id));
    assert.equal(stored.checksum, 0xffffffff);
    assert.equal(stored.weight, 1 / 3, 'double precision, not float4');
    assert.ok(stored.delta?.equals(weights));

    await db.delete(pgSchema.tasks).where(eq(pgSchema.tasks.id, 'pg-task'));
    const remaining = await pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM model_versions) + (SELECT count(*) FROM rounds) + (SELECT count(*) FROM participants) + (SELECT count(*) FROM async_updates) AS n`,
    );
    assert.equal(Number(remaining.rows[0].n), 0);
  });
});
