import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipToNorm, computeEpsilon, decodeWeights, encodeWeights, type FederationApi, type Task } from '@disco/core';
import { closeDiscoClient, createDiscoClient, createFederationApi, toDiscoApiError } from '@disco/client';
import type { ModelToolkit } from '../src/services/model-toolkit.js';
import { ADMIN, encodeUpdate, fakeToolkit, freshDb, INITIAL, joinAll, putUpdate, roundHistory, tempDir, testServer, testTask, waitFor, WebSocket } from './helpers.js';

// Client-level differential privacy over real HTTP (decision 0011): central clipping and noise, the accountant
// stored with each closed round, the budget rule, and sampling with skipRound.

const dp = (privacy: Partial<Task['privacy']>, overrides: Partial<Task> = {}) =>
  testTask({ aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 1000 }, ...overrides, privacy: { ...privacy } });

async function start(t: { after(fn: () => unknown): void }, task: Task, n: number, options: { toolkit?: ModelToolkit; dbPath?: string } = {}) {
  const server = await testServer({ tasks: [task], timings: { heartbeatTimeoutMs: 60_000, roundDeadlineMs: 30_000 }, modelToolkit: options.toolkit ?? fakeToolkit, ...(options.dbPath && { dbPath: options.dbPath }) });
  t.after(() => server.cleanup());
  return { server, ...(await joinAll(server, n, t)) };
}

async function globalModel(api: FederationApi, version: number): Promise<Float32Array> {
  return decodeWeights(await api.downloadWeights('test-task', version)).weights.values;
}

/** A model of `size` parameters (one dense kernel), all zero: enough coordinates to measure the noise. */
function bigToolkit(size: number): ModelToolkit {
  const shapes = [{ name: 'dense/kernel', shape: [size] }];
  return {
    ...fakeToolkit,
    async build() {
      const built = await fakeToolkit.build(testTask());
      return { ...built, weights: { values: new Float32Array(size), shapes } };
    },
  };
}

test('central DP: an update of norm 10·C is clipped (counted), every update weighs 1, and the sum carries N(0, (zC)²) noise', async (t) => {
  const size = 20_000;
  const [clip, z] = [1, 0.5];
  const { server, api, joined } = await start(t, dp({ clippingNorm: clip, noiseMultiplier: z }), 3, { toolkit: bigToolkit(size) });
  const shapes = [{ name: 'dense/kernel', shape: [size] }];
  // The attacker's update has norm 10·C; the two honest ones are small (norm 0.5) and claim many more examples.
  const attack = new Float32Array(size).fill(10 / Math.sqrt(size));
  const honest = [0, 1].map((k) => Float32Array.from({ length: size }, (_, i) => (i % 2 === k ? 0.5 / Math.sqrt(size / 2) : 0)));
  const updates = [attack, ...honest];
  for (const [i, values] of updates.entries())
    await api.submitUpdate(joined[i].token, 1, encodeWeights({ values, shapes }, { taskId: 'test-task', modelVersion: 0, meta: { samples: i === 0 ? 1 : 900 } }));
  await waitFor('round 1 closed', () => api.heartbeat(joined[0].token), (s) => s.modelVersion === 1);

  const aggregate = await globalModel(api, 1);
  const sum = new Float64Array(size);
  for (const values of updates) clipToNorm(values, clip).update.forEach((v, i) => (sum[i] += v));
  const noise = Array.from(aggregate, (value, i) => value * 3 - sum[i]);
  const mean = noise.reduce((a, b) => a + b, 0) / size;
  const std = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / (size - 1));
  const plainMean = Array.from(sum, (s) => s / 3);

  const [, round] = await roundHistory(server);
  assert.deepEqual([round.number, round.phase, round.submitted, round.clipped], [1, 'closed', 3, 1]);
  // 20,000 draws: the sample std is within 2% of σ = zC = 0.5 with probability > 0.999 (its sd is 0.5%).
  assert.ok(Math.abs(std - z * clip) < 0.01, `noise std ${std}, expected ${z * clip}`);
  assert.ok(Math.abs(mean) < 0.015, `noise mean ${mean}`);
  // Noise is there: the aggregate is not the plain mean of the clipped updates.
  assert.ok(Math.hypot(...aggregate.map((v, i) => v - plainMean[i])) > 10 * clip * 0.9, 'the aggregate is the plain mean');
  // Weight 1: with the claimed weights (1 vs 900) the attacker's clipped update would count 1/1801, not 1/3.
  // The attacker moved the model by at most C/m (its clipped norm over m = 3): the rest is the honest mean and the noise.
  const clippedAttack = clipToNorm(attack, clip).update;
  const attackerShare = Array.from(aggregate, (v, i) => v - (sum[i] - clippedAttack[i]) / 3 - noise[i] / 3);
  assert.ok(Math.hypot(...attackerShare) <= clip / 3 + 1e-4, `attacker moved the model by ${Math.hypot(...attackerShare)}`);
});

test('rounds.list: the clipped count, and ε per closed round equal to computeEpsilon(q, z, k, δ); the accountant survives a restart', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const db = await freshDb(tmp.dir);
  const task = dp({ clippingNorm: 1, noiseMultiplier: 1.1, delta: 1e-6 });
  const epsilon = (steps: number) => computeEpsilon({ q: 1, z: 1.1, steps, delta: 1e-6 }).epsilon;
  const first = await testServer({ tasks: [task], db, timings: { heartbeatTimeoutMs: 60_000, roundDeadlineMs: 30_000 } });
  const api = createFederationApi(first.url, { WebSocket });
  const joined = [await api.join('test-task'), await api.join('test-task')];
  for (let round = 1; round <= 2; round++) {
    // Participant 0 sends an update of norm 3 (clipped), participant 1 one of norm 0.3 (not).
    await putUpdate(first.url, joined[0].token, round, encodeUpdate([3, 0, 0, 0, 0, 0, 0, 0, 0], { modelVersion: round - 1 }));
    await putUpdate(first.url, joined[1].token, round, encodeUpdate([0.3, 0, 0, 0, 0, 0, 0, 0, 0], { modelVersion: round - 1 }));
    await waitFor(`round ${round} closed`, () => api.heartbeat(joined[0].token), (s) => s.modelVersion === round);
  }
  const before = await roundHistory(first);
  assert.deepEqual(
    before.map((r) => [r.number, r.phase, r.clipped, r.epsilon, r.delta]),
    [
      [3, 'open', 0, null, null],
      [2, 'closed', 1, epsilon(2), 1e-6],
      [1, 'closed', 1, epsilon(1), 1e-6],
    ],
  );
  const state = await api.heartbeat(joined[0].token);
  assert.deepEqual(state.privacy, { epsilon: epsilon(2), delta: 1e-6, exhausted: false });
  api.close();
  await first.close();

  // A restarted server reads the same ε and goes on from the stored accountant.
  const second = await testServer({ tasks: [task], db, timings: { heartbeatTimeoutMs: 60_000, roundDeadlineMs: 30_000 } });
  t.after(() => second.cleanup());
  const again = createFederationApi(second.url, { WebSocket });
  t.after(() => again.close());
  const rejoined = [await again.join('test-task', { token: joined[0].token }), await again.join('test-task', { token: joined[1].token })];
  assert.deepEqual(rejoined[0].state.privacy, { epsilon: epsilon(2), delta: 1e-6, exhausted: false });
  for (const participant of rejoined) await putUpdate(second.url, participant.token, 3, encodeUpdate(new Array(9).fill(0.01), { modelVersion: 2 }));
  await waitFor('round 3 closed', () => again.heartbeat(rejoined[0].token), (s) => s.modelVersion === 3);
  const after = await roundHistory(second);
  assert.deepEqual(after.slice(1).map((r) => r.epsilon), [epsilon(3), epsilon(2), epsilon(1)]);
});

test('the budget stops training: no round opens that would exceed it, and a submission is refused naming ε and the budget', async (t) => {
  // q = 1, z = 2, δ = 1e-5: one round costs ε = 2.526, two 3.645 > 3.5.
  const { server, api, joined } = await start(t, dp({ clippingNorm: 1, noiseMultiplier: 2, budget: { epsilon: 3.5 } }), 2);
  for (const participant of joined) await putUpdate(server.url, participant.token, 1, encodeUpdate(new Array(9).fill(0.1)));
  const state = await waitFor('round 1 closed', () => api.heartbeat(joined[0].token), (s) => s.modelVersion === 1);

  const spent = computeEpsilon({ q: 1, z: 2, steps: 1, delta: 1e-5 }).epsilon;
  assert.deepEqual(
    { round: state.round, phase: state.phase, privacy: state.privacy },
    { round: 1, phase: 'closed', privacy: { epsilon: spent, delta: 1e-5, budget: 3.5, exhausted: true } },
  );
  assert.deepEqual((await roundHistory(server)).map((r) => [r.number, r.phase]), [[1, 'closed']]);
  const refused = await putUpdate(server.url, joined[0].token, 2, encodeUpdate(new Array(9).fill(0.1), { modelVersion: 1 }));
  assert.deepEqual(refused, {
    status: 409,
    body: {
      code: 'ROUND_NOT_OPEN',
      message: 'task "test-task" has spent its privacy budget: ε = 2.526 of ε = 3.5 at δ = 0.00001, and one more round would exceed it; no further round opens',
    },
  });
  // Joining and downloading still work.
  const late = await api.join('test-task');
  assert.equal(late.state.privacy?.exhausted, true);
  assert.equal((await globalModel(api, 1)).length, INITIAL.length);
});

test('a task whose first round exceeds the budget is refused at creation with the ε one round costs', async (t) => {
  const { server } = await start(t, testTask(), 0);
  const admin = createDiscoClient(server.url, { token: ADMIN });
  t.after(() => closeDiscoClient(admin));
  const task = { ...dp({ clippingNorm: 1, noiseMultiplier: 1, budget: { epsilon: 2 } }), id: 'too-tight' };

  const error = toDiscoApiError(await admin.tasks.create.mutate({ task }).catch((e: unknown) => e));

  assert.equal(error.code, 'INVALID_TASK');
  assert.match(
    error.message,
    /privacy\.budget: one round costs ε = 5\.303 at δ = 0\.00001 \(samplingRate 1, noiseMultiplier 1\), more than the budget ε = 2; raise the budget or the noise multiplier, or lower the sampling rate/,
  );
});

test('sampling: a participant that sits the round out is not waited for, and cannot send an update for it', async (t) => {
  const { server, api, joined } = await start(t, dp({ samplingRate: 0.5 }, { minParticipants: 1 }), 3);
  await putUpdate(server.url, joined[0].token, 1, encodeUpdate(new Array(9).fill(0.1)));
  await api.skipRound(joined[1].token, 1);
  // Still waiting for participant 2 (the deadline is 30 s away)…
  assert.deepEqual(
    { round: (await api.heartbeat(joined[0].token)).round, refused: (await putUpdate(server.url, joined[1].token, 1, encodeUpdate(new Array(9).fill(0.1)))).body },
    { round: 1, refused: { code: 'WRONG_ROUND', message: 'this participant sat round 1 out (sampling): it sends no update for it; wait for round 2' } },
  );
  // …until it sits out too: the round closes at once with the one update.
  await api.skipRound(joined[2].token, 1);
  const state = await waitFor('round 1 closed', () => api.heartbeat(joined[0].token), (s) => s.modelVersion === 1, 2_000);
  assert.equal(state.round, 2);
  const [, first] = await roundHistory(server);
  assert.deepEqual([first.number, first.phase, first.submitted], [1, 'closed', 1]);
  // Everyone sits round 2 out: it fails at once (nothing released), and round 3 opens from version 1.
  for (const participant of joined) await api.skipRound(participant.token, 2);
  const next = await waitFor('round 3', () => api.heartbeat(joined[0].token), (s) => s.round === 3, 2_000);
  assert.equal(next.modelVersion, 1);
  const [, second] = await roundHistory(server);
  assert.deepEqual([second.number, second.phase, second.failureReason], [2, 'failed', 'only 0 of the 1 updates needed: the other 3 participant(s) sat this round out (sampling)']);
});

test('skipRound is refused for a task without a sampling rate', async (t) => {
  const { api, joined } = await start(t, testTask(), 2);
  await assert.rejects(() => api.skipRound(joined[0].token, 1), {
    code: 'BAD_REQUEST',
    message: 'task "test-task" has no sampling rate (privacy.samplingRate): every participant takes part in every round',
  });
});
