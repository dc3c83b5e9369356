import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRPCError } from '@trpc/server';
import { DiscoApiError } from '@disco/core';
import { createCaller } from '../src/router.js';
import type { App } from '../src/server.js';
import { testApp, testTask } from './helpers.js';

const join = (app: App, taskId: string) => createCaller({ deps: app.deps, token: null, address: '10.0.0.1' }).federation.join({ taskId });

// The test model has 9 parameters: 72 bytes hold two buffered updates (4 bytes × 9 parameters each).
const limits = { maxBufferedUpdateBytes: 72 };

test('a task whose strategy keeps every update refuses a join beyond the memory bound, naming it', async (t) => {
  const app = await testApp(t, { builtinTasks: [testTask({ aggregation: { strategy: 'median' } })], limits });
  await join(app, 'test-task');
  await join(app, 'test-task');

  const error = await join(app, 'test-task').then(
    () => assert.fail('the third join was accepted'),
    (e: unknown) => e,
  );

  assert.ok(error instanceof TRPCError && error.cause instanceof DiscoApiError);
  assert.equal(error.cause.code, 'CONFLICT');
  assert.equal(
    error.message,
    'task "test-task" is full: its aggregation strategy "median" keeps every update in memory, and this server buffers at most 72 bytes of updates per task (4 bytes × 9 parameters each), so at most 2 participants',
  );
});

test('a participant that leaves frees its place under the memory bound', async (t) => {
  const app = await testApp(t, { builtinTasks: [testTask({ aggregation: { strategy: 'krum' } })], limits });
  const first = await join(app, 'test-task');
  await join(app, 'test-task');
  await createCaller({ deps: app.deps, token: first.token, address: '10.0.0.1' }).federation.leave();

  const third = await join(app, 'test-task');

  assert.equal(typeof third.token, 'string');
});

test('FedAvg streams its updates: the memory bound does not limit its participants', async (t) => {
  const app = await testApp(t, { builtinTasks: [testTask()], limits });
  for (let i = 0; i < 3; i++) await join(app, 'test-task');

  assert.equal(app.deps.coordinator.participantLimit({ task: testTask(), parameterCount: 9 }), Infinity);
});
