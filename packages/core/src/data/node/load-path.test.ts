import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cifar10 } from '../../task/builtin/cifar10.js';
import { mnist } from '../../task/builtin/mnist.js';
import { titanic } from '../../task/builtin/titanic.js';
import { getBuiltinTask } from '../../task/builtin/index.js';
import { CIFAR_RECORD_BYTES } from '../cifar.js';
import { loadDataFromPath } from './load-path.js';
import { jpg, png } from './test-images.js';
import { titanicCsvPath } from './builtin-data.js';

let root: string;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'disco-data-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a CSV file path loads a tabular task', async () => {
  const ds = await loadDataFromPath(titanicCsvPath, titanic);
  assert.equal(ds.count, 1309);
  assert.equal(ds.sources?.[0], 'titanic.csv, line 2');
});

test('a folder of class folders loads an image task in name order', async () => {
  const folder = path.join(root, 'digits');
  await mkdir(path.join(folder, '1'), { recursive: true });
  await mkdir(path.join(folder, '0'), { recursive: true });
  await writeFile(path.join(folder, '1', 'b.png'), png(28, 28));
  await writeFile(path.join(folder, '0', 'a.jpg'), jpg(28, 28));
  await writeFile(path.join(folder, '.DS_Store'), 'junk');
  await writeFile(path.join(folder, 'README.md'), '# digits');
  const ds = await loadDataFromPath(folder, mnist);
  assert.deepEqual(ds.sources, ['0/a.jpg', '1/b.png']);
  assert.deepEqual(Array.from(ds.labels!), [0, 1]);
});

test('a folder of CIFAR-10 batches loads every batch; a wrong-size image names the file', async () => {
  const folder = path.join(root, 'cifar-10-batches-bin');
  await mkdir(folder);
  const record = new Uint8Array(CIFAR_RECORD_BYTES);
  record[0] = 9;
  await writeFile(path.join(folder, 'data_batch_1.bin'), record);
  await writeFile(path.join(folder, 'test_batch.bin'), Buffer.concat([record, record]));
  await writeFile(path.join(folder, 'batches.meta.txt'), 'airplane\n');
  const ds = await loadDataFromPath(folder, cifar10);
  assert.equal(ds.count, 3);
  assert.deepEqual(Array.from(ds.labels!), [9, 9, 9]);
  await writeFile(path.join(root, 'cat.png'), png(30, 30));
  await assert.rejects(loadDataFromPath(path.join(root, 'cat.png'), mnist, { requireLabels: false }), {
    message: 'cat.png: image is 30×30, the task expects 28×28',
  });
});

test('a missing path is reported', async () => {
  await assert.rejects(loadDataFromPath(path.join(root, 'nope'), mnist), { code: 'not-found', message: /nope: no such file or folder/ });
});

test('a folder of .txt files loads a text task in name order (documentation skipped), a file alone too', async () => {
  const folder = path.join(root, 'plays');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'b.txt'), 'Hello world');
  await writeFile(path.join(folder, 'a.txt'), 'To be, or not to be');
  await writeFile(path.join(folder, 'README.md'), '# not data');
  const task = getBuiltinTask('shakespeare')!;
  task.text!.contextLength = 4;
  const ds = await loadDataFromPath(folder, task);
  // a.txt then b.txt: To · be · , · or · not · to · be · <|endoftext|> · Hello · world, 9 targets in windows of 4.
  assert.deepEqual([...ds.labels!], [307, 11, 393, 407, 284, 307, 50256, 15496, 995, -1, -1, -1]);
  assert.deepEqual(ds.sources, ['a.txt, token 1', 'a.txt, token 5', 'b.txt, token 1']);
  assert.equal((await loadDataFromPath(path.join(folder, 'b.txt'), task)).count, 1);
  await assert.rejects(loadDataFromPath(path.join(folder, 'README.md'), task), /README\.md: not a \.txt file/);
});
