import { test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientAddressOf } from '../src/http/client-address.js';
import { sqlRows, testServer, testTask, WebSocket } from './helpers.js';

/** What the tests read of an answer: a tRPC result or error, or a `{ code, message }` of the server's own routes. */
interface Answer {
  id?: number | null;
  result?: { type?: string; data?: { token: string } };
  error?: { message: string; data: { apiCode: string | null; stack?: string } };
  code?: string;
  message?: string;
}

/** A raw request (any Host header): status and the parsed JSON body. */
function request(url: string, options: http.RequestOptions = {}, body?: string): Promise<{ status: number; body: Answer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode!, body: parsed as Answer });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const join = (url: string, headers: Record<string, string> = {}) =>
  request(`${url}/trpc/federation.join`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, JSON.stringify({ taskId: 'test-task' }));

test('tRPC batching over HTTP is refused: one GET of 1,400 batched tasks.list calls gets a 400, not megabytes', async (t) => {
  const server = await testServer();
  t.after(() => server.cleanup());
  const paths = Array.from({ length: 1400 }, () => 'tasks.list').join(',');

  const response = await request(`${server.url}/trpc/${paths}?batch=1`);

  assert.equal(response.status, 400);
  assert.equal(JSON.stringify(response.body).length < 2000, true);
  assert.match(JSON.stringify(response.body), /Batching is not enabled on the server/);
  // One call at a time works.
  assert.equal((await request(`${server.url}/trpc/tasks.list`)).status, 200);
});

test('tRPC errors carry no stack trace (only with NODE_ENV=development)', async (t) => {
  const server = await testServer();
  t.after(() => server.cleanup());

  const response = await request(`${server.url}/trpc/tasks.get?input=${encodeURIComponent(JSON.stringify({ id: 'missing' }))}`);

  assert.equal(response.status, 404);
  assert.equal(response.body.error?.data.apiCode, 'NOT_FOUND');
  assert.equal(response.body.error?.data.stack, undefined);
  assert.doesNotMatch(JSON.stringify(response.body), /\/src\/|\.ts:\d+/);
});

test('a malformed %-encoding in a /v1 path answers 400 with a message', async (t) => {
  const server = await testServer();
  t.after(() => server.cleanup());

  const response = await request(`${server.url}/v1/tasks/%E0%A4%A/models/latest/weights`);

  assert.equal(response.status, 400);
  assert.deepEqual(response.body, { code: 'BAD_REQUEST', message: 'malformed %-encoding in the task id of /v1/tasks/%E0%A4%A/models/latest/weights' });
});

test('the Host header must be one this server answers to (DNS rebinding), over HTTP and WebSocket', async (t) => {
  const server = await testServer({ allowedHosts: ['disco.example.org', '.example.net'] });
  t.after(() => server.cleanup());
  const withHost = (host: string) => request(`${server.url}/healthz`, { headers: { host } });

  const statuses = await Promise.all(
    ['127.0.0.1', `localhost:${server.port}`, `[::1]:${server.port}`, 'disco.example.org', 'a.example.net', 'example.net', 'evil.example', 'example.org'].map(async (h) => (await withHost(h)).status),
  );
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 403, 403]);
  assert.deepEqual((await withHost('rebound.evil.example:8080')).body, {
    code: 'FORBIDDEN',
    message: 'host "rebound.evil.example" is not one this server answers to (protection against DNS rebinding): add it with --allowed-hosts or DISCO_ALLOWED_HOSTS',
  });
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc`, { headers: { host: 'evil.example' } });
  const upgrade = await new Promise<string>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    ws.once('open', () => resolve('open'));
    ws.once('error', () => undefined);
  });
  assert.equal(upgrade, '403');
});

/** A one-hop reverse proxy: appends the address it sees to X-Forwarded-For, as nginx's $proxy_add_x_forwarded_for does. */
async function proxyTo(target: string, t: { after(fn: () => unknown): void }): Promise<string> {
  const upstream = new URL(target);
  const proxy = http.createServer((req, res) => {
    const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, 'x-forwarded-for': forwarded } },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => proxy.close(resolve)));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

test('--trust-proxy 1: through a real proxy hop, a spoofed X-Forwarded-For does not escape the join rate limit', async (t) => {
  const server = await testServer({ trustProxy: 1, limits: { joinsPerMinute: 2 } });
  t.after(() => server.cleanup());
  const proxy = await proxyTo(server.url, t);

  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await join(proxy, { 'x-forwarded-for': `203.0.113.${i}` }));

  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 429],
  );
  assert.equal(answers[2].body.error?.message, 'too many joins from 127.0.0.1: try again in 60 s');
  // The client the proxy saw, not what it claimed.
  assert.deepEqual(await sqlRows(server.db, 'SELECT DISTINCT address FROM participants'), [{ address: '127.0.0.1' }]);
});

test('the client address is read from the right of X-Forwarded-For, skipping only trusted hops', () => {
  const req = (peer: string, forwarded?: string) => ({ socket: { remoteAddress: peer }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

  assert.equal(clientAddressOf(undefined)(req('10.0.0.5', '1.2.3.4')), '10.0.0.5');
  assert.equal(clientAddressOf(1)(req('10.0.0.5', 'spoofed, 198.51.100.7')), '198.51.100.7');
  assert.equal(clientAddressOf(2)(req('10.0.0.5', 'spoofed, 198.51.100.7, 10.0.0.9')), '198.51.100.7');
  assert.equal(clientAddressOf(1)(req('::ffff:10.0.0.5', '198.51.100.7')), '198.51.100.7');
  const list = clientAddressOf(['10.0.0.0/8', '::1']);
  assert.equal(list(req('::1', 'spoofed, 198.51.100.7, 10.1.2.3')), '198.51.100.7');
  assert.equal(list(req('192.0.2.1', '198.51.100.7')), '192.0.2.1', 'an untrusted peer is the client, whatever it forwards');
  assert.throws(() => clientAddressOf(['10.0.0.0/33']), /"10.0.0.0\/33" is not an IP address or a subnet/);
});

/** A raw tRPC WebSocket: send messages, collect answers by id. */
async function trpcSocket(url: string, t: { after(fn: () => unknown): void }) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/trpc`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  t.after(() => ws.terminate());
  const answers = new Map<number | null, Answer[]>();
  ws.on('message', (data: Buffer) => {
    for (const m of [JSON.parse(String(data)) as Answer | Answer[]].flat()) answers.set(m.id ?? null, [...(answers.get(m.id ?? null) ?? []), m]);
  });
  return {
    send: (message: unknown) => ws.send(JSON.stringify(message)),
    async answer(id: number | null): Promise<Answer> {
      const started = Date.now();
      while (!answers.get(id)?.length) {
        if (Date.now() - started > 5000) assert.fail(`no answer to ${id}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return answers.get(id)![0];
    },
  };
}

const onRound = (id: number, token?: string) => ({ id, method: 'subscription', params: { path: 'federation.onRound', input: { taskId: 'test-task', token } } });

test('subscriptions are capped per WebSocket connection and per token, with a clear error; a stopped one frees its slot', async (t) => {
  const server = await testServer({ tasks: [testTask()], limits: { maxSubscriptionsPerConnection: 5, maxSubscriptionsPerToken: 3, maxWsBatch: 10 } });
  t.after(() => server.cleanup());

  const one = await trpcSocket(server.url, t);
  for (let id = 1; id <= 6; id++) one.send(onRound(id));
  for (let id = 1; id <= 5; id++) assert.equal((await one.answer(id)).result?.type, 'started', `subscription ${id}`);
  const sixth = await one.answer(6);
  assert.equal(sixth.error?.data.apiCode, 'TOO_MANY_REQUESTS');
  assert.equal(
    sixth.error?.message,
    'this connection already has 5 subscriptions open, the most one connection may (limits.maxSubscriptionsPerConnection): stop one first',
  );
  one.send({ id: 1, method: 'subscription.stop' });
  await new Promise((r) => setTimeout(r, 50));
  one.send(onRound(7));
  assert.equal((await one.answer(7)).result?.type, 'started', 'a stopped subscription gives its slot back');

  const { token } = (await join(server.url)).body.result!.data!;
  const [a, b] = [await trpcSocket(server.url, t), await trpcSocket(server.url, t)];
  a.send(onRound(1, token));
  a.send(onRound(2, token));
  b.send(onRound(1, token));
  for (const [socket, id] of [[a, 1], [a, 2], [b, 1]] as const) assert.equal((await socket.answer(id)).result?.type, 'started');
  b.send(onRound(2, token));
  const fourth = await b.answer(2);
  assert.equal(fourth.error?.message, 'this participant token already has 3 subscriptions open, the most one token may (limits.maxSubscriptionsPerToken): stop one first');

  // Batches over the WebSocket are bounded too.
  b.send(Array.from({ length: 11 }, (_, i) => ({ id: 100 + i, method: 'query', params: { path: 'tasks.list', input: undefined } })));
  assert.match((await b.answer(100)).error?.message ?? '', /Batch call exceeds maximum size/);
});
