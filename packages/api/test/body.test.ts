import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyPool, readBody } from '../src/http/body.js';

/** A server that reads each request's body with `readBody` (limit 1,000 bytes) into `pool`, and hands the result to `onBody`. */
async function bodyServer(pool: BodyPool, onBody: (body: Uint8Array | Error) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    readBody(req, 1000, 'a test body', pool).then(
      (body) => {
        onBody(body);
        res.end('ok');
      },
      (error: Error) => {
        onBody(error);
        res.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function send(url: string, chunks: Uint8Array[], headers: http.OutgoingHttpHeaders): Promise<void> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'PUT', headers, agent: false }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', () => resolve());
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

test('a body with a Content-Length is read into a pooled buffer, which the next body of that size reuses once released', async () => {
  const pool = new BodyPool();
  const bodies: Uint8Array[] = [];
  const buffers: ArrayBufferLike[] = [];
  const server = await bodyServer(pool, (body) => {
    assert.ok(body instanceof Uint8Array);
    bodies.push(body.slice());
    buffers.push(body.buffer);
    pool.release(body);
  });
  try {
    await send(server.url, [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)], { 'content-length': 5 });
    await send(server.url, [Uint8Array.of(9, 8, 7, 6, 5)], { 'content-length': 5 });

    assert.deepEqual(bodies.map((b) => [...b]), [[1, 2, 3, 4, 5], [9, 8, 7, 6, 5]]);
    assert.equal(buffers[0], buffers[1]);
  } finally {
    await server.close();
  }
});

test('without a Content-Length (chunked) the body is read as before, outside the pool', async () => {
  const pool = new BodyPool();
  let received: Uint8Array | Error | undefined;
  const server = await bodyServer(pool, (body) => (received = body));
  try {
    await send(server.url, [Uint8Array.of(1, 2), Uint8Array.of(3)], { 'transfer-encoding': 'chunked' });

    assert.ok(received instanceof Uint8Array);
    assert.deepEqual([...received], [1, 2, 3]);
    assert.equal(pool.acquire(3).buffer === received.buffer, false);
  } finally {
    await server.close();
  }
});

test('a body cut short is refused and its buffer goes back to the pool', async () => {
  const pool = new BodyPool();
  let received: Uint8Array | Error | undefined;
  const server = await bodyServer(pool, (body) => (received = body));
  try {
    await new Promise<void>((resolve) => {
      const request = http.request(server.url, { method: 'PUT', headers: { 'content-length': 10 }, agent: false });
      request.on('error', () => resolve());
      request.write(Uint8Array.of(1, 2, 3), () => setTimeout(() => request.destroy(), 50));
      request.on('close', resolve);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));

    assert.ok(received instanceof Error, `got ${String(received)}`);
    // The released buffer is the one handed out next for that size.
    const again = pool.acquire(10);
    pool.release(again);
    assert.equal(pool.acquire(10).buffer, again.buffer);
  } finally {
    await server.close();
  }
});

test('the pool keeps at most maxIdleBytes of idle buffers, and ignores buffers it did not hand out', () => {
  const pool = new BodyPool(16);
  const [a, b] = [pool.acquire(10), pool.acquire(10)];
  pool.release(a);
  pool.release(b); // over the 16-byte cap: dropped
  pool.release(new Uint8Array(10)); // not the pool's

  assert.equal(pool.acquire(10).buffer, a.buffer);
  assert.notEqual(pool.acquire(10).buffer, b.buffer);
});
