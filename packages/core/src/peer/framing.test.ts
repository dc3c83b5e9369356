import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrames, FRAME_HEADER_BYTES, FramingError, goodbyeFrame, isGoodbye, MAX_FRAME_BYTES, Reassembler } from './framing.js';

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

test('a message is cut into frames of at most 64 KiB and reassembled identically', () => {
  const message = bytes(200_000);
  const frames = [...encodeFrames(7, message)];
  assert.equal(frames.length, Math.ceil(200_000 / (MAX_FRAME_BYTES - FRAME_HEADER_BYTES)));
  assert.ok(frames.every((f) => f.length <= MAX_FRAME_BYTES));
  const r = new Reassembler();
  const results = frames.map((f) => r.push(f));
  assert.deepEqual(results.slice(0, -1), frames.slice(0, -1).map(() => null));
  assert.equal(results.at(-1)?.id, 7);
  assert.deepEqual(results.at(-1)?.message, message);
  assert.equal(r.pending, 0);
});

test('an empty message travels as one frame', () => {
  const frames = [...encodeFrames(1, new Uint8Array(0))];
  assert.equal(frames.length, 1);
  assert.equal(new Reassembler().push(frames[0])?.message.length, 0);
});

test('frames of interleaved messages are reassembled by message id', () => {
  const a = [...encodeFrames(1, bytes(150_000, 1), 1000)];
  const b = [...encodeFrames(2, bytes(3_000, 2), 1000)];
  const r = new Reassembler();
  const done: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    for (const frame of [a[i], b[i]]) {
      const result = frame && r.push(frame);
      if (result) done.push(result.id);
    }
  assert.deepEqual(done, [2, 1]);
});

test('a corrupted payload is refused with a checksum error', () => {
  const frames = [...encodeFrames(3, bytes(100_000))];
  frames[1][FRAME_HEADER_BYTES + 10] ^= 0xff;
  const r = new Reassembler();
  r.push(frames[0]);
  assert.throws(() => r.push(frames[1]), (e: Error) => e instanceof FramingError && /checksum mismatch/.test(e.message));
  assert.equal(r.pending, 0);
});

test('a lost or repeated frame is refused', () => {
  const frames = [...encodeFrames(8, bytes(5000), 1000)];
  const r = new Reassembler();
  r.push(frames[0]);
  assert.throws(() => r.push(frames[2]), /frame at 1944 where 972 was expected \(lost, repeated or reordered frame\)/);
  const again = new Reassembler();
  again.push(frames[0]);
  assert.throws(() => again.push(frames[0]), /where 972 was expected/);
});

test('a frame running past the announced length is refused', () => {
  const [frame] = [...encodeFrames(4, bytes(100), 1000)];
  const view = new DataView(frame.buffer);
  view.setUint32(20, 50, true); // offset 50 + 100 bytes > 100
  assert.throws(() => new Reassembler().push(frame), /runs past the announced 100 bytes/);
});

test('a message over the receiver limit is refused before allocation', () => {
  const [frame] = [...encodeFrames(5, bytes(5000))];
  assert.throws(() => new Reassembler(1000).push(frame), /announces 5000 bytes, over the limit of 1000/);
});

test('lengths above 4 GiB are representable in the header', () => {
  const [frame] = [...encodeFrames(6, bytes(10))];
  const view = new DataView(frame.buffer);
  view.setUint32(16, 2, true); // total = 10 + 2 * 2^32
  assert.throws(() => new Reassembler(2 ** 33).push(frame), /announces 8589934602 bytes/);
});

test('garbage is refused', () => {
  assert.throws(() => new Reassembler().push(new Uint8Array(3)), /shorter than its header/);
  assert.throws(() => new Reassembler().push(new Uint8Array(40)), /bad magic byte/);
});

test('a goodbye frame is told apart from message frames', () => {
  assert.ok(isGoodbye(goodbyeFrame()));
  assert.ok(![...encodeFrames(1, new Uint8Array(0))].some(isGoodbye));
});
