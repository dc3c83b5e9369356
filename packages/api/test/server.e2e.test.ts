import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DiscoApiError } from '@disco/core';
import { createDiscoClient, closeDiscoClient, toDiscoApiError } from '@disco/client';
import { serveCommand } from '../src/cli/serve.js';
import { ADMIN, freshDb, tempDir, testServer, testTask, WebSocket } from './helpers.js';

test('GET /healthz answers 200 while the database answers', async (t) => {
  const server = await testServer();
  t.after(() => server.cleanup());

  const response = await fetch(`${server.url}/healthz`);

  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
});

test('CORS: same origin and listed origins pass, others are refused before anything runs', async (t) => {
  const server = await testServer({ cors: ['https://portal.example'] });
  t.after(() => server.cleanup());
  const list = (origin?: string) => fetch(`${server.url}/trpc/tasks.list`, { headers: origin ? { origin } : {} });

  const listed = await list('https://portal.example');
  assert.equal(listed.status, 200);
  assert.equal(listed.headers.get('access-control-allow-origin'), 'https://portal.example');
  const same = await list(server.url);
  assert.equal(same.status, 200);
  assert.equal(same.headers.get('access-control-allow-origin'), null);
  const none = await list();
  assert.equal(none.status, 200);
  const other = await list('https://evil.example');
  assert.equal(other.status, 403);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  assert.deepEqual(await other.json(), { code: 'FORBIDDEN', message: 'origin https://evil.example is not allowed (CORS allow-list of this server)' });

  const preflight = await fetch(`${server.url}/v1/tasks/test-task/rounds/1/update`, {
    method: 'OPTIONS',
    headers: { origin: 'https://portal.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://portal.example');
  assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization, content-type');
  assert.match(preflight.headers.get('access-control-allow-methods')!, /PUT/);

  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc`, { headers: { origin: 'https://evil.example' } });
  const refused = await new Promise<string>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    ws.once('open', () => resolve('open'));
    ws.once('error', () => undefined);
  });
  assert.equal(refused, '403');
});

test('by default only the same origin may call from a browser', async (t) => {
  const server = await testServer();
  t.after(() => server.cleanup());

  const response = await fetch(`${server.url}/trpc/tasks.list`, { headers: { origin: 'http://localhost:3000' } });

  assert.equal(response.status, 403);
});

test('the static portal is served from the same origin, without escaping its folder', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  mkdirSync(path.join(tmp.dir, 'site'));
  writeFileSync(path.join(tmp.dir, 'site', 'index.html'), '<h1>portal</h1>');
  writeFileSync(path.join(tmp.dir, 'secret.txt'), 'secret');
  const server = await testServer({ staticDir: path.join(tmp.dir, 'site') });
  t.after(() => server.cleanup());

  const index = await fetch(`${server.url}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html;charset=utf-8');
  assert.equal(await index.text(), '<h1>portal</h1>');
  assert.equal((await fetch(`${server.url}/%2e%2e/secret.txt`)).status, 404);
  assert.equal((await fetch(`${server.url}/missing.js`)).status, 404);
});

test('tRPC errors carry the service code, every issue and the flattened zod error', async (t) => {
  const server = await testServer();
  t.after(() => server.cleanup());
  const client = createDiscoClient(server.url, { token: ADMIN });
  t.after(() => closeDiscoClient(client));

  const invalid = toDiscoApiError(await client.tasks.create.mutate({ task: { ...testTask({ id: 'x2' }), title: '' } }).catch((e: unknown) => e));
  assert.ok(invalid instanceof DiscoApiError);
  assert.equal(invalid.code, 'INVALID_TASK');
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.issues, ['title: Too small: expected string to have >=1 characters']);

  const notFound = toDiscoApiError(await client.tasks.get.query({ id: 'missing' }).catch((e: unknown) => e));
  assert.ok(notFound instanceof DiscoApiError);
  assert.deepEqual([notFound.code, notFound.status, notFound.message], ['NOT_FOUND', 404, 'task "missing" does not exist']);

  const zod = await client.tasks.get.query({ id: 42 as unknown as string }).catch((e: { data?: { zodError?: unknown } }) => e.data?.zodError);
  assert.deepEqual(zod, { formErrors: [], fieldErrors: { id: ['Invalid input: expected string, received number'] } });

  const created = await client.tasks.create.mutate({ task: testTask({ id: 'created-over-http' }) });
  assert.equal(created.task.id, 'created-over-http');
});

test('disco serve prints the URL once listening, a generated admin token once, and stops cleanly', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const lines: string[] = [];
  const errors: string[] = [];
  const stop = new AbortController();
  const previous = { ...process.env };
  delete process.env.DISCO_ADMIN_TOKEN;
  const db = await freshDb(tmp.dir, 'serve');
  process.env.DISCO_DB = db;
  process.env.DISCO_PORT = '0';
  t.after(() => Object.assign(process.env, previous));

  // No built-in tasks through the CLI here would need TF.js: an empty list keeps this test fast.
  const { serveOptions } = await import('../src/cli/serve.js');
  const parsed = serveOptions(['--cors', 'https://a.example,https://b.example']);
  assert.ok(!parsed.help);
  assert.deepEqual(parsed.options.cors, ['https://a.example', 'https://b.example']);
  assert.equal(parsed.options.port, 0);
  assert.equal(parsed.options.db, db);
  assert.equal(parsed.options.adminToken, undefined);

  const exit = await serveCommand(['--port', 'x'], { out: (l) => lines.push(l), err: (l) => errors.push(l) });
  assert.equal(exit, 2);
  assert.equal(errors[0], 'disco: --port must be an integer of at least 0, got "x"');

  const running = serveCommand([], { out: (l) => lines.push(l), err: (l) => errors.push(l) }, stop.signal);
  const started = Date.now();
  while (!lines.some((l) => l.startsWith('Disco API listening on')) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 50));
  const listening = lines.find((l) => l.startsWith('Disco API listening on'))!;
  assert.match(listening, /^Disco API listening on http:\/\/127\.0\.0\.1:\d+$/);
  const token = lines.find((l) => l.startsWith('Admin token'))!.split(': ')[1];
  const url = listening.split(' on ')[1];
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  const client = createDiscoClient(url, { token });
  const tasks = await client.tasks.list.query();
  assert.ok(tasks.some((s) => s.task.id === 'titanic'), 'built-in tasks seeded on first start');
  stop.abort();
  assert.equal(await running, 0);
  assert.deepEqual(lines.slice(-2), ['Disco API stopping…', 'Disco API stopped']);
  await assert.rejects(fetch(`${url}/healthz`));
});
