// The throwaway PostgreSQL cluster of the tests (postgres.ts): who it runs as, databases kept apart, clean-up.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startPostgres, type PostgresCluster } from './postgres.js';

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('a throwaway PostgreSQL cluster', () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.stop());

  test('runs from its temporary folder, as an unprivileged user when the tests run as root, on loopback', async () => {
    const [row] = await query<{ data: string; listen: string; fsync: string }>(
      cluster.url,
      `SELECT current_setting('data_directory') AS data, current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync`,
    );
    assert.equal(row.data, `${cluster.folder}/data`);
    assert.equal(row.listen, '127.0.0.1');
    assert.equal(row.fsync, 'off');
    if (process.getuid?.() === 0) assert.notEqual(statSync(row.data).uid, 0, 'the data folder belongs to an unprivileged user');
    assert.ok(existsSync(`${cluster.folder}/.s.PGSQL.${cluster.port}`), 'the unix socket is in the temporary folder');
  });

  test('createDatabase gives another, empty database on the same server', async () => {
    await query(cluster.url, 'CREATE TABLE only_here (x integer)');
    const other = await cluster.createDatabase('another_one');
    assert.equal(other, cluster.url.replace(/\/disco$/, '/another_one'));
    const tables = await query<{ n: string }>(other, `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`);
    assert.equal(Number(tables[0].n), 0);
    await assert.rejects(cluster.createDatabase('no; DROP'), /not a plain database name/);
  });

  test('stop() ends the server and removes its folder', async () => {
    const second = await startPostgres({ database: 'second' });
    assert.notEqual(second.port, cluster.port);
    await second.stop();
    assert.ok(!existsSync(second.folder));
    await assert.rejects(query(second.url, 'SELECT 1'), /ECONNREFUSED/);
    await second.stop(); // idempotent
  });

  test('without the server binaries, the error names the package to install', async () => {
    const saved = process.env.DISCO_PG_BIN;
    process.env.DISCO_PG_BIN = '/nonexistent/postgresql/bin';
    try {
      await assert.rejects(startPostgres(), /apt-get install -y postgresql/);
    } finally {
      if (saved === undefined) delete process.env.DISCO_PG_BIN;
      else process.env.DISCO_PG_BIN = saved;
    }
  });
});
