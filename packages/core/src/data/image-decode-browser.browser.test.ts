import { expect } from '@open-wc/testing';
import { mnist } from '../task/builtin/mnist.js';
import { cifar10 } from '../task/builtin/cifar10.js';
import { DataError } from './errors.js';
import { loadImageDataset } from './image.js';
import { browserImageDecoder as decode } from './image-decode-browser.js';

// Mocha's global, provided by web-test-runner (the package has no @types/mocha).
declare const it: (title: string, test: () => Promise<void> | void) => void;

/** A PNG drawn on an OffscreenCanvas: left half `left`, right half `right`. */
async function png(width: number, height: number, left = '#ffffff', right = '#ff0000'): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  context.fillStyle = left;
  context.fillRect(0, 0, width / 2, height);
  context.fillStyle = right;
  context.fillRect(width / 2, 0, width - width / 2, height);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

it('decodes a generated PNG to grey pixels with its folder as label', async () => {
  const ds = await loadImageDataset([{ name: '7/a.png', bytes: await png(28, 28) }], mnist, { decode });
  expect(ds.featureShape).to.deep.equal([28, 28, 1]);
  expect(Array.from(ds.labels!)).to.deep.equal([7]);
  expect(ds.features[0]).to.be.closeTo(1, 1e-6);
  expect(ds.features[27]).to.be.closeTo(0.299, 0.01);
});

it('keeps colours for a 3-channel task', async () => {
  const ds = await loadImageDataset([{ name: 'cat/a.png', bytes: await png(32, 32, '#c86432', '#c86432') }], cifar10, { decode });
  expect(Array.from(ds.features.subarray(0, 3)).map((v) => Math.round(v * 255))).to.deep.equal([200, 100, 50]);
});

it('refuses a wrong-size image and a file that is not an image', async () => {
  const files = [
    { name: 'cat.png', bytes: await png(30, 30), label: '1' },
    { name: 'notes.txt', bytes: new TextEncoder().encode('hello') },
  ];
  let error: unknown;
  try {
    await loadImageDataset(files, mnist, { decode });
  } catch (e) {
    error = e;
  }
  expect(error).to.be.instanceOf(DataError);
  expect((error as DataError).message).to.equal(
    'cat.png: image is 30×30, the task expects 28×28\nnotes.txt: not a readable image (PNG or JPEG expected)',
  );
});
