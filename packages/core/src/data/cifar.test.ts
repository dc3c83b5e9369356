import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cifar10 } from '../task/builtin/cifar10.js';
import { mnist } from '../task/builtin/mnist.js';
import { parseTask } from '../task/schema.js';
import { CIFAR_RECORD_BYTES, datasetFromCifarBatch } from './cifar.js';

/** A batch in the exact CIFAR-10 binary format: record i has label `labels[i]`, R = i, G = pixel index mod 256, B = 255. */
function batch(labels: number[]): Uint8Array {
  const bytes = new Uint8Array(labels.length * CIFAR_RECORD_BYTES);
  labels.forEach((label, i) => {
    const at = i * CIFAR_RECORD_BYTES;
    bytes[at] = label;
    for (let p = 0; p < 1024; p++) {
      bytes[at + 1 + p] = i;
      bytes[at + 1 + 1024 + p] = p % 256;
      bytes[at + 1 + 2048 + p] = 255;
    }
  });
  return bytes;
}

test('a generated CIFAR-10 batch becomes interleaved RGB images with their labels', () => {
  const ds = datasetFromCifarBatch(batch([3, 8, 0]), cifar10, { source: 'data_batch_1.bin' });
  assert.equal(ds.count, 3);
  assert.deepEqual(ds.featureShape, [32, 32, 3]);
  assert.deepEqual(Array.from(ds.labels!), [3, 8, 0]);
  const image = 32 * 32 * 3;
  // Pixel 5 of record 1 (row 0, column 5): R = 1, G = 5, B = 255, scaled to 0-1.
  const at = image + 5 * 3;
  assert.deepEqual(Array.from(ds.features.subarray(at, at + 3)).map((v) => Math.round(v * 255)), [1, 5, 255]);
  assert.deepEqual(ds.sources?.[2], 'data_batch_1.bin[2]');
});

test('a batch of the wrong length or with unknown labels is refused', () => {
  assert.throws(() => datasetFromCifarBatch(new Uint8Array(3000), cifar10, { source: 'b.bin' }), {
    code: 'wrong-format',
    message: 'b.bin: 3000 bytes is not a whole number of CIFAR-10 records (1 label byte + 32×32×3 pixel bytes = 3073 bytes each)',
  });
  assert.throws(() => datasetFromCifarBatch(batch([1, 10]), cifar10), { code: 'unknown-label', message: /record 1: unknown label 10/ });
});

test('the task decides size and channels: refused for 28×28, grey and resized with a resize step', () => {
  assert.throws(() => datasetFromCifarBatch(batch([1]), mnist), { message: 'data_batch.bin: image is 32×32, the task expects 28×28' });
  const ds = datasetFromCifarBatch(batch([1]), parseTask({ ...mnist, preprocessing: [{ type: 'resize' }] }));
  assert.deepEqual(ds.featureShape, [28, 28, 1]);
});
