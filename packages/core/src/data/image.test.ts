import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTask } from '../task/schema.js';
import { mnist } from '../task/builtin/mnist.js';
import { cifar10 } from '../task/builtin/cifar10.js';
import { DataError } from './errors.js';
import { labelFromPath, loadImageDataset } from './image.js';
import { nodeImageDecoder as decode } from './node/image-decode-node.js';
import { jpg, png } from './node/test-images.js';

test('a PNG in a class folder becomes grey pixels scaled to 0-1 with the folder as label', async () => {
  const bytes = png(28, 28, (x) => (x < 14 ? [255, 255, 255] : [255, 0, 0]));
  const ds = await loadImageDataset([{ name: '7/img001.png', bytes }], mnist, { decode });
  assert.equal(ds.count, 1);
  assert.deepEqual(ds.featureShape, [28, 28, 1]);
  assert.deepEqual(Array.from(ds.labels!), [7]);
  assert.ok(Math.abs(ds.features[0] - 1) < 1e-6);
  assert.ok(Math.abs(ds.features[20] - 0.299) < 1e-6);
  assert.deepEqual(ds.sources, ['7/img001.png']);
});

test('a JPEG keeps its colours for a 3-channel task; an explicit label wins over the folder', async () => {
  const bytes = jpg(32, 32, () => [200, 100, 50]);
  const ds = await loadImageDataset([{ name: 'x/a.jpg', bytes, label: 'ship' }], cifar10, { decode });
  assert.deepEqual(ds.featureShape, [32, 32, 3]);
  assert.deepEqual(Array.from(ds.labels!), [8]);
  const [r, g, b] = ds.features;
  assert.ok(Math.abs(r * 255 - 200) <= 3 && Math.abs(g * 255 - 100) <= 3 && Math.abs(b * 255 - 50) <= 3, `${r * 255} ${g * 255} ${b * 255}`);
});

test('an image of the wrong size is refused with both sizes', async () => {
  await assert.rejects(loadImageDataset([{ name: 'cat.png', bytes: png(30, 30), label: '3' }], mnist, { decode }), {
    name: 'DataError',
    code: 'wrong-image-size',
    file: 'cat.png',
    message: 'cat.png: image is 30×30, the task expects 28×28',
  });
});

test('with a resize step, other sizes are resized', async () => {
  const task = parseTask({ ...mnist, preprocessing: [{ type: 'resize' }, { type: 'scale-pixels' }] });
  const ds = await loadImageDataset([{ name: '1/big.png', bytes: png(56, 40, () => [255, 255, 255]) }], task, { decode });
  assert.equal(ds.features.length, 28 * 28);
  assert.ok(ds.features.every((v) => Math.abs(v - 1) < 1e-6));
});

test('a file that is not an image is unreadable, and every bad file is listed', async () => {
  const files = [
    { name: 'notes.txt', bytes: new TextEncoder().encode('hello') },
    { name: '3/ok.png', bytes: png(28, 28) },
    { name: 'broken.png', bytes: png(28, 28).slice(0, 40), label: '1' },
    { name: 'dog/a.png', bytes: png(28, 28) },
  ];
  try {
    await loadImageDataset(files, mnist, { decode });
    assert.fail('expected a DataError');
  } catch (error) {
    assert.ok(error instanceof DataError);
    assert.deepEqual(error.message.split('\n'), [
      'notes.txt: not a readable image (PNG or JPEG expected)',
      'broken.png: not a readable image (PNG or JPEG expected)',
      'dog/a.png: unknown label "dog" (expected one of: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)',
    ]);
    assert.deepEqual(error.issues.map((i) => i.code), ['unreadable-image', 'unreadable-image', 'unknown-label']);
  }
});

test('without labels an image is refused for training but accepted for prediction', async () => {
  const files = [{ name: 'a.png', bytes: png(28, 28) }];
  await assert.rejects(loadImageDataset(files, mnist, { decode }), { code: 'missing-value', message: /^a\.png: no label/ });
  const ds = await loadImageDataset(files, mnist, { decode, requireLabels: false });
  assert.equal(ds.labels, null);
});

test('labels come from the innermost folder', () => {
  assert.equal(labelFromPath('7/img001.png'), '7');
  assert.equal(labelFromPath('train\\cat\\1.png'), 'cat');
  assert.equal(labelFromPath('img001.png'), undefined);
});
