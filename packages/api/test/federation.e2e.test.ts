import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, type RoundState } from '@disco/core';
import { createFederationApi } from '@disco/client';
import { encodeUpdate, INITIAL, testServer, waitFor, WebSocket } from './helpers.js';

test('three clients join, submit real codec bytes and get the sample-weighted FedAvg as version 1', async (t) => {
  const server = await testServer({ tasks: [(await import('./helpers.js')).testTask({ minParticipants: 3 })] });
  t.after(() => server.cleanup());
  const apis = [0, 1, 2].map(() => createFederationApi(server.url, { WebSocket }));
  t.after(() => apis.forEach((api) => api.close()));

  const joined = await Promise.all(apis.map((api) => api.join('test-task')));
  assert.equal(joined[0].state.round, 1);
  assert.equal(joined[0].state.phase, 'open');
  assert.equal(joined[2].state.participants, 3);
  const v0 = decodeWeights(await apis[0].downloadWeights('test-task'));
  assert.deepEqual(Array.from(v0.weights.values), Array.from(INITIAL));

  const seen: RoundState[] = [];
  const stop = apis[0].watchRounds('test-task', joined[0].token, (s) => seen.push(s));
  t.after(stop);
  await waitFor('the first announcement', () => seen.length, (n) => n > 0);

  const deltas = [
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
    [2, 2, 2, 2, 2, 2, 2, 2, 2],
    [-1, 0, 1, 0, 0, 0, 0, 0, 4],
  ];
  const samples = [1, 2, 1];
  for (let i = 0; i < 3; i++) {
    const result = await apis[i].submitUpdate(joined[i].token, 1, encodeUpdate(deltas[i], { samples: samples[i], meta: { loss: i, accuracy: 0.5 } }));
    assert.deepEqual(result, { accepted: true, round: 1 });
  }

  const closed = await waitFor('round 1 closed', () => seen, (s) => s.some((x) => x.round === 1 && x.phase === 'closed'));
  const next = await waitFor('round 2 open', () => seen, (s) => s.some((x) => x.round === 2 && x.phase === 'open'));
  assert.ok(closed && next);
  const v1 = decodeWeights(await apis[1].downloadWeights('test-task', 1));
  // new = global + Σ wᵢΔᵢ / Σ wᵢ with w = (1, 2, 1): (Δ₀ + 2Δ₁ + Δ₂) / 4
  const expected = INITIAL.map((g, j) => g + (deltas[0][j] + 2 * deltas[1][j] + deltas[2][j]) / 4);
  assert.deepEqual(Array.from(v1.weights.values), Array.from(Float32Array.from(expected)));
  assert.equal(v1.header.modelVersion, 1);
  const latest = seen.at(-1)!;
  assert.equal(latest.modelVersion, 1);
  assert.equal(latest.metrics?.samples, 4);
  assert.equal(latest.metrics?.loss, (0 * 1 + 1 * 2 + 2 * 1) / 4);
  assert.ok(apis[0].stats.bytesReceived > 0 && apis[0].stats.bytesSent > 0);
});
