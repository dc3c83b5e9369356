import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { getBuiltinTask, type Task } from '@disco/core';
import { titanicCsvPath } from '@disco/core/node';
import { runCli } from '../src/cli/main.js';
import { disco, startServe, stop, type DiscoProcess, type RunResult } from './cli-helpers.js';

/**
 * The operator commands against a real `disco serve`: tasks created from a file (and with an uploaded
 * model), listed, shown and deleted; rounds listed after a federated run; a model version pulled and
 * evaluated; the progress bar only where asked for.
 */

const ADMIN = 'cli-operators-admin';
let dir: string;
let server: (DiscoProcess & { url: string }) | undefined;

const titanic = getBuiltinTask('titanic') as Task;

/**
 * Runs `disco <args>` in this process (the operator commands only talk HTTP): the same exit code and output as
 * the bin, without a process start each. The env-reading paths run as real processes below.
 */
async function cli(args: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (l) => void (stdout += `${l}\n`), err: (l) => void (stderr += `${l}\n`) });
  const events = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, stdout, stderr, events };
}

function taskFile(name: string, task: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(task));
  return file;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-operators-'));
  server = await startServe(['--port', '0', '--db', path.join(dir, 'disco.sqlite'), '--admin-token', ADMIN]);
});

after(async () => {
  await stop(server);
  rmSync(dir, { recursive: true, force: true });
});

test('disco --version and -v print the package version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const lines: string[] = [];
    assert.equal(await runCli([flag], { out: (l) => lines.push(l), err: (l) => lines.push(l) }), 0);
    assert.deepEqual(lines, [version]);
  }
});

test('--help of each operator command, and the usage errors (exit 2)', async () => {
  for (const args of [['tasks', '--help'], ['tasks', 'show', '--help'], ['rounds', '--help'], ['models', 'pull', '-h']]) {
    const run = await cli(args);
    assert.equal(run.code, 0, args.join(' '));
    assert.match(run.stdout, new RegExp(`^Usage:\n  disco ${args[0]} `), args.join(' '));
  }
  const usage: [string[], string][] = [
    [['tasks'], 'missing the action: ls, show, create or delete'],
    [['tasks', 'rm', 'x'], 'unknown action "rm" (ls, show, create, delete)'],
    [['tasks', 'show', '--server', 'http://127.0.0.1:1'], 'missing <id>'],
    [['tasks', 'show', 'a', 'b', '--server', 'http://127.0.0.1:1'], 'unexpected argument "b"'],
    [['tasks', 'ls', '--model', 'm', '--server', 'http://127.0.0.1:1'], '--model is for "disco tasks create"'],
    [['rounds', 'ls', '--server', 'http://127.0.0.1:1'], 'missing required option --task'],
    [['models', 'pull', '--task', 't', '--out', 'o', '--server', 'ftp://x'], '--server must be an http:// or https:// URL, got "ftp://x"'],
  ];
  for (const [args, message] of usage) {
    const run = await cli(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.equal(run.stderr.split('\n')[0], `disco: ${message}`);
  }
});

test('tasks create (from a file, and with an uploaded model), ls, show, delete; the refusals', async () => {
  const url = (server as { url: string }).url;
  const env = { DISCO_SERVER: url, DISCO_ADMIN_TOKEN: ADMIN };
  const modelDir = path.join(dir, 'titanic-v0');
  const jsonTask = taskFile('ops-json.json', { ...titanic, id: 'ops-json', title: 'Ops from JSON' });
  const uploadTask = taskFile('ops-upload.json', { ...titanic, id: 'ops-upload', model: { source: 'tfjs' } });
  const badTask = taskFile('ops-bad.json', { ...titanic, id: 'ops-bad', training: { ...titanic.training, rounds: 0 } });

  // The initial titanic model, as a TF.js folder to upload.
  const pulled = await cli(['models', 'pull', '--server', url, '--task', 'titanic', '--version', '0', '--out', modelDir, '--json']);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(pulled.events, [{ type: 'done', taskId: 'titanic', version: 0, out: modelDir, weightsBytes: 354 * 4, parameters: 354 }]);

  const [fromEnv, withModel, invalid, invalidJson, noToken] = await Promise.all([
    // DISCO_SERVER and DISCO_ADMIN_TOKEN instead of the options.
    disco(['tasks', 'create', jsonTask, '--json'], { env }),
    cli(['tasks', 'create', uploadTask, '--model', modelDir, '--server', url, '--admin-token', ADMIN]),
    cli(['tasks', 'create', badTask, '--server', url, '--admin-token', ADMIN]),
    cli(['tasks', 'create', badTask, '--json', '--server', url, '--admin-token', ADMIN]),
    disco(['tasks', 'create', jsonTask, '--server', url], { env: { DISCO_ADMIN_TOKEN: '' } }),
  ]);
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.events.length, 1);
  const created = fromEnv.events[0] as { type: string; task: Task; uploadedModel: boolean; latestVersion: number };
  assert.equal(created.type, 'done');
  assert.equal(created.task.id, 'ops-json');
  assert.equal(created.uploadedModel, false);
  assert.equal(created.latestVersion, 0);

  assert.equal(withModel.code, 0, withModel.stderr);
  assert.equal(withModel.stdout, `created task "ops-upload" on ${url} (federated, 354 parameters, uploaded model)\n`);

  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /^disco: INVALID_TASK: Invalid task:\n {2}- training\.rounds: /);
  assert.equal(invalidJson.code, 1);
  const error = invalidJson.events[0] as { type: string; code: string; issues: string[] };
  assert.equal(error.type, 'error');
  assert.equal(error.code, 'INVALID_TASK');
  assert.equal(error.issues.length, 1);
  assert.match(error.issues[0], /^training\.rounds: /);

  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /^disco: creating a task needs the server's admin token: pass --admin-token <t> or set DISCO_ADMIN_TOKEN\n/);

  const [lsJson, ls, show] = await Promise.all([
    cli(['tasks', 'ls', '--server', url, '--json']),
    cli(['tasks', 'ls', '--server', url]),
    cli(['tasks', 'show', 'ops-upload', '--server', url]),
  ]);
  assert.equal(lsJson.code, 0, lsJson.stderr);
  const listed = (lsJson.events[0] as { tasks: { task: Task; uploadedModel: boolean }[] }).tasks;
  assert.deepEqual(
    listed.map((s) => [s.task.id, s.uploadedModel]).sort(),
    [['cifar10', false], ['mnist', false], ['ops-json', false], ['ops-upload', true], ['shakespeare', false], ['titanic', false]],
  );
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^ID +SCHEME +PARTICIPANTS +ROUNDS +MODEL +CREATED +TITLE\n/);
  assert.match(ls.stdout, /\nops-json +federated +0 +0\/6 +v0 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +Ops from JSON\n/);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^ops-upload · Titanic: who survived\?\nscheme +federated\n/);
  assert.match(show.stdout, /\nmodel +v0 · 354 parameters · uploaded\n/);

  const deleted = await cli(['tasks', 'delete', 'ops-json', '--json', '--server', url, '--admin-token', ADMIN]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(deleted.events, [{ type: 'done', deleted: 'ops-json' }]);
  const [afterLs, afterShow] = await Promise.all([cli(['tasks', 'ls', '--json', '--server', url]), cli(['tasks', 'show', 'ops-json', '--json', '--server', url])]);
  assert.deepEqual(
    (afterLs.events[0] as { tasks: { task: Task }[] }).tasks.map((s) => s.task.id),
    ['titanic', 'mnist', 'cifar10', 'shakespeare', 'ops-upload'],
  );
  assert.equal(afterShow.code, 1);
  assert.deepEqual(afterShow.events, [{ type: 'error', code: 'NOT_FOUND', message: 'NOT_FOUND: task "ops-json" does not exist' }]);
  assert.equal(afterShow.stderr, 'disco: NOT_FOUND: task "ops-json" does not exist\n');
});

test('rounds ls after a federated run; models pull of that version, then disco evaluate; the progress bar with DISCO_PROGRESS=1, never with --json', async () => {
  const url = (server as { url: string }).url;
  const modelDir = path.join(dir, 'titanic-v1');
  const [simulated, forced] = await Promise.all([
    // Forced, yet --json wins: no bar.
    disco(['simulate', '--server', url, '--task', 'titanic', '--clients', '2', '--rounds', '1', '--json'], { env: { DISCO_PROGRESS: '1' } }),
    disco(['train', '--task', 'titanic', '--data', titanicCsvPath, '--scheme', 'local', '--epochs', '2'], { env: { DISCO_PROGRESS: '1' } }),
  ]);
  assert.equal(simulated.code, 0, simulated.stderr);
  assert.ok(!simulated.stderr.includes('\r'), 'no progress bar with --json');
  assert.equal(forced.code, 0, forced.stderr);
  // The bar is redrawn in place on stderr (\r), ending with the last epoch, and cleared before the done line.
  const ERASE = '\x1b[K';
  assert.ok(forced.stderr.includes(`\repoch 2/2 [${'#'.repeat(20)}] 100%${ERASE}\r${ERASE}`), JSON.stringify(forced.stderr));
  assert.ok(!forced.stdout.includes('\r'));

  const [roundsJson, rounds] = await Promise.all([
    cli(['rounds', 'ls', '--server', url, '--task', 'titanic', '--json']),
    cli(['rounds', 'ls', '--task', 'titanic', '--server', url]),
  ]);
  assert.equal(roundsJson.code, 0, roundsJson.stderr);
  const listed = (roundsJson.events[0] as { taskId: string; rounds: { number: number; phase: string; modelVersion: number | null; submitted: number }[] }).rounds;
  const closed = listed.find((r) => r.number === 1);
  assert.deepEqual(closed && { phase: closed.phase, modelVersion: closed.modelVersion, submitted: closed.submitted }, { phase: 'closed', modelVersion: 1, submitted: 2 });
  assert.equal(rounds.code, 0, rounds.stderr);
  assert.match(rounds.stdout, /^ROUND +PHASE +MODEL +UPDATES +EXAMPLES +LOSS +ACCURACY +DURATION +CLOSED +FAILURE\n/);
  assert.match(rounds.stdout, /\n1 +closed +v0 → v1 +2\/2 +\d+ +\d\.\d{4} +\d\.\d{4} +\d+\.\d s +\d{4}-/);

  const pulled = await cli(['models', 'pull', '--server', url, '--task', 'titanic', '--version', '1', '--out', modelDir]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(pulled.stdout, `task "titanic" model v1 (354 parameters) written to ${modelDir}\n`);
  const [evaluated, missing] = await Promise.all([
    disco(['evaluate', '--task', 'titanic', '--model', modelDir, '--data', titanicCsvPath, '--json']),
    cli(['models', 'pull', '--server', url, '--task', 'titanic', '--version', '99', '--out', path.join(dir, 'none')]),
  ]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const done = evaluated.events.at(-1) as { type: string; accuracy: number; count: number };
  assert.equal(done.type, 'done');
  assert.equal(done.count, 1309);
  assert.ok(done.accuracy > 0.6, `accuracy ${done.accuracy}`);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^disco: NOT_FOUND: /);
});
