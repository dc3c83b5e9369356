import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, type JoinResult, type RoundState } from '@disco/core';
import { createFederationApi } from '@disco/client';
import type { ModelToolkit } from '../src/services/model-toolkit.js';
import { encodeUpdate, fakeToolkit, roundHistory, testServer, testTask, waitFor, WebSocket } from './helpers.js';

// Issue 10: a robust rule's aggregation runs in a worker thread, off the request path: the request carrying
// the last update returns at once, and the server answers health checks and heartbeats while the round is
// `aggregating`; it closes when the worker returns.

const PARAMETERS = 200_000;
const shapes = [{ name: 'dense/kernel', shape: [PARAMETERS] }];
const bigToolkit: ModelToolkit = {
  ...fakeToolkit,
  async build() {
    const built = await fakeToolkit.build(undefined as never);
    return { ...built, weights: { values: new Float32Array(PARAMETERS), shapes } };
  },
};

test('Krum over 20 updates of 200k parameters: heartbeats and health checks are answered before the round closes', async (t) => {
  const server = await testServer({ tasks: [testTask({ minParticipants: 20, aggregation: { strategy: 'krum', parameter: 2 } })], modelToolkit: bigToolkit });
  t.after(() => server.cleanup());
  const api = createFederationApi(server.url, { WebSocket });
  t.after(() => api.close());
  const joined: JoinResult[] = [];
  for (let i = 0; i < 20; i++) joined.push(await api.join('test-task'));
  const events: string[] = [];
  const stop = api.watchRounds('test-task', joined[0].token, (s: RoundState) => {
    if (s.round === 1 && s.phase === 'closed') events.push('round 1 closed');
  });
  t.after(stop);
  // 18 honest updates near 1, 2 attackers at 100: Krum picks an honest one.
  for (let i = 0; i < 20; i++) {
    const value = i < 2 ? 100 : 1 + i / 1000;
    await api.submitUpdate(joined[i].token, 1, encodeUpdate(new Float32Array(PARAMETERS).fill(value), { shapes }));
  }
  events.push('last update accepted');
  const beat = await api.heartbeat(joined[0].token);
  events.push(`heartbeat answered: round ${beat.round} ${beat.phase}`);
  const health = await fetch(`${server.url}/healthz`);
  events.push(`health check answered: ${health.status}`);

  await waitFor('round 2', () => api.heartbeat(joined[0].token), (s) => s.round === 2, 30_000);
  await waitFor('the closed announcement', () => events, (e) => e.includes('round 1 closed'));
  assert.deepEqual(events, ['last update accepted', 'heartbeat answered: round 1 aggregating', 'health check answered: 200', 'round 1 closed']);
  const [, round1] = await roundHistory(server);
  assert.deepEqual([round1.phase, round1.submitted, round1.modelVersion], ['closed', 20, 1]);
  const v1 = decodeWeights(await api.downloadWeights('test-task', 1)).weights.values;
  assert.ok(v1[0] > 1 && v1[0] < 1.02, `Krum picked an honest update (${v1[0]})`);
});
