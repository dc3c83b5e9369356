import { test } from 'node:test';
import { DiscoApiError } from '@disco/core';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { createCaller } from '../src/router.js';
import { createApp, type App } from '../src/server.js';
import type { Context } from '../src/trpc.js';
import { ADMIN, fakeToolkit, freshDb, SHAPES, sqlRows, tempDir, TEST_DB, testApp, testTask } from './helpers.js';

function caller(app: App, token: string | null = null, address = '10.0.0.1') {
  const ctx: Context = { deps: app.deps, token, address };
  return createCaller(ctx);
}

/** Asserts a procedure refusal: tRPC code, service code and exact message. */
async function refused(promise: Promise<unknown>, trpcCode: string, apiCode: string, message: string | RegExp): Promise<DiscoApiError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TRPCError, `not a TRPCError: ${String(error)}`);
  assert.equal(error.code, trpcCode);
  assert.ok(error.cause instanceof DiscoApiError);
  assert.equal(error.cause.code, apiCode);
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
  return error.cause;
}

const tableCounts = async (app: { db: string }) =>
  Object.fromEntries(
    await Promise.all(
      ['tasks', 'model_versions', 'rounds', 'participants', 'updates'].map(async (table) => [table, (await sqlRows<{ n: number }>(app.db, `SELECT count(*) AS n FROM ${table}`))[0].n] as const),
    ),
  );

test('a seeded built-in task is listed with its participants, rounds and current round', async (t) => {
  const app = await testApp(t);

  const [summary] = await caller(app).tasks.list();

  assert.equal(summary.task.id, 'test-task');
  assert.equal(summary.builtin, true);
  assert.equal(summary.participants, 0);
  assert.equal(summary.roundsClosed, 0);
  assert.deepEqual(summary.currentRound, { number: 1, phase: 'open', deadline: null });
  assert.equal(summary.latestVersion, 0);
  assert.equal(summary.parameterCount, 9);
});

test("the server's capabilities say its engine and whether federated tasks may use secure aggregation", async (t) => {
  const app = await testApp(t);

  const capabilities = await caller(app).tasks.capabilities();

  assert.deepEqual(capabilities, { database: TEST_DB, federatedSecureAggregation: TEST_DB === 'sqlite' });
});

test('built-in tasks are seeded once in the life of a database: a deleted one stays deleted', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const options = { db: await freshDb(tmp.dir), adminToken: ADMIN, modelToolkit: fakeToolkit, builtinTasks: [testTask()] };
  const first = await createApp(options);
  assert.deepEqual(first.seeded, ['test-task']);
  await caller(first, ADMIN).tasks.delete({ id: 'test-task' });
  await first.close();

  const second = await createApp({ ...options, builtinTasks: [testTask(), testTask({ id: 'added-later' })] });
  t.after(() => second.close());

  assert.deepEqual(second.seeded, ['added-later']);
  assert.deepEqual((await caller(second).tasks.list()).map((s) => s.task.id), ['added-later']);
});

test('creating a task needs the admin token', async (t) => {
  const app = await testApp(t);
  const task = testTask({ id: 'other' });

  await refused(caller(app).tasks.create({ task }), 'UNAUTHORIZED', 'UNAUTHORIZED', 'this needs the admin token (Authorization: Bearer <admin token>)');
  await refused(caller(app, 'guess').tasks.create({ task }), 'FORBIDDEN', 'FORBIDDEN', 'wrong admin token');
  await refused(caller(app, 'guess').tasks.delete({ id: 'test-task' }), 'FORBIDDEN', 'FORBIDDEN', 'wrong admin token');
  assert.equal((await tableCounts(app)).tasks, 1);
});

test('an invalid task is refused with every issue at once, and nothing is stored', async (t) => {
  const app = await testApp(t);
  const before = await tableCounts(app);
  const bad = { id: 'Bad Id', title: '', description: 'x', dataType: 'tabular', model: { source: 'builtin', architecture: 'mnist-cnn' }, training: { batchSize: 0 } };

  const error = await refused(caller(app, ADMIN).tasks.create({ task: bad }), 'BAD_REQUEST', 'INVALID_TASK', /^Invalid task:\n/);

  assert.deepEqual(error.issues, [
    'id: must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit',
    'title: Too small: expected string to have >=1 characters',
    'training.batchSize: Too small: expected number to be >=1',
    'tabular: required when dataType is "tabular"',
    'model.architecture: "mnist-cnn" is built for image data, not tabular',
  ]);
  assert.equal(error.message, `Invalid task:\n${error.issues.map((i) => `  - ${i}`).join('\n')}`);
  assert.deepEqual(await tableCounts(app), before);
});

test('a task naming a strategy this build does not implement is refused with the ones it does', async (t) => {
  const app = await testApp(t);

  const error = await refused(
    caller(app, ADMIN).tasks.create({ task: { ...testTask({ id: 'robust' }), aggregation: { strategy: 'bulyan' } } }),
    'BAD_REQUEST',
    'INVALID_TASK',
    /aggregation\.strategy/,
  );

  assert.deepEqual(error.issues, ['aggregation.strategy: Invalid option: expected one of "fedavg"|"median"|"trimmed-mean"|"krum"|"multi-krum"|"centered-clipping"']);
});

test('secure tasks are created, decentralized, and federated on SQLite (secure aggregation is enforced by both); PostgreSQL refuses a federated one', async (t) => {
  const app = await testApp(t);
  const privacy = { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 1.1 };

  const peers = await caller(app, ADMIN).tasks.create({ task: { ...testTask({ id: 'private', scheme: 'decentralized', minParticipants: 3 }), privacy } });
  const federated = caller(app, ADMIN).tasks.create({ task: { ...testTask({ id: 'secure', minParticipants: 3 }), privacy } });

  assert.equal(peers.task.privacy.secureAggregation, true);
  if (TEST_DB === 'sqlite') assert.equal((await federated).task.privacy.secureAggregation, true);
  // A secure round's state lives in one process: on PostgreSQL, where several instances may serve the task, the
  // server refuses it (decision 0015). The peers of a decentralized task run it themselves.
  else await refused(federated, 'BAD_REQUEST', 'BAD_REQUEST', /^task "secure" uses secure aggregation \(privacy.secureAggregation\), which this server does not run on PostgreSQL/);
  assert.equal((await tableCounts(app)).tasks, TEST_DB === 'sqlite' ? 3 : 2);
});

test('a created task gets version 0 of its model and an open first round; a second one with its id conflicts', async (t) => {
  const app = await testApp(t);

  const summary = await caller(app, ADMIN).tasks.create({ task: testTask({ id: 'second' }) });

  assert.equal(summary.task.id, 'second');
  assert.equal(summary.builtin, false);
  assert.deepEqual(summary.currentRound, { number: 1, phase: 'open', deadline: null });
  const versions = await caller(app).models.list({ taskId: 'second' });
  assert.deepEqual(
    versions.map((v) => [v.version, v.round, v.weightsPath]),
    [[0, null, '/v1/tasks/second/models/0/weights']],
  );
  await refused(caller(app, ADMIN).tasks.create({ task: testTask({ id: 'second' }) }), 'CONFLICT', 'CONFLICT', 'task "second" already exists');
});

function modelJson(weights = [{ name: 'dense/kernel', shape: [2, 3], dtype: 'float32' }, { name: 'dense/bias', shape: [3], dtype: 'float32' }]) {
  return { format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [{ paths: ['weights.bin'], weights }] };
}
const base64 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString('base64');
const tfjsTask = () => testTask({ id: 'uploaded', model: { source: 'tfjs' } });

test('a task with an uploaded TF.js model starts from the uploaded weights', async (t) => {
  const app = await testApp(t);
  const values = [9, 8, 7, 6, 5, 4, 3, 2, 1];

  const summary = await caller(app, ADMIN).tasks.create({ task: tfjsTask(), model: { modelJson: modelJson(), weightsBase64: base64(values) } });

  assert.equal(summary.uploadedModel, true);
  const { getVersionWeights } = await import('../src/services/models.js');
  const v0 = await getVersionWeights(app.deps.db, 'uploaded', 0);
  assert.deepEqual(Array.from(v0.values), values);
  assert.deepEqual(v0.shapes, SHAPES);
});

test('a malformed model upload is refused with every problem, and nothing is stored', async (t) => {
  const app = await testApp(t);
  const before = await tableCounts(app);
  const create = (model: { modelJson: Record<string, unknown> | string; weightsBase64: string }) => caller(app, ADMIN).tasks.create({ task: tfjsTask(), model });
  const fits = /^The uploaded model does not fit the task:\n/;

  let error = await refused(create({ modelJson: '{not json', weightsBase64: '' }), 'BAD_REQUEST', 'INVALID_MODEL', fits);
  assert.deepEqual(error.issues, ['model.json: is not valid JSON']);
  error = await refused(create({ modelJson: { format: 'graph-model' }, weightsBase64: '' }), 'BAD_REQUEST', 'INVALID_MODEL', fits);
  assert.deepEqual(error.issues, [
    'model.json: modelTopology is missing (only TF.js layers models are supported)',
    'model.json: format is "graph-model", expected "layers-model"',
    'model.json: weightsManifest is missing or empty',
  ]);
  error = await refused(create({ modelJson: modelJson(), weightsBase64: base64([1, 2, 3]) }), 'BAD_REQUEST', 'INVALID_MODEL', fits);
  assert.deepEqual(error.issues, ['weights.bin: is 12 bytes, the manifest describes 36 (9 float32 values)']);
  error = await refused(create({ modelJson: modelJson(), weightsBase64: base64([1, 2, 3, NaN, 5, 6, 7, 8, 9]) }), 'BAD_REQUEST', 'INVALID_MODEL', fits);
  assert.deepEqual(error.issues, ['weights.bin: value 3 is not finite (NaN)']);
  error = await refused(
    create({ modelJson: modelJson([{ name: 'k', shape: [2], dtype: 'int32' }]), weightsBase64: base64([1, 2]) }),
    'BAD_REQUEST',
    'INVALID_MODEL',
    fits,
  );
  assert.deepEqual(error.issues, ['model.json: weightsManifest[0].weights[0] (k): dtype int32 is not supported (float32 only)']);
  error = await refused(caller(app, ADMIN).tasks.create({ task: tfjsTask() }), 'BAD_REQUEST', 'INVALID_TASK', /Invalid task/);
  assert.deepEqual(error.issues, ['model: a task whose model.source is "tfjs" needs an uploaded model (model.json and weights.bin)']);
  assert.deepEqual(await tableCounts(app), before);
});

test('deleting a task removes its versions, rounds and participants', async (t) => {
  const app = await testApp(t);
  await caller(app).federation.join({ taskId: 'test-task' });

  assert.deepEqual(await caller(app, ADMIN).tasks.delete({ id: 'test-task' }), { deleted: 'test-task' });

  assert.deepEqual(await tableCounts(app), { tasks: 0, model_versions: 0, rounds: 0, participants: 0, updates: 0 });
  await refused(caller(app).tasks.get({ id: 'test-task' }), 'NOT_FOUND', 'NOT_FOUND', 'task "test-task" does not exist');
});

test('join returns a token, the task and the round state; the token hash, not the token, is stored', async (t) => {
  const app = await testApp(t);

  const joined = await caller(app).federation.join({ taskId: 'test-task' });

  assert.match(joined.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(joined.task.id, 'test-task');
  assert.equal(joined.firstRound, 1);
  assert.equal(joined.state.round, 1);
  assert.equal(joined.state.participants, 1);
  assert.ok(joined.state.deadline! > Date.now(), 'the round clock starts with the first participant');
  assert.equal(joined.maxUpdateBytes, 9 * 4 + JSON.stringify(SHAPES).length * 2 + 2 * 64 + 65536);
  const [stored] = await sqlRows<{ token_hash: string; address: string }>(app.db, 'SELECT token_hash, address FROM participants');
  assert.equal(stored.token_hash, createHash('sha256').update(joined.token, 'utf8').digest('hex'));
  assert.equal(stored.address, '10.0.0.1');
});

test('participant procedures refuse missing, unknown and left tokens; rejoining keeps the participant', async (t) => {
  const app = await testApp(t);
  const joined = await caller(app).federation.join({ taskId: 'test-task' });

  await refused(caller(app).federation.heartbeat(), 'UNAUTHORIZED', 'UNAUTHORIZED', 'a participant token is required (Authorization: Bearer <token> from federation.join)');
  await refused(caller(app, 'nope').federation.heartbeat(), 'UNAUTHORIZED', 'UNAUTHORIZED', 'unknown participant token: join the task again');
  const state = await caller(app, joined.token).federation.heartbeat();
  assert.equal(state.round, 1);
  const again = await caller(app).federation.join({ taskId: 'test-task', token: joined.token });
  assert.equal(again.participantId, joined.participantId);
  assert.equal(again.token, joined.token);

  await caller(app, joined.token).federation.leave();
  await refused(caller(app, joined.token).federation.heartbeat(), 'UNAUTHORIZED', 'UNAUTHORIZED', 'this participant has left the task: join it again');
  const fresh2 = await caller(app).federation.join({ taskId: 'test-task', token: joined.token });
  assert.notEqual(fresh2.participantId, joined.participantId);
});

test('a token of another task is refused on join and on the round subscription', async (t) => {
  const app = await testApp(t, { builtinTasks: [testTask(), testTask({ id: 'other-task' })] });
  const other = await caller(app).federation.join({ taskId: 'other-task' });

  await refused(
    caller(app).federation.join({ taskId: 'test-task', token: other.token }),
    'FORBIDDEN',
    'FORBIDDEN',
    'this participant token belongs to another task, not to "test-task"',
  );
  await refused(
    (async () => {
      const iterable = await caller(app).federation.onRound({ taskId: 'test-task', token: other.token });
      for await (const _ of iterable) break;
    })(),
    'FORBIDDEN',
    'FORBIDDEN',
    'this participant token belongs to another task, not to "test-task"',
  );
});

test('joins are rate-limited per address', async (t) => {
  const app = await testApp(t, { limits: { joinsPerMinute: 2 } });

  await caller(app, null, '10.0.0.9').federation.join({ taskId: 'test-task' });
  await caller(app, null, '10.0.0.9').federation.join({ taskId: 'test-task' });
  await refused(caller(app, null, '10.0.0.9').federation.join({ taskId: 'test-task' }), 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', /^too many joins from 10\.0\.0\.9: try again in \d+ s$/);
  await caller(app, null, '10.0.0.10').federation.join({ taskId: 'test-task' });
});

test('a local task has nothing to join', async (t) => {
  const app = await testApp(t, { builtinTasks: [testTask({ id: 'alone', scheme: 'local' })] });

  await refused(
    caller(app).federation.join({ taskId: 'alone' }),
    'BAD_REQUEST',
    'SCHEME_MISMATCH',
    'task "alone" is a local task: it trains on each device alone and has nothing to join',
  );
});

test('onRound yields the current state first', async (t) => {
  const app = await testApp(t);
  const controller = new AbortController();
  const iterable = await createCaller({ deps: app.deps, token: null, address: '10.0.0.1' }, { signal: controller.signal }).federation.onRound({ taskId: 'test-task' });
  const iterator = iterable[Symbol.asyncIterator]();

  const first = await iterator.next();
  const joining = caller(app).federation.join({ taskId: 'test-task' });
  const second = await iterator.next();
  await joining;
  controller.abort();

  assert.ok(!first.done && !second.done);
  assert.equal(first.value.participants, 0);
  assert.equal(second.value.participants, 1);
});
