import { test } from 'node:test';
import assert from 'node:assert/strict';
import { womenSurviveAccuracy, type DoneEvent } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { disco } from './cli-helpers.js';
import { maxDifference, peerProcess, titanicServer } from './peers-helpers.js';

// Scored on the seeded test split (262 passengers), where the women-survive rule scores 0.813.
const rule = async () => womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));

test('secure aggregation among 3 Node peers in separate processes over WebRTC: the same model everywhere, above 0.80 and the rule', { timeout: 120_000 }, async (t) => {
  const running = await titanicServer(t, { peers: 3, rounds: 3, secure: true });

  const runs = await Promise.all([0, 1, 2].map((i) => peerProcess(running.url, i, 3)));

  const results = runs.map((run, i) => {
    assert.equal(run.code, 0, `peer ${i} exited with ${run.code ?? run.signal}`);
    assert.deepEqual(run.events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => e.message), [], `peer ${i}`);
    assert.deepEqual(run.events.filter((e) => e.type === 'round').map((e) => [e.round, e.participants]), [[1, 3], [2, 3], [3, 3]], `peer ${i}`);
    const done = run.events.find((e) => e.type === 'done') as unknown as DoneEvent;
    assert.equal(done.secureAggregation, true);
    return { ...(run.events.find((e) => e.type === 'result') as unknown as { accuracy: number; weights: number[] }), done };
  });
  const women = await rule();
  for (const [i, r] of results.entries()) assert.ok(r.accuracy >= 0.8 && r.accuracy > women, `peer ${i}: test accuracy ${r.accuracy}, women-survive rule ${women}`);
  // Every member unmasked the same sum and added it to the same start.
  assert.deepEqual(results.slice(1).map((r) => maxDifference(r.weights, results[0].weights)), [0, 0]);
  // Each round, each peer sent its masked input (4 bytes a parameter, and the weight word) to the 2 others.
  const maskedBytes = 4 * (results[0].weights.length + 1);
  const sent = results[0].done.stats.bytesSent;
  t.diagnostic(`test accuracies ${results.map((r) => r.accuracy.toFixed(3)).join(', ')} (rule ${women.toFixed(3)}); peer 0 sent ${sent} bytes in 3 rounds, a masked input is ${maskedBytes} bytes`);
  assert.ok(sent > 3 * 2 * maskedBytes, `peer 0 sent ${sent} bytes`);
});

test('disco simulate --scheme decentralized --secure: the done line says so, and the test accuracy is that of the plain run within 1 point', { timeout: 120_000 }, async () => {
  const args = ['simulate', '--task', 'titanic', '--scheme', 'decentralized', '--clients', '3', '--rounds', '2', '--json'];

  const [plain, secure] = await Promise.all([disco(args), disco([...args, '--secure'])]);

  for (const run of [plain, secure]) assert.equal(run.code, 0, run.stderr);
  const [p, s] = [plain, secure].map((run) => run.events.at(-1) as { type: string; testAccuracy: number; secureAggregation?: boolean; maxWeightDifference: number; bytesSent: number });
  assert.equal(s.type, 'done');
  assert.equal(s.secureAggregation, true);
  assert.equal(p.secureAggregation, undefined);
  assert.equal(s.maxWeightDifference, 0);
  const women = await rule();
  assert.ok(Math.abs(s.testAccuracy - p.testAccuracy) <= 0.01, `secure ${s.testAccuracy}, plain ${p.testAccuracy}`);
  assert.ok(s.testAccuracy >= 0.8 && s.testAccuracy > women, `secure ${s.testAccuracy}, women-survive rule ${women}`);
});
