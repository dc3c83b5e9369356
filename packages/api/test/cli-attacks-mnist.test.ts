import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { done, mnist } from './attacks-helpers.js';

/**
 * `disco simulate --byzantine k --attack …` (issue 10): the last k clients attack as real participants (they join,
 * train and upload, or send to their peers, through the same API), and the robust strategies hold where FedAvg
 * does not. Each test runs its two simulations side by side (one process each: TF.js on wasm uses one core); centered
 * clipping is in cli-attacks.test.ts, so that each file stays under the runner's per-file limit on a loaded 2-core machine.
 */

describe('MNIST, 8 clients of which 2 flip the sign of their update (×10)', () => {
  test('FedAvg is taken over (below 0.5); the median holds (≥ 0.90)', async (t) => {
    const [fedavg, median] = (await Promise.all([mnist('fedavg'), mnist('median')])).map(done);
    t.diagnostic(`test accuracy: fedavg ${fedavg.testAccuracy}, median ${median.testAccuracy}`);

    assert.ok(fedavg.testAccuracy < 0.5, `fedavg: ${fedavg.testAccuracy}`);
    assert.ok(median.testAccuracy >= 0.9, `median: ${median.testAccuracy}`);
    assert.deepEqual([fedavg, median].map((d) => [d.aggregator, d.byzantine, d.attack, d.rounds]), [['fedavg', 2, 'sign-flip', 3], ['median', 2, 'sign-flip', 3]]);
  });

  test('trimmed mean (2 of 8 trimmed at each end) and multi-Krum (f = 2) hold (≥ 0.90)', async (t) => {
    const runs = (await Promise.all([mnist('trimmed-mean', '--aggregator-param', '0.25'), mnist('multi-krum', '--aggregator-param', '2')])).map(done);
    t.diagnostic(`test accuracy: ${runs.map((run) => `${run.aggregator} ${run.testAccuracy}`).join(', ')}`);

    for (const run of runs) assert.ok(run.testAccuracy >= 0.9, `${run.aggregator}: ${run.testAccuracy}`);
  });
});

