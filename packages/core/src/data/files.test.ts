import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mnist } from '../task/builtin/mnist.js';
import { titanic } from '../task/builtin/titanic.js';
import { checkDataEntries, loadDataEntries } from './files.js';
import { encodeIdx } from './idx.js';
import { nodeImageDecoder as decode } from './node/image-decode-node.js';
import { png } from './node/test-images.js';

const text = (s: string) => new TextEncoder().encode(s);
const csvHeader = 'Name,Cabin,Survived,Pclass,Sex,Age,SibSp,Parch,Fare,Embarked';

test('tabular: several CSV files are concatenated in order', async () => {
  const ds = await loadDataEntries(
    [
      { name: 'a.csv', bytes: text(`${csvHeader}\nA,,1,1,female,29,0,0,211,S\n`) },
      { name: 'b.csv', bytes: text(`${csvHeader}\nA,,0,3,male,,0,0,7,Q\nA,,0,3,male,40,0,0,7,\n`) },
    ],
    titanic,
  );
  assert.equal(ds.count, 3);
  assert.deepEqual(Array.from(ds.labels!), [1, 0, 0]);
  assert.deepEqual(ds.sources, ['a.csv, line 2', 'b.csv, line 2', 'b.csv, line 3']);
});

test('tabular: every bad file is reported, and the per-file check shows which', async () => {
  const entries = [
    { name: 'good.csv', bytes: text(`${csvHeader}\nA,,1,1,female,29,0,0,211,S\n`) },
    { name: 'photo.png', bytes: png(2, 2) },
    { name: 'bad.csv', bytes: text(`${csvHeader}\nA,,maybe,1,female,29,0,0,211,S\n`) },
  ];
  await assert.rejects(loadDataEntries(entries, titanic), {
    message: [
      'photo.png: not a CSV file (this task expects tabular data in CSV)',
      'bad.csv, line 2, column "Survived": unknown label "maybe" (expected one of: 0, 1)',
    ].join('\n'),
  });
  assert.deepEqual(await checkDataEntries(entries, titanic), [
    { file: 'good.csv', examples: 1 },
    { file: 'photo.png', examples: 0, error: 'photo.png: not a CSV file (this task expects tabular data in CSV)' },
    { file: 'bad.csv', examples: 0, error: 'bad.csv, line 2, column "Survived": unknown label "maybe" (expected one of: 0, 1)' },
  ]);
});

test('images: class folders and a labels CSV label the images', async () => {
  const ds = await loadDataEntries(
    [
      { name: 'digits/3/a.png', bytes: png(28, 28) },
      { name: 'digits/b.png', bytes: png(28, 28) },
      { name: 'digits/labels.csv', bytes: text('filename,label\nb.png,5\n') },
    ],
    mnist,
    { decode },
  );
  assert.equal(ds.count, 2);
  assert.deepEqual(Array.from(ds.labels!), [3, 5]);
});

test('images: a gzipped IDX pair is paired by name', async () => {
  const images = encodeIdx(new Uint8Array(2 * 28 * 28), [2, 28, 28]);
  const labels = encodeIdx(Uint8Array.from([6, 1]), [2]);
  const ds = await loadDataEntries(
    [
      { name: 't10k-images-idx3-ubyte.gz', bytes: new Uint8Array(gzipSync(images)) },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: new Uint8Array(gzipSync(labels)) },
    ],
    mnist,
  );
  assert.deepEqual(Array.from(ds.labels!), [6, 1]);
});

test('images: an IDX images file without its labels is refused for training', async () => {
  const images = encodeIdx(new Uint8Array(28 * 28), [1, 28, 28]);
  await assert.rejects(loadDataEntries([{ name: 'train-images-idx3-ubyte', bytes: images }], mnist), {
    code: 'missing-value',
    message: 'train-images-idx3-ubyte: no labels file for these images (e.g. train-labels-idx1-ubyte)',
  });
  const ds = await loadDataEntries([{ name: 'train-images-idx3-ubyte', bytes: images }], mnist, { requireLabels: false });
  assert.equal(ds.labels, null);
});

test('no files is an error', async () => {
  await assert.rejects(loadDataEntries([], mnist), { code: 'empty' });
});
