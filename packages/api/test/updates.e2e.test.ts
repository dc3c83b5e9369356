import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { encodeWeights } from '@disco/core';
import { createFederationApi } from '@disco/client';
import { encodeUpdate, putUpdate, SHAPES, storedUpdates, testServer, testTask, waitFor, WebSocket } from './helpers.js';

const MESSAGE_LIMIT = 9 * 4 + JSON.stringify(SHAPES).length * 2 + 2 * 64 + 65536;

async function setup(t: { after(fn: () => unknown): void }) {
  const server = await testServer({ tasks: [testTask(), testTask({ id: 'other-task' }), testTask({ id: 'peer-task', scheme: 'decentralized' })] });
  t.after(() => server.cleanup());
  const api = createFederationApi(server.url, { WebSocket });
  t.after(() => api.close());
  const a = await api.join('test-task');
  const b = await api.join('test-task');
  const stranger = await api.join('other-task');
  const peer = await api.join('peer-task');
  const stored = () => storedUpdates(server);
  return { server, api, a, b, stranger, peer, stored };
}

const good = () => encodeUpdate([1, 1, 1, 1, 1, 1, 1, 1, 1]);

test('every bad update is refused with its exact code and message, and nothing is stored', async (t) => {
  const { server, a, stranger, peer, stored } = await setup(t);
  const url = server.url;
  const cases: [string, Promise<{ status: number; body: object }>, number, string, string][] = [
    ['no token', putUpdate(url, null, 1, good()), 401, 'UNAUTHORIZED', 'a participant token is required (Authorization: Bearer <token> from federation.join)'],
    ['unknown token', putUpdate(url, 'made-up', 1, good()), 401, 'UNAUTHORIZED', 'unknown participant token: join the task again'],
    ['foreign token', putUpdate(url, stranger.token, 1, good()), 403, 'FORBIDDEN', 'this participant token belongs to another task, not to "test-task"'],
    ['unknown task', putUpdate(url, a.token, 1, good(), { taskId: 'nope' }), 404, 'NOT_FOUND', 'task "nope" does not exist'],
    [
      'decentralized task',
      putUpdate(url, peer.token, 1, good(), { taskId: 'peer-task' }),
      400,
      'SCHEME_MISMATCH',
      'task "peer-task" is decentralized: the server takes no weights for it',
    ],
    ['not a round number', putUpdate(url, a.token, 0, good()), 400, 'BAD_REQUEST', '"0" is not a round number (a whole number from 1)'],
    ['a future round', putUpdate(url, a.token, 2, good()), 409, 'WRONG_ROUND', 'round 2 has not started; the current round is 1 (open)'],
    [
      'JSON body',
      putUpdate(url, a.token, 1, new TextEncoder().encode('[1,2,3]'), { contentType: 'application/json' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'an update must be sent as application/octet-stream (the Disco weights codec), not "application/json"',
    ],
    [
      'oversized body',
      putUpdate(url, a.token, 1, new Uint8Array(MESSAGE_LIMIT + 1)),
      413,
      'PAYLOAD_TOO_LARGE',
      `the body of ${MESSAGE_LIMIT + 1} bytes exceeds the limit of ${MESSAGE_LIMIT} bytes for an update of task "test-task" (9 parameters)`,
    ],
    ['garbage', putUpdate(url, a.token, 1, new TextEncoder().encode('hello world!')), 400, 'MALFORMED_WEIGHTS', 'not a Disco weights message (bad magic bytes)'],
    ['wrong task in the header', putUpdate(url, a.token, 1, encodeUpdate(new Array(9).fill(1), { taskId: 'other-task' })), 400, 'WRONG_TASK', 'the update is for task "other-task", not "test-task"'],
    [
      'wrong shape',
      putUpdate(url, a.token, 1, encodeUpdate(new Array(9).fill(1), { shapes: [{ name: 'dense/kernel', shape: [3, 2] }, { name: 'dense/bias', shape: [3] }] })),
      400,
      'SHAPE_MISMATCH',
      "the update does not fit the task's model: weight 0 (dense/kernel) has shape [3,2], expected [2,3]",
    ],
    [
      'one tensor too many',
      putUpdate(url, a.token, 1, encodeUpdate(new Array(10).fill(1), { shapes: [...SHAPES, { name: 'extra', shape: [1] }] })),
      400,
      'SHAPE_MISMATCH',
      "the update does not fit the task's model: expected 2 weight tensors, got 3",
    ],
    ['truncated payload', putUpdate(url, a.token, 1, good().subarray(0, good().length - 4)), 400, 'MALFORMED_WEIGHTS', 'weights payload is 32 bytes, expected 36 for 9 float32 values'],
    ['NaN', putUpdate(url, a.token, 1, encodeUpdate([0, 0, 0, 0, NaN, 0, 0, 0, 0])), 400, 'NON_FINITE', 'weights contain a non-finite value (NaN) at index 4'],
    ['Infinity', putUpdate(url, a.token, 1, encodeUpdate([0, 0, 0, 0, 0, 0, 0, 0, -Infinity])), 400, 'NON_FINITE', 'weights contain a non-finite value (-Infinity) at index 8'],
    [
      'a delta from another version',
      putUpdate(url, a.token, 1, encodeUpdate(new Array(9).fill(1), { modelVersion: 3 })),
      409,
      'STALE_MODEL',
      'the update was computed from model version 3, but round 1 trains from version 0: download it and train again',
    ],
    [
      'no sample count',
      putUpdate(url, a.token, 1, encodeWeights({ values: new Float32Array(9), shapes: SHAPES }, { taskId: 'test-task', modelVersion: 0 })),
      400,
      'BAD_META',
      "the update header's meta.samples must be a positive number of training examples, got null",
    ],
    [
      'a NaN metric',
      putUpdate(url, a.token, 1, encodeUpdate(new Array(9).fill(1), { meta: { loss: NaN } })),
      400,
      'BAD_META',
      "the update header's meta.loss must be a finite number",
    ],
  ];

  for (const [name, response, status, code, message] of cases) {
    const { status: actualStatus, body } = await response;
    assert.deepEqual({ name, status: actualStatus, body }, { name, status, body: { code, message } });
  }
  assert.deepEqual(await stored(), { updates: 0, submitted: 0 });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
});

test('a duplicate is refused, and an update for a closed round names the current round', async (t) => {
  const { server, api, a, b, stored } = await setup(t);

  assert.deepEqual(await putUpdate(server.url, a.token, 1, good()), { status: 200, body: { accepted: true, round: 1, submitted: 1 } });
  assert.deepEqual(await putUpdate(server.url, a.token, 1, good()), {
    status: 409,
    body: { code: 'DUPLICATE_UPDATE', message: 'this participant already submitted an update for round 1' },
  });
  assert.deepEqual(await stored(), { updates: 1, submitted: 1 });
  await api.submitUpdate(b.token, 1, good());
  await waitFor('round 2', () => api.heartbeat(a.token), (s) => s.round === 2);

  assert.deepEqual(await putUpdate(server.url, a.token, 1, good()), {
    status: 409,
    body: { code: 'WRONG_ROUND', message: 'round 1 is closed; the current round is 2 (open)' },
  });
  await assert.rejects(api.submitUpdate(b.token, 1, good()), { name: 'DiscoApiError', code: 'WRONG_ROUND', status: 409, message: 'round 1 is closed; the current round is 2 (open)' });
});

test('weight downloads: unknown version and unknown task are 404 with a message, other methods 405', async (t) => {
  const { server } = await setup(t);
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${server.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as unknown };
  };

  assert.deepEqual(await get('/v1/tasks/test-task/models/7/weights'), {
    status: 404,
    body: { code: 'NOT_FOUND', message: 'model version 7 of task "test-task" does not exist (latest is 0)' },
  });
  assert.deepEqual(await get('/v1/tasks/nope/models/latest/weights'), { status: 404, body: { code: 'NOT_FOUND', message: 'task "nope" does not exist' } });
  assert.deepEqual(await get('/v1/tasks/test-task/models/x1/weights'), {
    status: 400,
    body: { code: 'BAD_REQUEST', message: '"x1" is not a model version (a whole number, or "latest")' },
  });
  assert.deepEqual(await get('/v1/tasks/test-task/models/latest/weights', { method: 'DELETE' }), {
    status: 405,
    body: { code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed here: use GET' },
  });
  assert.deepEqual(await get('/v1/nothing'), { status: 404, body: { code: 'NOT_FOUND', message: 'no route GET /v1/nothing' } });
});

test('malformed requests never crash the server', async (t) => {
  const { server } = await setup(t);
  const raw = (text: string) =>
    new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.end(text));
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });

  assert.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
  const bad = await fetch(`${server.url}/trpc/federation.join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"taskId":' });
  assert.equal(bad.status, 400);
  const wrongInput = await fetch(`${server.url}/trpc/federation.join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"taskId":42}' });
  assert.equal(wrongInput.status, 400);
  const body = (await wrongInput.json()) as { error: { data: { zodError: { fieldErrors: Record<string, string[]> } } } };
  assert.deepEqual(Object.keys(body.error.data.zodError.fieldErrors), ['taskId']);
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc`);
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send('not json at all');
  ws.send(Buffer.alloc(2 * 1024 * 1024)); // over maxPayload: the connection is closed, not the server
  await new Promise((resolve) => ws.once('close', resolve));
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test('a streamed body without Content-Length is cut off at the limit', async (t) => {
  const { server, a, stored } = await setup(t);

  const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${server.url}/v1/tasks/test-task/rounds/1/update`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    for (let i = 0; i < 8; i++) req.write(Buffer.alloc(16 * 1024));
    req.end();
  });

  assert.equal(result.status, 413);
  assert.deepEqual(JSON.parse(result.body), {
    code: 'PAYLOAD_TOO_LARGE',
    message: `the body exceeds the limit of ${MESSAGE_LIMIT} bytes for an update of task "test-task" (9 parameters)`,
  });
  assert.deepEqual(await stored(), { updates: 0, submitted: 0 });
});
