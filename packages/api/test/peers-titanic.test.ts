import { test } from 'node:test';
import assert from 'node:assert/strict';
import { womenSurviveAccuracy, type DoneEvent } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { maxDifference, peerProcess, titanicServer } from './peers-helpers.js';

test('4 Node peers in separate processes train Titanic over WebRTC and agree on the final model', { timeout: 120_000 }, async (t) => {
  const running = await titanicServer(t, { peers: 4, rounds: 5 });

  const runs = await Promise.all([0, 1, 2, 3].map((i) => peerProcess(running.url, i, 4)));

  const results = runs.map((run, i) => {
    assert.equal(run.code, 0, `peer ${i} exited with ${run.code ?? run.signal}`);
    return run.events.find((e) => e.type === 'result') as unknown as { accuracy: number; weights: number[] };
  });
  // Each peer scores the seeded test split (262 passengers), where the women-survive rule scores 0.813.
  const rule = womenSurviveAccuracy(await loadBuiltinDataset('titanic', { split: 'test' }));
  for (const [i, r] of results.entries()) assert.ok(r.accuracy >= 0.8 && r.accuracy > rule, `peer ${i}: test accuracy ${r.accuracy}, women-survive rule ${rule}`);
  const maxDiff = Math.max(...results.slice(1).map((r) => maxDifference(r.weights, results[0].weights)));
  t.diagnostic(`test accuracies ${results.map((r) => r.accuracy.toFixed(3)).join(', ')} (rule ${rule.toFixed(3)}); largest weight difference ${maxDiff}`);
  assert.equal(maxDiff, 0, `the peers' final models differ by up to ${maxDiff}`);
  // Every round had all 4 peers, each connected to the 3 others; models went peer to peer only.
  const rounds = runs[0].events.filter((e) => e.type === 'round');
  assert.deepEqual(rounds.map((e) => [e.round, e.participants]), [1, 2, 3, 4, 5].map((r) => [r, 4]));
  const done = runs[0].events.find((e) => e.type === 'done') as unknown as DoneEvent;
  // Each of the 5 rounds sent the model (4 bytes a parameter, float32) to each of the 3 others, at least.
  const modelBytes = results[0].weights.length * 4;
  assert.ok(done.stats.bytesSent > 5 * 3 * modelBytes, `bytes sent to peers: ${done.stats.bytesSent}, model ${modelBytes} bytes`);
});
