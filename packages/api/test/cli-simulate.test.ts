import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { womenSurviveAccuracy } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { disco } from './cli-helpers.js';

/** `disco simulate`: n clients in one process against the command's own server, on built-in data. */

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-simulate-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Done {
  type: 'done';
  testAccuracy: number;
  accuracy: number;
  loss: number;
  rounds: number;
  bytesSent: number;
  bytesReceived: number;
}

describe('disco simulate', () => {
  // `simulate` scores the seeded test split (262 passengers), on which the women-survive rule scores 0.813: the
  // model must beat it as well as 0.80.
  test('titanic, 4 clients, 5 rounds: ≥ 0.80 test accuracy and above the women-survive rule, one line per round, bytes counted', async () => {
    const out = path.join(dir, 'titanic');
    const run = await disco(['simulate', '--task', 'titanic', '--clients', '4', '--rounds', '5', '--json', '--out', out]);

    assert.equal(run.code, 0, run.stderr);
    const rounds = run.events.filter((e) => e.type === 'round');
    assert.deepEqual(rounds.map((e) => e.round), [1, 2, 3, 4, 5]);
    assert.ok(rounds.every((e) => e.participants === 4 && typeof e.testAccuracy === 'number'));
    const done = run.events.at(-1) as unknown as Done;
    assert.equal(done.type, 'done');
    assert.equal(done.rounds, 5);
    const rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));
    assert.ok(done.testAccuracy >= 0.8 && done.testAccuracy > rule, `test accuracy ${done.testAccuracy}, women-survive rule ${rule}`);
    assert.equal(done.accuracy, done.testAccuracy);
    assert.ok(done.loss > 0);
    // 4 clients × 5 updates of ~1.4 KB each way at least (354 float32 parameters), plus the downloads.
    assert.ok(done.bytesSent > 4 * 5 * 1_400, `bytesSent ${done.bytesSent}`);
    assert.ok(done.bytesReceived > done.bytesSent / 2, `bytesReceived ${done.bytesReceived}`);
    assert.ok(existsSync(path.join(out, 'model.json')) && existsSync(path.join(out, 'weights.bin')));
  });

  test('MNIST, 4 clients on a label-skewed split, 5 rounds, the task\'s defaults (no tuning flag): ≥ 0.93 on its test set', async () => {
    // 6,000 digits dealt by label (each client holds 4-5 classes, mostly 2); the built-in task trains 2 local
    // epochs per round (batches of 64, lr 0.004) and the server applies Nesterov momentum 0.9 (decision 0012):
    // about 2-2.5 minutes on 2 cores.
    const run = await disco(
      [
        'simulate', '--task', 'mnist', '--clients', '4', '--rounds', '5', '--split', 'label-skew',
        '--train-limit', '6000', '--test-limit', '1000', '--json',
      ],
      { timeoutMs: 400_000 },
    );

    assert.equal(run.code, 0, run.stderr);
    const done = run.events.at(-1) as unknown as Done;
    assert.equal(done.type, 'done');
    assert.ok(done.rounds <= 5);
    assert.ok(done.testAccuracy >= 0.93, `test accuracy ${done.testAccuracy}`);
  });

  test('a task without bundled data, or a bad count, is refused clearly', async () => {
    const cifar = await disco(['simulate', '--task', 'cifar10', '--clients', '2', '--rounds', '1']);
    assert.equal(cifar.code, 1);
    assert.match(cifar.stderr, /^disco: The CIFAR-10 data set is not bundled with Disco/);

    const zero = await disco(['simulate', '--task', 'titanic', '--clients', '0', '--rounds', '1']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /^disco: --clients must be an integer of at least 1, got "0"/);
  });
});
