import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { disco, type RunResult } from './cli-helpers.js';

/**
 * `disco simulate --byzantine k --attack …` (issue 10): the last k clients attack as real participants (they join,
 * train and upload, or send to their peers, through the same API), and the robust strategies hold where FedAvg
 * does not. Each test runs its two simulations side by side (one process each: TF.js on wasm uses one core).
 */

interface Done {
  type: 'done';
  testAccuracy: number;
  rounds: number;
  aggregator: string;
  byzantine: number;
  attack?: string;
  maxWeightDifference?: number;
}

function done(run: RunResult): Done {
  assert.equal(run.code, 0, run.stderr);
  const last = run.events.at(-1) as unknown as Done;
  assert.equal(last.type, 'done');
  return last;
}

// MNIST, 8 clients of which the last 2 send −10 × their update. 4,000 training digits (500 a client) and 3 rounds of
// one epoch in batches of 16 at Adam's lr 0.005; scored on the first 1,000 test digits. Without attackers these
// settings reach 0.93; see docs/BENCHMARKS.md ("Robustness: strategy × attack") for every strategy and attack.
const MNIST = ['simulate', '--task', 'mnist', '--clients', '8', '--rounds', '3', '--train-limit', '4000', '--test-limit', '1000', '--batch-size', '16', '--learning-rate', '0.005', '--byzantine', '2', '--attack', 'sign-flip', '--json'];
const mnist = (...aggregator: string[]) => disco([...MNIST, '--aggregator', ...aggregator], { timeoutMs: 300_000 });

describe('MNIST, 8 clients of which 2 flip the sign of their update (×10)', () => {
  test('FedAvg is taken over (below 0.5); the median holds (≥ 0.90)', async () => {
    const [fedavg, median] = (await Promise.all([mnist('fedavg'), mnist('median')])).map(done);

    assert.ok(fedavg.testAccuracy < 0.5, `fedavg: ${fedavg.testAccuracy}`);
    assert.ok(median.testAccuracy >= 0.9, `median: ${median.testAccuracy}`);
    assert.deepEqual([fedavg, median].map((d) => [d.aggregator, d.byzantine, d.attack, d.rounds]), [['fedavg', 2, 'sign-flip', 3], ['median', 2, 'sign-flip', 3]]);
  });

  test('trimmed mean (2 of 8 trimmed at each end) and multi-Krum (f = 2) hold (≥ 0.90)', async () => {
    const runs = (await Promise.all([mnist('trimmed-mean', '--aggregator-param', '0.25'), mnist('multi-krum', '--aggregator-param', '2')])).map(done);

    for (const run of runs) assert.ok(run.testAccuracy >= 0.9, `${run.aggregator}: ${run.testAccuracy}`);
  });

  test('centered clipping (from 0, the median distance as radius) holds (≥ 0.90)', async () => {
    const run = done(await mnist('centered-clipping'));

    assert.ok(run.testAccuracy >= 0.9, `centered-clipping: ${run.testAccuracy}`);
  });
});

