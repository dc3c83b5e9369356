import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { isHashedName } from '../src/http/static.js';
import { tempDir, testServer } from './helpers.js';

/** A raw GET (no automatic decompression): status, headers and the bytes as sent. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const WASM = Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.alloc(4096, 7)]);

async function site(t: { after(fn: () => unknown): void }, options: { cors?: string[] } = {}) {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const dir = path.join(tmp.dir, 'site');
  mkdirSync(path.join(dir, '.git'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), '<h1>portal</h1>');
  writeFileSync(path.join(dir, 'disco.js'), 'export const disco = 1;');
  writeFileSync(path.join(dir, 'chunk-BpX3k9aQ.js'), 'export const chunk = 1;');
  writeFileSync(path.join(dir, 'tfjs-backend-wasm.wasm'), WASM);
  writeFileSync(path.join(dir, 'tfjs-backend-wasm.wasm.br'), brotliCompressSync(WASM));
  writeFileSync(path.join(dir, 'tfjs-backend-wasm.wasm.gz'), gzipSync(WASM));
  writeFileSync(path.join(dir, '.env'), 'SECRET=1');
  writeFileSync(path.join(dir, '.git', 'config'), '[core]');
  writeFileSync(path.join(tmp.dir, 'outside.txt'), 'outside');
  symlinkSync(path.join(tmp.dir, 'outside.txt'), path.join(dir, 'link.txt'));
  symlinkSync(tmp.dir, path.join(dir, 'up'));
  const server = await testServer({ staticDir: dir, ...options });
  t.after(() => server.cleanup());
  return server;
}

test('a second visit downloads nothing: every static file answers 304 to its ETag; hashed names are immutable', async (t) => {
  const server = await site(t);
  const files = ['/', '/disco.js', '/chunk-BpX3k9aQ.js', '/tfjs-backend-wasm.wasm'];

  const first = await Promise.all(files.map((f) => get(server.url + f, { 'accept-encoding': 'br, gzip' })));
  assert.deepEqual(
    first.map((r) => r.status),
    [200, 200, 200, 200],
  );
  assert.equal(first[0].headers['content-type'], 'text/html;charset=utf-8');
  assert.equal(first[1].headers['cache-control'], 'no-cache');
  assert.equal(first[2].headers['cache-control'], 'public, max-age=31536000, immutable');
  const second = await Promise.all(files.map((f, i) => get(server.url + f, { 'accept-encoding': 'br, gzip', 'if-none-match': first[i].headers.etag! })));

  assert.deepEqual(
    second.map((r) => [r.status, r.body.byteLength]),
    files.map(() => [304, 0]),
  );
});

test('the wasm is served pre-compressed with its MIME type: brotli, gzip, or plain as the client accepts', async (t) => {
  const server = await site(t);
  const url = `${server.url}/tfjs-backend-wasm.wasm`;

  const br = await get(url, { 'accept-encoding': 'gzip, deflate, br' });
  const gz = await get(url, { 'accept-encoding': 'gzip' });
  const plain = await get(url);

  assert.deepEqual([br.headers['content-encoding'], br.headers['content-type'], br.headers.vary], ['br', 'application/wasm', 'Accept-Encoding']);
  assert.deepEqual(br.body, brotliCompressSync(WASM));
  assert.ok(br.body.byteLength < WASM.byteLength / 10);
  assert.deepEqual([gz.headers['content-encoding'], gz.headers['content-type']], ['gzip', 'application/wasm']);
  assert.deepEqual(gz.body, gzipSync(WASM));
  assert.deepEqual([plain.headers['content-encoding'], plain.body], [undefined, WASM]);
});

test('a static file fetched from an allowed origin varies on Origin and Accept-Encoding', async (t) => {
  const server = await site(t, { cors: ['https://partner.example'] });

  const response = await get(`${server.url}/disco.js`, { origin: 'https://partner.example', 'accept-encoding': 'gzip' });

  assert.equal(response.status, 200);
  assert.equal(response.headers['access-control-allow-origin'], 'https://partner.example');
  assert.equal(response.headers.vary, 'Origin, Accept-Encoding');
});

test('--static serves no dotfiles and nothing through a symlink out of its folder', async (t) => {
  const server = await site(t);

  for (const file of ['/.env', '/.git/config', '/link.txt', '/up/outside.txt', '/%2e%2e/outside.txt', '/.git/'])
    assert.equal((await get(server.url + file)).status, 404, file);
  const post = await fetch(`${server.url}/disco.js`, { method: 'POST' });
  assert.equal(post.status, 404);
});

test('content-hashed names are recognised', () => {
  assert.deepEqual(
    ['chunk-BpX3k9aQ.js', 'index.4f3a9c1e.css', 'disco.js', 'disco-training.worker.js', 'tfjs-backend-wasm-threaded-simd.wasm', 'passengers.csv'].map(isHashedName),
    [true, true, false, false, false, false],
  );
});
