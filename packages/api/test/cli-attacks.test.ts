import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { womenSurviveAccuracy } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { simulateCommand } from '../src/cli/simulate.js';
import { done, mnist, type Done } from './attacks-helpers.js';
import { disco } from './cli-helpers.js';

/**
 * `disco simulate --byzantine k --attack …` (issue 10): the last k clients attack as real participants (they join,
 * train and upload, or send to their peers, through the same API), and the robust strategies hold where FedAvg
 * does not. Two simulations of one test run side by side (one process each: TF.js on wasm uses one core).
 */

// The MNIST simulation of cli-attacks-mnist.test.ts (two files, so that each stays under the runner's per-file limit).
test('MNIST, 8 clients of which 2 flip the sign of their update (×10): centered clipping (from 0, the median distance as radius) holds (≥ 0.90)', async (t) => {
  const run = done(await mnist('centered-clipping'));
  t.diagnostic(`test accuracy: centered-clipping ${run.testAccuracy}`);

  assert.ok(run.testAccuracy >= 0.9, `centered-clipping: ${run.testAccuracy}`);
});

// Titanic, 5 peers over WebRTC in one process, the last sending start − 10 × (its model − start) to the others
// each round; scored on the seeded test split (262 passengers), where the women-survive rule scores 0.813.
test('decentralized Titanic, 1 of 5 peers sending sign-flipped models: with the median every peer ends ≥ 0.80 and above the women-survive rule; with FedAvg below it', async () => {
  const args = ['simulate', '--task', 'titanic', '--scheme', 'decentralized', '--clients', '5', '--rounds', '5', '--byzantine', '1', '--attack', 'sign-flip', '--json'];

  const [fedavg, median] = (await Promise.all([disco([...args, '--aggregator', 'fedavg']), disco([...args, '--aggregator', 'median'])])).map(done);

  const rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));
  // Every round is all-to-all and the attacker counts what it sent, so all 5 peers end with one model: peer 0's
  // test accuracy is every honest peer's.
  assert.deepEqual([fedavg, median].map((d) => d.maxWeightDifference), [0, 0]);
  assert.ok(median.testAccuracy >= 0.8 && median.testAccuracy > rule, `median: ${median.testAccuracy}, women-survive rule ${rule}`);
  assert.ok(fedavg.testAccuracy < rule, `fedavg: ${fedavg.testAccuracy}, women-survive rule ${rule}`);
  assert.deepEqual([median.aggregator, median.byzantine, median.attack], ['median', 1, 'sign-flip']);
});

describe('the done line and usage errors', () => {
  test('the done line names the aggregator, the attackers and the attack; without attackers, byzantine 0 and no attack', async () => {
    const base = ['simulate', '--task', 'titanic', '--clients', '3', '--rounds', '1', '--json'];

    const [plain, attacked] = (await Promise.all([disco(base), disco([...base, '--aggregator', 'krum', '--aggregator-param', '1', '--byzantine', '1', '--attack', 'gaussian', '--attack-param', '0.5'])])).map(done);

    assert.deepEqual([plain.aggregator, plain.byzantine, plain.attack], ['fedavg', 0, undefined]);
    const { aggregator, aggregatorParameter, byzantine, attack, attackParameter } = attacked as Done & Record<string, unknown>;
    assert.deepEqual({ aggregator, aggregatorParameter, byzantine, attack, attackParameter }, { aggregator: 'krum', aggregatorParameter: 1, byzantine: 1, attack: 'gaussian', attackParameter: 0.5 });
  });

  test('bad combinations are refused with the flag and the value (in process: refused before any data is loaded)', async () => {
    const base = ['simulate', '--task', 'titanic', '--clients', '4', '--rounds', '1'];
    const cases: [string[], RegExp][] = [
      [['--byzantine', '4', '--attack', 'sign-flip'], /^disco: --byzantine must be below --clients \(at least one client must be honest to measure\): got --byzantine 4 with --clients 4/],
      [['--byzantine', '1'], /^disco: --byzantine needs --attack <name>: one of sign-flip, gaussian, alie, ipm, inflate-samples, label-flip/],
      [['--byzantine', '1', '--attack', 'nudge'], /^disco: --attack must be one of sign-flip, gaussian, alie, ipm, inflate-samples, label-flip, got "nudge"/],
      [['--attack', 'sign-flip'], /^disco: --attack needs --byzantine <k> \(k ≥ 1\)/],
      [['--byzantine', '1', '--attack', 'label-flip', '--attack-param', '2'], /^disco: --attack label-flip takes no --attack-param/],
      [['--byzantine', '1', '--attack', 'sign-flip', '--secure'], /^disco: --attack sign-flip cannot be combined with --secure/],
      [['--aggregator', 'mean'], /^disco: --aggregator must be one of fedavg, median, trimmed-mean, krum, multi-krum, centered-clipping, got "mean"/],
      [['--aggregator-param', '0.2'], /^disco: --aggregator-param needs --aggregator/],
      [['--aggregator', 'fedavg', '--aggregator-param', '1'], /^disco: --aggregator fedavg takes no --aggregator-param/],
      [['--aggregator', 'median', '--server', 'http://127.0.0.1:9'], /^disco: --aggregator applies to the simulation's own server/],
    ];

    for (const [args, message] of cases) {
      const err: string[] = [];
      const code = await simulateCommand([...base.slice(1), ...args], { out: () => {}, err: (line) => err.push(line) });
      assert.equal(code, 2, `${args.join(' ')}: ${err.join('\n')}`);
      assert.match(err[0], message);
    }
    // The strategy's own range is the task schema's check, with its message.
    const trimmed = await disco([...base, '--aggregator', 'trimmed-mean', '--aggregator-param', '0.5']);
    assert.equal(trimmed.code, 1);
    assert.match(trimmed.stderr, /aggregation\.parameter.*the fraction trimmed at each end must be below 0\.5, got 0\.5/s);
  });
});
