import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LocalSignalling } from '../../testing/local-signalling.js';
import { nodeWrtc } from './wrtc.js';
import { crc32 } from '../../weights/crc32.js';
import { decodeWeights, encodeWeights } from '../../weights/codec.js';
import type { PeerNetwork } from '../peer-network.js';

const wrtc = nodeWrtc();
const opened: PeerNetwork[] = [];
after(() => opened.forEach((n) => n.close()));

function pair() {
  const signalling = new LocalSignalling();
  // Short attempts: a rare stuck handshake is retried quickly.
  const a = signalling.network('peer-a', { wrtc, connectTimeoutMs: 3000 });
  const b = signalling.network('peer-b', { wrtc, connectTimeoutMs: 3000 });
  for (const n of [a, b]) n.on('error', (peer, error) => console.error(`${n.localId} ↔ ${peer}: ${error.message}`));
  opened.push(a, b);
  return { signalling, a, b };
}

function nextMessage(network: PeerNetwork): Promise<{ from: string; message: Uint8Array }> {
  return new Promise((resolve) => network.once('message', (from, message) => resolve({ from, message })));
}

test('a 20 MB model crosses a real data channel intact (frames checked by CRC-32, then the codec checksum)', { timeout: 30_000 }, async () => {
  const { a, b } = pair();
  const result = await a.connect(['peer-b']);
  assert.deepEqual(result, { connected: ['peer-b'], failed: [] });
  const values = new Float32Array(5 * 1024 * 1024); // 20 MiB of float32
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i);
  const model = encodeWeights({ values, shapes: [{ name: 'dense/kernel', shape: [5 * 1024, 1024] }] }, { taskId: 'big', modelVersion: 3 });
  const received = nextMessage(b);

  await a.send('peer-b', model);

  const { from, message } = await received;
  assert.equal(from, 'peer-a');
  assert.equal(crc32(message), crc32(model));
  const decoded = decodeWeights(message); // checks the payload's CRC-32 again
  assert.deepEqual(decoded.weights.values, values);
  assert.equal(a.stats.messagesSent, 1);
  assert.equal(b.stats.bytesReceived, a.stats.bytesSent);
  assert.ok(a.stats.bytesSent > model.length && a.stats.bytesSent < model.length * 1.001, 'framing costs under 0.1 %');
});

test('messages keep their order and count in both directions', { timeout: 30_000 }, async () => {
  const { a, b } = pair();
  await Promise.all([a.connect(['peer-b']), b.connect(['peer-a'])]);
  const got: number[] = [];
  const all = new Promise<void>((resolve) =>
    b.on('message', (_from, m) => {
      got.push(m[0]);
      if (got.length === 200) resolve();
    }),
  );
  const back = nextMessage(a);
  await Promise.all(Array.from({ length: 200 }, (_, i) => a.send('peer-b', new Uint8Array([i, ...new Uint8Array(i * 100)]))));
  await all;
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
  await b.send('peer-a', new Uint8Array([9]));
  assert.deepEqual((await back).message, new Uint8Array([9]));
});

test('a peer that never answers is reported as failed after its attempts, not waited for', { timeout: 30_000 }, async () => {
  const signalling = new LocalSignalling();
  const a = signalling.network('peer-a', { wrtc, connectTimeoutMs: 300, attempts: 2 });
  signalling.network('peer-z', { wrtc });
  opened.push(a);
  signalling.unreachable.add('peer-z');
  const failed: string[] = [];
  a.on('failed', (id) => failed.push(id));
  const started = Date.now();
  const result = await a.connect(['peer-z']);
  assert.deepEqual(result.connected, []);
  assert.equal(result.failed[0].peerId, 'peer-z');
  assert.match(result.failed[0].reason, /after 2 attempt\(s\)/);
  assert.deepEqual(failed, ['peer-z']);
  assert.ok(Date.now() - started < 2000);
});

test('the connection closing is reported to the other side at once', { timeout: 20_000 }, async () => {
  const { a, b } = pair();
  await a.connect(['peer-b']);
  const closed = new Promise<string>((resolve) => b.on('disconnect', (id, reason) => resolve(`${id}: ${reason}`)));
  a.disconnect('peer-b');
  assert.equal(await closed, 'peer-a: peer peer-a left');
  await assert.rejects(a.send('peer-b', new Uint8Array(1)), /not connected/);
});
