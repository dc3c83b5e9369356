import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { computeEpsilon, getBuiltinTask, womenSurviveAccuracy, type Task } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { disco } from './cli-helpers.js';

/** `disco simulate` with differential privacy (decision 0011): DP Titanic, a budget from a task file, sampling, flag checks. */

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-privacy-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const epsilon = (q: number, steps: number) => computeEpsilon({ q, z: 1, steps, delta: 1e-5 }).epsilon;

describe('disco simulate with differential privacy', () => {
  test('DP Titanic, 4 clients, 20 rounds at C = 0.2, z = 1.0: ≥ 0.80 test accuracy, above the women-survive rule, ε on every round line', async () => {
    const run = await disco(['simulate', '--task', 'titanic', '--clients', '4', '--rounds', '20', '--dp-clip', '0.2', '--dp-noise', '1.0', '--json']);

    assert.equal(run.code, 0, run.stderr);
    const rounds = run.events.filter((e) => e.type === 'round');
    assert.deepEqual(rounds.map((e) => e.round), Array.from({ length: 20 }, (_, i) => i + 1));
    // Each closed round is one step at q = 1, z = 1: ε after k rounds, at δ = 1e-5 (5.30 after 1, 31.5 after 20).
    assert.deepEqual(
      rounds.map((e) => [e.epsilon, e.delta]),
      rounds.map((_, i) => [epsilon(1, i + 1), 1e-5]),
    );
    const done = run.events.at(-1) as { type: string; testAccuracy: number; rounds: number; epsilon: number; delta: number };
    assert.deepEqual([done.type, done.rounds, done.epsilon, done.delta], ['done', 20, epsilon(1, 20), 1e-5]);
    // The women-survive rule scores 0.78 on the whole data set (0.813 on this test split); DP Titanic reached
    // 0.821–0.824 on this split in three runs (the noise is drawn anew every run).
    // 0.80 leaves two points of margin for the noise and still beats the rule's 0.78.
    const rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'train' }));
    assert.ok(rule < 0.8 && done.testAccuracy >= 0.8, `test accuracy ${done.testAccuracy} (women-survive rule on the training split: ${rule})`);
  });

  test('a task file with a budget: training stops before a round would exceed it, and says so', async () => {
    const titanic = getBuiltinTask('titanic') as Task;
    const file = path.join(dir, 'titanic-dp.json');
    // ε after 1, 2, 3 rounds at q = 1, z = 1: 5.30, 7.79, 9.84: a budget of 9 allows two rounds.
    writeFileSync(file, JSON.stringify({ ...titanic, training: { ...titanic.training, epochsPerRound: 1 }, privacy: { clippingNorm: 0.2, noiseMultiplier: 1, budget: { epsilon: 9 } } }));

    const run = await disco(['simulate', '--task', file, '--clients', '3', '--rounds', '10', '--json']);

    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.events.filter((e) => e.type === 'round').map((e) => [e.round, e.epsilon]), [[1, epsilon(1, 1)], [2, epsilon(1, 2)]]);
    const done = run.events.at(-1) as Record<string, unknown>;
    assert.deepEqual([done.type, done.rounds, done.epsilon, done.budgetExhausted], ['done', 2, epsilon(1, 2), true]);
    const warnings = run.events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => e.message);
    assert.deepEqual(new Set(warnings), new Set(['training stopped at model v2: the task\'s privacy budget is spent (ε = 7.789 of ε = 9 at δ = 0.00001; one more round would exceed it)']));
  });

  test('--sample 0.5: clients sit rounds out, and ε is accounted at q = 0.5', async () => {
    const run = await disco(['simulate', '--task', 'titanic', '--clients', '4', '--rounds', '3', '--epochs', '1', '--dp-clip', '0.2', '--dp-noise', '1', '--sample', '0.5', '--json']);

    assert.equal(run.code, 0, run.stderr);
    const rounds = run.events.filter((e) => e.type === 'round');
    assert.deepEqual(rounds.map((e) => [e.modelVersion, e.epsilon]), [1, 2, 3].map((k) => [k, epsilon(0.5, k)]));
    const done = run.events.at(-1) as Record<string, unknown>;
    assert.deepEqual([done.type, done.rounds, done.epsilon], ['done', 3, epsilon(0.5, 3)]);
  });

  test('the DP flags are checked, each usage error naming its flag', async () => {
    const cases: [string[], string][] = [
      [['--dp-noise', '1'], 'disco: --dp-noise needs --dp-clip: the noise is scaled to the clipping norm'],
      [['--dp-clip', '0'], 'disco: --dp-clip must be a positive number, got "0"'],
      [['--dp-clip', '1', '--dp-noise=-1'], 'disco: --dp-noise must be a number from 0 to 1000, got "-1"'],
      [['--dp-clip', '1', '--dp-noise', '1', '--dp-delta', '1'], 'disco: --dp-delta must be a number between 0 and 1 (exclusive), got "1"'],
      [['--sample', '0'], 'disco: --sample must be a probability above 0 and at most 1, got "0"'],
      [['--dp-clip', '1', '--server', 'http://127.0.0.1:1'], 'disco: --dp-clip applies to the simulation\'s own server; a task on --server keeps its settings'],
    ];
    for (const [flags, message] of cases) {
      const run = await disco(['simulate', '--task', 'titanic', '--clients', '2', '--rounds', '1', ...flags]);
      assert.equal(run.code, 2, flags.join(' '));
      assert.equal(run.stderr.split('\n')[0], message);
    }
  });
});
