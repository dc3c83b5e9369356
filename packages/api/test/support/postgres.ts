// A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a data folder in a temporary folder
// owned by an unprivileged user (PostgreSQL refuses to run as root), a free port on 127.0.0.1, the unix socket
// in the same folder, no durability (fsync off: nothing survives the test anyway). stop() ends the server and
// removes the folder; so does the end of the test process when stop() was never reached.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, killAndRemoveSync, onProcessEnd, stopChild, tail, unprivilegedUser, type RunAs } from './processes.js';

export interface PostgresCluster {
  /** A connection URL of the database created at start (`postgres://disco@127.0.0.1:<port>/<database>`). */
  url: string;
  port: number;
  /** Its temporary folder: the data folder, the unix socket, the server's log (`postgres.log`). */
  folder: string;
  /**
   * Creates another database on the same server and returns its URL (one per test keeps tests apart): empty,
   * or a copy of `template` (a file copy: much faster than migrating each; nobody may be connected to it).
   */
  createDatabase(name: string, options?: { template?: string }): Promise<string>;
  /**
   * Stops the server and removes its folder. Idempotent. Sessions still open get 2 s to end on their own
   * (smart shutdown: a pool's `end()` resolves before its connections have closed), then are ended (fast).
   */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** The database to create (default `disco`). */
  database?: string;
  /**
   * PostgreSQL's durable defaults (fsync, synchronous_commit and full_page_writes on) instead of the tests'
   * throwaway settings: for benchmarks whose figures must hold for a real deployment.
   */
  durable?: boolean;
}

const SUPERUSER = 'disco';
// A superuser `disco` trusted without a password (only loopback and the folder's socket reach it); 1 MiB WAL
// segments rather than 16 (a smaller template to copy).
const INITDB_OPTIONS = ['-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions', '--wal-segsize=1'];
const INSTALL_HINT =
  'install them with `apt-get install -y postgresql` (Debian; no PostgreSQL service needs to run, the tests ' +
  'start their own) or set DISCO_PG_BIN to the folder holding initdb and postgres.';

/** The folder of `initdb` and `postgres`: DISCO_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin. */
export function postgresBin(): string {
  const candidates = process.env.DISCO_PG_BIN
    ? [process.env.DISCO_PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  const bin = candidates.find((dir) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres')));
  if (!bin) throw new Error(`PostgreSQL's server binaries (initdb, postgres) were not found in ${candidates[0] ?? '/usr/lib/postgresql/<version>/bin'}. The PostgreSQL tests need them: ${INSTALL_HINT}`);
  return bin;
}

/**
 * Starts a PostgreSQL server on a free port and creates `options.database` in it. The first start on a
 * machine runs initdb (1–2 s of CPU) into a template folder that later starts copy.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresCluster> {
  const database = options.database ?? 'disco';
  const bin = postgresBin();
  const user = unprivilegedUser(['postgres']);
  const folder = mkdtempSync(path.join(tmpdir(), 'disco-pg-'));
  const data = path.join(folder, 'data');
  const logFile = path.join(folder, 'postgres.log');
  let removeCleanup = onProcessEnd(() => rmSync(folder, { recursive: true, force: true }));
  try {
    chmodSync(folder, 0o700);
    if (user) chownSync(folder, user.uid, user.gid);
    copyTemplate(template(bin, user), data);

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const log = openSync(logFile, 'w');
      // setpriv --pdeathsig: a test process killed outright (SIGKILL, no exit handler) takes its server with it.
      const server = [path.join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', folder, ...settings(!!options.durable)];
      const command = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'QUIT', '--', ...server] : server;
      const child = spawn(command[0], command.slice(1), { stdio: ['ignore', log, log], uid: user?.uid, gid: user?.gid });
      closeSync(log);
      removeCleanup();
      removeCleanup = onProcessEnd(() => killAndRemoveSync(child, 'SIGQUIT', folder));
      const ready = await waitUntilReady(child, logFile, 30_000);
      if (ready === 'port taken' && attempt < 3) continue;
      if (ready !== 'ready') throw new Error(`PostgreSQL did not start (${ready}):\n${tail(logFile)}`);

      const url = (db: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${db}`;
      const createDatabase = async (name: string, options: { template?: string } = {}) => {
        for (const n of [name, options.template ?? 'template1']) if (!/^[a-z_][a-z0-9_]{0,62}$/.test(n)) throw new Error(`not a plain database name: ${n}`);
        const client = new pg.Client({ connectionString: url('postgres') });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name} TEMPLATE ${options.template ?? 'template1'} STRATEGY = FILE_COPY`);
        } finally {
          await client.end();
        }
        return url(name);
      };
      let stopping: Promise<void> | undefined;
      const stop = () =>
        (stopping ??= (async () => {
          removeCleanup();
          await stopChild(child, [['SIGTERM', 2000], ['SIGINT', 10_000]]);
          rmSync(folder, { recursive: true, force: true });
        })());
      try {
        await createDatabase(database);
      } catch (error) {
        await stop();
        throw error;
      }
      return { url: url(database), port, folder, createDatabase, stop };
    }
  } catch (error) {
    removeCleanup();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Throwaway settings: no fsync nor full-page writes (a crash of the test machine loses a cluster nobody keeps;
 * `durable` keeps PostgreSQL's defaults), no TCP but on loopback, a small buffer pool (several clusters may run
 * at once on a small machine).
 */
function settings(durable: boolean): string[] {
  const values = {
    listen_addresses: '127.0.0.1',
    ...(!durable && { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    shared_buffers: '32MB',
    max_connections: '200',
  };
  return Object.entries(values).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
}

/** Polls the server's log until it accepts connections (`ready`), it exits (`port taken`, or why), or it times out. */
async function waitUntilReady(child: ReturnType<typeof spawn>, logFile: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = tail(logFile, 20_000);
    if (/database system is ready to accept connections/.test(log)) return 'ready';
    if (child.exitCode !== null || child.signalCode !== null) return /could not bind|Address already in use/.test(log) ? 'port taken' : `exited with ${child.exitCode ?? child.signalCode}`;
    if (Date.now() > deadline) {
      await stopChild(child, [['SIGQUIT', 2000]]);
      return `not ready after ${timeoutMs} ms`;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The folder initdb wrote for this PostgreSQL version and user, made once per machine in the temporary folder
 * (initdb costs 1–2 s of CPU, several under load; a copy, a fraction of that). Concurrent first starts each run
 * initdb and the first rename wins.
 */
function template(bin: string, user: RunAs | undefined): string {
  // The major version: from Debian's path (/usr/lib/postgresql/15/bin), else asked (a spawn costs 0.2–0.4 s under load).
  const version =
    /\/postgresql\/(\d+)\/bin\/?$/.exec(bin)?.[1] ??
    /(\d+)(?:\.\d+)?/.exec(spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout)?.[1] ??
    'unknown';
  // The initdb options are in the name too: a template made with other options is not reused.
  const recipe = createHash('sha256').update(INITDB_OPTIONS.join(' ')).digest('hex').slice(0, 8);
  const folder = path.join(tmpdir(), `disco-pg-template-${version}-${user?.name ?? process.getuid?.() ?? 'user'}-${recipe}`);
  const done = path.join(folder, '.disco-initdb-done');
  if (existsSync(done) && readFileSync(path.join(folder, 'PG_VERSION'), 'utf8').trim() === version) return folder;

  const scratch = mkdtempSync(`${folder}.tmp-`);
  chmodSync(scratch, 0o700);
  if (user) chownSync(scratch, user.uid, user.gid);
  const data = path.join(scratch, 'data');
  const result = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', data, ...INITDB_OPTIONS],
    { encoding: 'utf8', uid: user?.uid, gid: user?.gid },
  );
  if (result.status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(`initdb failed${user ? ` (as ${user.name})` : ''}: ${result.error?.message ?? ''}\n${result.stdout}${result.stderr}`);
  }
  writeFileSync(path.join(data, '.disco-initdb-done'), '');
  try {
    renameSync(data, folder);
  } catch {
    // another process made it first (or a stale, unfinished one is in the way: replace it)
    if (!existsSync(done)) {
      rmSync(folder, { recursive: true, force: true });
      renameSync(data, folder);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  return folder;
}

/** `cp -a`: keeps the owner and the 0700 mode PostgreSQL insists on. */
function copyTemplate(from: string, to: string): void {
  const result = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`could not copy the initdb template ${from}: ${result.stderr}`);
  rmSync(path.join(to, '.disco-initdb-done'), { force: true });
}
