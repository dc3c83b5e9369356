#!/usr/bin/env node
// `npm test`: every suite of the repository, one after the other, then one closing
// `N passed, N failed` line. The browser suites need Chromium, the API's tests PostgreSQL and nginx; without
// them this fails loudly, naming the install command.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chrome = process.env.CHROME_PATH ?? '/usr/bin/chromium';
// The Debian packages the tests run for real: Chromium (browser tests), PostgreSQL's server binaries and nginx
// (the API's many-instances tests start a throwaway cluster and load balancer of their own, as
// packages/api/test/support/postgres.ts and nginx.ts; no system service is needed).
const pgBin = process.env.DISCO_PG_BIN;
const hasPostgres = pgBin
  ? existsSync(path.join(pgBin, 'initdb'))
  : existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
const nginx = process.env.DISCO_NGINX ?? '/usr/sbin/nginx';
const missing = [
  !existsSync(chrome) && { pkg: 'chromium', what: `Chromium (not at ${chrome}; or set CHROME_PATH to a Chromium/Chrome binary)` },
  !hasPostgres && { pkg: 'postgresql', what: `PostgreSQL's initdb and postgres (not in ${pgBin ?? '/usr/lib/postgresql/<version>/bin'}; or set DISCO_PG_BIN to their folder)` },
  !existsSync(nginx) && { pkg: 'nginx', what: `nginx (not at ${nginx}; or set DISCO_NGINX to the binary)` },
].filter(Boolean);
if (missing.length) {
  console.error(
    `The tests need ${missing.map((m) => m.what).join(', ')}. Install ${missing.length > 1 ? 'them' : 'it'} with ` +
      `\`apt-get install -y ${missing.map((m) => m.pkg).join(' ')}\` (Debian).`,
  );
  process.exit(1);
}

/**
 * packages/api/test files that run a second time on PostgreSQL (`DISCO_TEST_DB=postgres`). Not secure.e2e: a server
 * on PostgreSQL refuses federated secure aggregation (decision 0015), as routers.test.ts checks.
 */
const POSTGRES_TEST_FILES = [
  'routers',
  'capacity',
  'peers-signalling',
  'rounds.e2e',
  'updates.e2e',
  'async.e2e',
  'privacy.e2e',
  'server.e2e',
  'server-optimizer.e2e',
  'bounded-influence.e2e',
  'aggregation-off-thread.e2e',
  'models.e2e',
  'federation.e2e',
  'serving.e2e',
  'multi-instance',
];

const SUITE_TIMEOUT_MS = Number(process.env.DISCO_SUITE_TIMEOUT_MS ?? 15 * 60_000);
const scratch = mkdtempSync(path.join(tmpdir(), 'disco-tests-'));
const suites = [
  // ESLint, type-aware (eslint.config.js): one check, passed or failed, its problems printed above. `npm run
  // lint` generates the elements' manifest first: the stories import it, and a clean checkout has none.
  { name: 'lint', cwd: '.', cmd: ['npm', 'run', '--silent', 'lint'], kind: 'check' },
  // Two test files at a time: much of a file's time is loading modules and waiting on servers, processes and
  // sockets, so two overlap well on 2 cores (api: 530 s → 398 s, every test passing).
  { name: 'core (node)', cwd: 'packages/core', cmd: ['node', '../../tools/node-test.mjs', 'src'], kind: 'node', env: { DISCO_TEST_CONCURRENCY: '2', DISCO_TEST_TIMEOUT_MS: '480000' } },
  { name: 'api (node)', cwd: 'packages/api', cmd: ['node', '../../tools/node-test.mjs', 'src', 'test'], kind: 'node', env: { DISCO_TEST_CONCURRENCY: '2', DISCO_TEST_TIMEOUT_MS: '480000' } },
  // The router and service tests again on PostgreSQL (test/helpers.ts gives each server and app a fresh database
  // of a throwaway cluster per test file), with the many-instances tests that only run there. Not the CLI and
  // peer-process files: they exercise clients and processes, which the database does not change.
  {
    name: 'api (postgres)',
    cwd: 'packages/api',
    cmd: ['node', '../../tools/node-test.mjs', ...POSTGRES_TEST_FILES.map((f) => `test/${f}.test.ts`)],
    kind: 'node',
    env: { DISCO_TEST_DB: 'postgres', DISCO_TEST_CONCURRENCY: '2', DISCO_TEST_TIMEOUT_MS: '480000' },
  },
  { name: 'core (chromium)', cwd: 'packages/core', cmd: ['npx', 'web-test-runner'], kind: 'wtr' },
  { name: 'elements (chromium)', cwd: 'packages/elements', cmd: ['npx', 'web-test-runner'], kind: 'wtr' },
  // One file at a time: two at a time, on a loaded machine, the stories test waited for the other file's
  // Storybook build past its timeout; not yet measured on a quiet one (support/lock.ts keeps builds apart).
  { name: 'end to end (chromium + server)', cwd: 'e2e', cmd: ['node', '../tools/node-test.mjs', '.'], kind: 'node', env: { DISCO_TEST_TIMEOUT_MS: '480000' } },
].filter((s) => existsSync(path.join(root, s.cwd)) && (!process.env.DISCO_SUITES || process.env.DISCO_SUITES.split(',').some((n) => s.name.startsWith(n))));

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const suite of suites) {
  console.log(`\n=== ${suite.name} ===`);
  const countsFile = path.join(scratch, `${suite.name.replace(/\W+/g, '_')}.json`);
  const started = Date.now();
  const result = await run(suite, countsFile);
  let p = 0;
  let f = 0;
  let s = 0;
  if (suite.kind === 'check') {
    if (result.status === 0) p = 1;
  } else if (suite.kind === 'node') {
    // node:test's spec reporter closes with "ℹ pass N", "ℹ fail N", "ℹ skipped N".
    p = Number(/ℹ pass (\d+)/.exec(result.stdout)?.[1] ?? 0);
    f = Number(/ℹ fail (\d+)/.exec(result.stdout)?.[1] ?? 0);
    s = Number(/ℹ skipped (\d+)/.exec(result.stdout)?.[1] ?? 0);
  } else if (existsSync(countsFile)) {
    ({ passed: p, failed: f, skipped: s } = JSON.parse(readFileSync(countsFile, 'utf8')));
  }
  if (result.status !== 0 && f === 0) f = 1; // a suite that crashed counts as a failure
  passed += p;
  failed += f;
  skipped += s;
  if (result.status !== 0) failures.push(suite.name);
  console.log(`--- ${suite.name}: ${p} passed, ${f} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
rmSync(scratch, { recursive: true, force: true });
if (failures.length) console.log(`\nfailed suites: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failures.length || passed === 0 ? 1 : 0); // no test run at all is a failure too

/** Runs one suite, streaming its output while keeping a copy to read the node:test summary from. */
function run(suite, countsFile) {
  return new Promise((resolve) => {
    const child = spawn(suite.cmd[0], suite.cmd.slice(1), {
      cwd: path.join(root, suite.cwd),
      env: { ...process.env, CHROME_PATH: chrome, DISCO_WTR_COUNTS: countsFile, ...suite.env },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true, // its own process group, so that a hung suite can be killed with everything it started
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    // A hung suite must not hold CI for its 90 minutes: each suite gets at most SUITE_TIMEOUT_MS.
    const timer = setTimeout(() => {
      console.error(`\n${suite.name}: still running after ${SUITE_TIMEOUT_MS / 60000} minutes; stopped`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // it ended meanwhile
      }
    }, SUITE_TIMEOUT_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? 1, stdout });
    });
  });
}
