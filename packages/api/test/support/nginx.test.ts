// The load balancer of the many-instances tests: a real nginx in front of two Node HTTP + WebSocket servers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { startNginx, type Nginx } from './nginx.js';

/** A server that answers every request with its name (and the SHA-256 of a POST body), and echoes WebSocket messages. */
async function upstream(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, url: req.url, host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'], bytes, sha256: hash.digest('hex') }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => socket.send(`${name}: ${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function getJson(url: string, init?: RequestInit): Promise<{ name: string; url: string; host: string; forwardedFor?: string; bytes: number; sha256: string }> {
  const response = await fetch(url, init);
  assert.equal(response.status, 200);
  return (await response.json()) as never;
}

describe('nginx as the load balancer in front of two instances', () => {
  let a: Awaited<ReturnType<typeof upstream>>;
  let b: Awaited<ReturnType<typeof upstream>>;
  let nginx: Nginx;

  before(async () => {
    a = await upstream('a');
    b = await upstream('b');
    nginx = await startNginx({ upstreams: [a.port, b.port] });
  });
  after(async () => {
    await nginx?.stop();
    await a?.close();
    await b?.close();
  });

  test('requests alternate between the upstreams, with the host and the client address passed on', async () => {
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await getJson(`${nginx.url}/hello/${i}`);
      assert.equal(answer.url, `/hello/${i}`);
      assert.equal(answer.host, `127.0.0.1:${nginx.port}`);
      assert.equal(answer.forwardedFor, '127.0.0.1');
      names.push(answer.name);
    }
    assert.deepEqual(names.slice(1), names.slice(0, -1).map((n) => (n === 'a' ? 'b' : 'a')), `round robin: ${names.join(' ')}`);
    const served = nginx.accessLog().filter((entry) => entry.uri.startsWith('/hello/'));
    assert.deepEqual(
      served.map((entry) => entry.upstream),
      names.map((n) => `127.0.0.1:${n === 'a' ? a.port : b.port}`),
    );
  });

  test('a 5 MiB request body reaches an upstream intact (streamed, within client_max_body_size)', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const answer = await getJson(`${nginx.url}/upload`, { method: 'POST', body });
    assert.equal(answer.bytes, body.length);
    assert.equal(answer.sha256, createHash('sha256').update(body).digest('hex'));
  });

  test('WebSocket upgrades go through, one upstream per connection, both ways', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const socket = new WebSocket(`${nginx.url.replace('http', 'ws')}/trpc`);
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once('open', () => socket.send(`hello ${i}`));
        socket.once('message', (data: Buffer) => resolve(data.toString()));
        socket.once('error', reject);
      });
      const [name, text] = reply.split(': ');
      assert.equal(text, `hello ${i}`);
      names.add(name);
      // the connection stays with its upstream
      const again = await new Promise<string>((resolve) => {
        socket.once('message', (data: Buffer) => resolve(data.toString()));
        socket.send('again');
      });
      assert.equal(again, `${name}: again`);
      socket.close();
    }
    assert.deepEqual([...names].sort(), ['a', 'b']);
  });

  test('stop() ends nginx and removes its prefix', async () => {
    const other = await startNginx({ upstreams: [a.port] });
    assert.equal((await getJson(`${other.url}/x`)).name, 'a');
    assert.ok(existsSync(other.prefix));
    await other.stop();
    await assert.rejects(fetch(`${other.url}/x`));
    assert.ok(!existsSync(other.prefix));
  });

  test('without nginx, the error names the package to install', async () => {
    const saved = process.env.DISCO_NGINX;
    process.env.DISCO_NGINX = '/nonexistent/nginx';
    try {
      await assert.rejects(startNginx({ upstreams: [a.port] }), /apt-get install -y nginx/);
    } finally {
      if (saved === undefined) delete process.env.DISCO_NGINX;
      else process.env.DISCO_NGINX = saved;
    }
  });
});
