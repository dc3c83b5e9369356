import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, encodeWeights, readWeightsHeader } from './codec.js';
import type { FlatWeights } from './flat.js';

const weights: FlatWeights = {
  values: Float32Array.from([0.5, -1.25, 3, 0, 1e-3, -2, 7, 8]),
  shapes: [
    { name: 'dense/kernel', shape: [2, 3] },
    { name: 'dense/bias', shape: [2] },
  ],
};

test('float32 round-trips exactly and costs 4 bytes per value plus the header', () => {
  const bytes = encodeWeights(weights, { taskId: 'titanic', modelVersion: 3, meta: { samples: 10 } });
  const { header, weights: back } = decodeWeights(bytes);
  assert.deepEqual(Array.from(back.values), Array.from(weights.values));
  assert.equal(header.taskId, 'titanic');
  assert.equal(header.modelVersion, 3);
  assert.deepEqual(header.meta, { samples: 10 });
  assert.equal(bytes.length - readWeightsHeader(bytes).payloadStart, 8 * 4);
});

test('float16 and int8 stay within their quantization error', () => {
  for (const [dtype, tolerance] of [['float16', 2e-3], ['int8', 10 / 255]] as const) {
    const { weights: back } = decodeWeights(encodeWeights(weights, { taskId: 't', modelVersion: 0, dtype }));
    back.values.forEach((v, i) => assert.ok(Math.abs(v - weights.values[i]) <= tolerance * Math.max(1, Math.abs(weights.values[i])), `${dtype}[${i}]: ${v}`));
  }
});

test('a corrupted payload is refused by its checksum', () => {
  const bytes = encodeWeights(weights, { taskId: 't', modelVersion: 0 });
  bytes[bytes.length - 1] ^= 0xff;
  assert.throws(() => decodeWeights(bytes), { message: 'weights checksum mismatch: the payload is corrupted' });
});

test('a truncated payload names the expected length', () => {
  const bytes = encodeWeights(weights, { taskId: 't', modelVersion: 0 });
  assert.throws(() => decodeWeights(bytes.subarray(0, bytes.length - 4)), {
    message: 'weights payload is 28 bytes, expected 32 for 8 float32 values',
  });
});

test('NaN is refused with its index', () => {
  const bad = { ...weights, values: Float32Array.from(weights.values) };
  bad.values[5] = NaN;
  assert.throws(() => decodeWeights(encodeWeights(bad, { taskId: 't', modelVersion: 0 })), {
    message: 'weights contain a non-finite value (NaN) at index 5',
  });
});

test('bytes that are not a weights message are refused', () => {
  assert.throws(() => decodeWeights(new TextEncoder().encode('[1,2,3]')), { message: 'not a Disco weights message (bad magic bytes)' });
});

test('view: float32 values read the message in place (no copy) and are checked alike', () => {
  const bytes = encodeWeights(weights, { taskId: 't', modelVersion: 0 });

  const { weights: view } = decodeWeights(bytes, { view: true });

  assert.equal(view.values.buffer, bytes.buffer);
  assert.deepEqual(Array.from(view.values), Array.from(weights.values));
  assert.notEqual(decodeWeights(bytes).weights.values.buffer, bytes.buffer); // the default is a copy
  // A misaligned message is copied; NaN is refused either way.
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  assert.notEqual(decodeWeights(shifted.subarray(1), { view: true }).weights.values.buffer, shifted.buffer);
  const bad = { ...weights, values: Float32Array.from(weights.values) };
  bad.values[2] = Infinity;
  assert.throws(() => decodeWeights(encodeWeights(bad, { taskId: 't', modelVersion: 0 }), { view: true }), { message: 'weights contain a non-finite value (Infinity) at index 2' });
});
