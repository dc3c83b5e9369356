import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiscoApiError } from '../client/api-errors.js';
import { computeEpsilon } from '../privacy/accountant.js';
import { titanic } from '../task/builtin/titanic.js';
import type { Task } from '../task/schema.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import { InMemoryFederation } from './in-memory-federation.js';

// The fake's asynchronous (FedBuff) tasks: core's admission, buffer and version rules, with literal numbers.

const shapes = [{ name: 'w', shape: [2] }];
const asyncTask = (overrides: Partial<Task> = {}, settings: Partial<Task['async']> = {}): Task => ({
  ...titanic,
  id: 'fake',
  minParticipants: 2,
  mode: 'async',
  async: { bufferSize: 2, maxStaleness: 2, stalenessWeighting: 'polynomial', stalenessExponent: 0.5, ...settings },
  ...overrides,
});
const update = (values: number[], modelVersion: number, samples = 10) =>
  encodeWeights({ values: Float32Array.from(values), shapes }, { taskId: 'fake', modelVersion, meta: { samples } });
const initial = { fake: { values: new Float32Array(2), shapes } };
const weightsOf = async (federation: InMemoryFederation, version: number) => Array.from(decodeWeights(await federation.downloadWeights('fake', version)).weights.values);
const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DiscoApiError);
  return error;
};

test('the state of an asynchronous task names the version being buffered, the buffer and its size', async () => {
  const federation = new InMemoryFederation({ tasks: [asyncTask()], initial });
  const a = await federation.join('fake');
  assert.deepEqual(
    { round: a.state.round, modelVersion: a.state.modelVersion, mode: a.state.mode, bufferSize: a.state.bufferSize, deadline: a.state.deadline },
    { round: 1, modelVersion: 0, mode: 'async', bufferSize: 2, deadline: null },
  );
  await federation.submitUpdate(a.token, 1, update([1, 1], 0));
  const state = await federation.heartbeat(a.token);
  assert.deepEqual([state.round, state.submitted, state.phase], [1, 1, 'open']);
});

test('every K updates make a version; stale ones are scaled by 1/√(1 + s) and normalised by the samples', async () => {
  const federation = new InMemoryFederation({ tasks: [asyncTask()], initial });
  const [a, b, c] = [await federation.join('fake'), await federation.join('fake'), await federation.join('fake')];
  // Version 1 from two fresh updates: mean([2, 0], [0, 2]) = [1, 1].
  assert.deepEqual(await federation.submitUpdate(a.token, 1, update([2, 0], 0)), { accepted: true, round: 1, staleness: 0 });
  await federation.submitUpdate(b.token, 1, update([0, 2], 0));
  assert.deepEqual(await weightsOf(federation, 1), [1, 1]);
  // Version 2: a fresh update and c's, trained from version 0 (staleness 1, weight 1/√2).
  await federation.submitUpdate(a.token, 2, update([2, 2], 1));
  assert.deepEqual(await federation.submitUpdate(c.token, 1, update([4, 0], 0)), { accepted: true, round: 2, staleness: 1 });
  // [1, 1] + (10·[2, 2] + 10·(1/√2)·[4, 0]) / 20 = [2 + √2, 2].
  const v2 = await weightsOf(federation, 2);
  assert.ok(Math.abs(v2[0] - (2 + Math.SQRT2)) < 1e-6 && v2[1] === 2, `version 2 = ${v2.join(', ')}`);
  const history = federation.roundsOf('fake').filter((r) => r.phase === 'closed');
  assert.deepEqual(
    history.map((r) => [r.number, r.baseVersion, r.modelVersion, r.contributions?.map((x) => [x.participantId, x.staleness, Number(x.weight.toFixed(4)), x.samples])]),
    [
      [2, 1, 2, [[a.participantId, 0, 1, 10], [c.participantId, 1, 0.7071, 10]]],
      [1, 0, 1, [[a.participantId, 0, 1, 10], [b.participantId, 0, 1, 10]]],
    ],
  );
});

test('an update older than maxStaleness is refused, naming the current version', async () => {
  const federation = new InMemoryFederation({ tasks: [asyncTask({}, { bufferSize: 1, maxStaleness: 1 })], initial });
  const [a, b] = [await federation.join('fake'), await federation.join('fake')];
  await federation.submitUpdate(a.token, 1, update([1, 0], 0));
  await federation.submitUpdate(a.token, 2, update([1, 0], 1));
  const error = await refusal(federation.submitUpdate(b.token, 1, update([0, 1], 0)));
  assert.equal(error.code, 'STALE_UPDATE');
  assert.equal(error.status, 409);
  assert.equal(
    error.message,
    'the update was trained from model version 0, 2 versions behind the current version 2; task "fake" accepts updates at most 1 versions old: download version 2 and train again',
  );
  assert.equal(federation.version('fake'), 2, 'a refused update changes nothing');
  // A base version not published yet, and an update whose header disagrees with its round, are refused too.
  assert.equal((await refusal(federation.submitUpdate(b.token, 4, update([0, 1], 3)))).code, 'WRONG_ROUND');
  assert.equal((await refusal(federation.submitUpdate(b.token, 3, update([0, 1], 1)))).code, 'STALE_MODEL');
});

test('FedAvg lets a fast participant fill the buffer (a retry counts once); a robust rule takes one update per participant', async () => {
  const fedavg = new InMemoryFederation({ tasks: [asyncTask({}, { bufferSize: 3 })], initial });
  const a = await fedavg.join('fake');
  await fedavg.join('fake');
  await fedavg.submitUpdate(a.token, 1, update([1, 0], 0));
  const retried = update([3, 0], 0);
  await fedavg.submitUpdate(a.token, 1, retried);
  // The same bytes again (a retry after a lost answer) count once.
  assert.match((await refusal(fedavg.submitUpdate(a.token, 1, retried))).message, /a retried submission counts once/);
  await fedavg.submitUpdate(a.token, 1, update([5, 0], 0));
  assert.deepEqual(await weightsOf(fedavg, 1), [3, 0]);

  const median = new InMemoryFederation({ tasks: [asyncTask({ aggregation: { ...titanic.aggregation, strategy: 'median' } })], initial });
  const m = await median.join('fake');
  await median.join('fake');
  await median.submitUpdate(m.token, 1, update([1, 0], 0));
  const error = await refusal(median.submitUpdate(m.token, 1, update([3, 0], 0)));
  assert.equal(error.code, 'DUPLICATE_UPDATE');
  assert.match(error.message, /buffer of model version 1: "median" counts each participant once; train from version 1 once it is published/);
});

test('one update per participant: a leaver closes the buffer of those who stay, and stalls nobody', async () => {
  const federation = new InMemoryFederation({ tasks: [asyncTask({ aggregation: { ...titanic.aggregation, strategy: 'median' } }, { bufferSize: 3 })], initial });
  const [a, b, leaver] = [await federation.join('fake'), await federation.join('fake'), await federation.join('fake')];
  await federation.submitUpdate(a.token, 1, update([1, 0], 0));
  await federation.submitUpdate(b.token, 1, update([3, 0], 0));
  assert.equal(federation.version('fake'), 0, 'the buffer waits for the third participant');
  await federation.leave(leaver.token);
  assert.equal(federation.version('fake'), 1);
  assert.deepEqual(await weightsOf(federation, 1), [2, 0]);
});

test('a late joiner contributes to the next version', async () => {
  const federation = new InMemoryFederation({ tasks: [asyncTask()], initial });
  const [a, b] = [await federation.join('fake'), await federation.join('fake')];
  await federation.submitUpdate(a.token, 1, update([1, 0], 0));
  await federation.submitUpdate(b.token, 1, update([1, 0], 0));
  const late = await federation.join('fake');
  assert.deepEqual([late.state.round, late.state.modelVersion], [2, 1]);
  await federation.submitUpdate(late.token, 2, update([0, 1], 1));
  await federation.submitUpdate(a.token, 2, update([0, 1], 1));
  const version2 = federation.roundsOf('fake').find((r) => r.modelVersion === 2);
  assert.deepEqual(version2?.contributions?.map((c) => [c.participantId, c.staleness]), [[late.participantId, 0], [a.participantId, 0]]);
});

test('under noise each version is one step of the accountant, and a second update for the same buffer is refused', async () => {
  const privacy = { ...titanic.privacy, clippingNorm: 1, noiseMultiplier: 2 };
  const federation = new InMemoryFederation({ tasks: [asyncTask({ privacy })], initial });
  const [a, b] = [await federation.join('fake'), await federation.join('fake')];
  for (const v of [0, 1, 2]) {
    await federation.submitUpdate(a.token, v + 1, update([0.1, 0], v));
    if (v === 0) assert.equal((await refusal(federation.submitUpdate(a.token, 1, update([0.1, 0], 0)))).code, 'DUPLICATE_UPDATE');
    await federation.submitUpdate(b.token, v + 1, update([0, 0.1], v));
  }
  const state = await federation.heartbeat(a.token);
  assert.equal(state.modelVersion, 3);
  const expected = computeEpsilon({ q: 1, z: 2, steps: 3, delta: privacy.delta }).epsilon;
  assert.ok(Math.abs((state.privacy?.epsilon ?? NaN) - expected) < 1e-9, `ε ${state.privacy?.epsilon} ≠ ${expected}`);
});

test('the server optimizer applies once per version', async () => {
  const aggregation = { ...titanic.aggregation, serverOptimizer: { name: 'sgd' as const, learningRate: 0.5 } };
  const federation = new InMemoryFederation({ tasks: [asyncTask({ aggregation })], initial });
  const [a, b] = [await federation.join('fake'), await federation.join('fake')];
  await federation.submitUpdate(a.token, 1, update([2, 0], 0));
  await federation.submitUpdate(b.token, 1, update([0, 2], 0));
  assert.deepEqual(await weightsOf(federation, 1), [0.5, 0.5]);
});
