import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { conv2dInputGradient } from './conv2d-backprop-input.js';
import { initBackend } from './init-backend.js';

type Case = { name: string; x: number[]; filter: number[]; strides: number | [number, number]; pad: 'valid' | 'same' };

// The built-in models use 3×3 (mnist, cifar) filters at stride 1 with valid and same padding; stride 2 and
// uneven shapes check the window arithmetic that a naive delegation got wrong (and the input gradient's
// fallback to the native kernel).
const cases: Case[] = [
  { name: '3x3 stride 1 valid', x: [4, 12, 12, 1], filter: [3, 3, 1, 8], strides: 1, pad: 'valid' },
  { name: '3x3 stride 1 same', x: [4, 11, 11, 3], filter: [3, 3, 3, 8], strides: 1, pad: 'same' },
  { name: '3x3 stride 2 valid', x: [3, 13, 13, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'valid' },
  { name: '3x3 stride 2 same', x: [3, 12, 12, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { name: '5x5 stride 2 same, odd size', x: [2, 15, 9, 2], filter: [5, 5, 2, 3], strides: 2, pad: 'same' },
  { name: '2x4 stride [2,1] same', x: [2, 10, 7, 3], filter: [2, 4, 3, 5], strides: [2, 1], pad: 'same' },
];

/** Deterministic values in [-1, 1). */
function values(shape: number[], seed: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) % 1);
}

const GRADIENTS = ['dFilter (conv2d)', 'dFilter (fused conv2d)', 'dInput (conv2d)', 'dInput (fused conv2d)'];

/** dLoss/dFilter and dLoss/dInput through the layers' path (fused conv2d + bias + relu) and the plain conv2d op. */
function gradients(c: Case): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x, 1), c.x as [number, number, number, number]);
    const filter = tf.tensor4d(values(c.filter, 2), c.filter as [number, number, number, number]);
    const bias = tf.tensor1d(values([c.filter[3]], 3));
    const plain = (x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad).square().sum();
    const fused = (x: tf.Tensor, f: tf.Tensor) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.strides, pad: c.pad, bias, activation: 'relu' }).square().sum();
    const [dxPlain, dwPlain] = tf.grads(plain)([x, filter]);
    const [dxFused, dwFused] = tf.grads(fused)([x, filter]);
    return [dwPlain, dwFused, dxPlain, dxFused].map((t) => t.dataSync() as Float32Array);
  });
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  return worst;
}

for (const c of cases) {
  test(`wasm conv2d gradients match cpu to 1e-4: ${c.name}`, async () => {
    await initBackend({ backend: 'cpu' });
    const expected = gradients(c);
    assert.equal(await initBackend(), 'wasm');
    const actual = gradients(c);
    for (let k = 0; k < expected.length; k++) {
      assert.equal(actual[k].length, expected[k].length);
      const error = maxRelativeError(actual[k], expected[k]);
      assert.ok(error <= 1e-4, `${GRADIENTS[k]}: max relative error ${error}`);
    }
  });
}

test('the wasm conv2d gradients leak no tensor', async () => {
  await initBackend();
  const c = cases[1];
  gradients(c); // warm-up: the first call may allocate backend state
  const before = tf.memory().numTensors;
  gradients(c);
  assert.equal(tf.memory().numTensors, before);
});

test('initBackend selects wasm by default and the requested backend when asked', async () => {
  assert.equal(await initBackend({ backend: 'cpu' }), 'cpu');
  assert.equal(await initBackend(), 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('the input gradient runs as a forward conv at stride 1 and leaves other strides to the native kernel', async () => {
  await initBackend();
  const dy = tf.zeros<tf.Rank.R4>([1, 10, 10, 4]);
  const filter = tf.zeros<tf.Rank.R4>([3, 3, 2, 4]);
  assert.ok(conv2dInputGradient(dy, filter, [1, 10, 10, 2], 1, 'same'));
  assert.ok(conv2dInputGradient(tf.zeros<tf.Rank.R4>([1, 8, 8, 4]), filter, [1, 10, 10, 2], 1, 'valid'));
  assert.equal(conv2dInputGradient(tf.zeros<tf.Rank.R4>([1, 5, 5, 4]), filter, [1, 10, 10, 2], 2, 'same'), null);
});
