import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTask, type Task } from '../task/schema.js';
import { DataError } from './errors.js';
import { checkDataEntries, loadDataEntries } from './files.js';
import { concatDatasets, shardDataset, splitDataset, subsetDataset } from './operations.js';
import { countTargetTokens, decodeTextFile, textDataset } from './text.js';
import { loadTokenizer } from './tokenizer.js';

const EOT = 50256;
// 'To be, or not to be' in GPT-2 tokens: To · be · , · or · not · to · be
const toBe = [2514, 307, 11, 393, 407, 284, 307];

function textTask(contextLength: number): Task {
  return parseTask({
    id: 'toy-text',
    title: 'Toy text',
    description: 'A literal task for tests.',
    dataType: 'text',
    text: { contextLength },
    model: { source: 'builtin', architecture: 'gpt' },
  });
}

const utf8 = (s: string) => new TextEncoder().encode(s);

test('a text becomes windows of next-token targets, the last one padded', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const ds = textDataset(textTask(4), [{ name: 'hamlet.txt', text: 'To be, or not to be' }], tokenizer);
  // 7 tokens, 6 targets: windows start at tokens 0 and 4.
  assert.equal(ds.count, 2);
  assert.deepEqual(ds.featureShape, [4]);
  assert.deepEqual(ds.labelShape, [4]);
  assert.deepEqual(ds.classes, []);
  assert.deepEqual([...ds.features], [2514, 307, 11, 393, 407, 284, EOT, EOT]);
  assert.deepEqual([...ds.labels!], [307, 11, 393, 407, 284, 307, -1, -1]);
  assert.deepEqual(ds.sources, ['hamlet.txt, token 1', 'hamlet.txt, token 5']);
  assert.equal(countTargetTokens(ds), toBe.length - 1);
});

test('files are joined with <|endoftext|>, which is predicted too; sources name the file of each window', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const ds = textDataset(textTask(4), [{ name: 'a.txt', text: 'To be, or not to be' }, { name: 'b.txt', text: 'Hello world' }], tokenizer);
  const stream = [...toBe, EOT, 15496, 995]; // 10 tokens, 9 targets: windows at 0, 4 and 8
  assert.equal(ds.count, 3);
  assert.deepEqual([...ds.features], [...stream.slice(0, 9), EOT, EOT, EOT]);
  assert.deepEqual([...ds.labels!], [...stream.slice(1, 10), -1, -1, -1]);
  assert.deepEqual(ds.sources, ['a.txt, token 1', 'a.txt, token 5', 'b.txt, token 1']);
  assert.equal(countTargetTokens(ds), 9);
});

test('an exact fit has no padding, and windows are disjoint: every token is predicted once', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const ds = textDataset(textTask(4), [{ name: 'a.txt', text: 'To be, or not to be' }], tokenizer, { contextLength: 6 });
  assert.equal(ds.count, 1);
  assert.deepEqual([...ds.labels!], toBe.slice(1));
});

test('windows are split, shuffled and sharded with their targets', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const text = Array.from({ length: 40 }, (_, i) => `Line ${i}: the quick brown fox.`).join('\n');
  const ds = textDataset(textTask(8), [{ name: 'fox.txt', text }], tokenizer);
  const pairs = (d: typeof ds) =>
    Array.from({ length: d.count }, (_, i) => `${[...d.features.subarray(i * 8, i * 8 + 8)].join(',')}→${[...d.labels!.subarray(i * 8, i * 8 + 8)].join(',')}`);
  const all = new Set(pairs(ds));
  const { train, test: held } = splitDataset(ds, 0.25, 7);
  assert.equal(train.count + held.count, ds.count);
  assert.deepEqual(train.labelShape, [8]);
  assert.equal(train.labels!.length, train.count * 8);
  for (const p of [...pairs(train), ...pairs(held)]) assert.ok(all.has(p));
  const shards = shardDataset(ds, 3, { seed: 1 });
  assert.equal(shards.reduce((n, s) => n + s.count, 0), ds.count);
  assert.deepEqual(new Set(shards.flatMap(pairs)), all);
  assert.deepEqual(pairs(concatDatasets([subsetDataset(ds, [2]), subsetDataset(ds, [0])])), [pairs(ds)[2], pairs(ds)[0]]);
  assert.throws(() => shardDataset(ds, 2, { split: 'label-skew' }), /iid/);
});

test('an empty file, a binary file, a non-UTF-8 file and a one-token file are refused by name', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const code = (f: () => unknown): [string, string | undefined, string] => {
    try {
      f();
    } catch (error) {
      assert.ok(error instanceof DataError);
      return [error.code, error.file, error.message];
    }
    assert.fail('no error');
  };
  assert.deepEqual(code(() => decodeTextFile('empty.txt', new Uint8Array())), ['empty', 'empty.txt', 'empty.txt: the file is empty']);
  assert.deepEqual(code(() => decodeTextFile('blank.txt', utf8(' \n\n '))), ['empty', 'blank.txt', 'blank.txt: the file holds no text (only white space)']);
  assert.match(code(() => decodeTextFile('photo.txt', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])))[2], /^photo\.txt: a binary file, not text/);
  // Latin-1 "Cæsar": 0xE6 is not UTF-8 (the Gutenberg file of Julius Caesar had two such bytes).
  assert.deepEqual(code(() => decodeTextFile('caesar.txt', Uint8Array.from([0x43, 0xe6, 0x73, 0x61, 0x72]))).slice(0, 2), ['wrong-format', 'caesar.txt']);
  assert.match(code(() => decodeTextFile('caesar.txt', Uint8Array.from([0x43, 0xe6, 0x73, 0x61, 0x72])))[2], /not UTF-8 text at byte 1/);
  assert.deepEqual(code(() => textDataset(textTask(4), [{ name: 'a.txt', text: 'To be' }, { name: 'x.txt', text: 'x' }], tokenizer)).slice(0, 2), ['empty', 'x.txt']);
  // A byte-order mark and Windows line ends do not change the text.
  assert.equal(decodeTextFile('bom.txt', Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('a\r\nb')]) ), 'a\nb');
});

test('loadDataEntries reads .txt files for a text task and reports every bad file', async () => {
  const task = textTask(4);
  const ds = await loadDataEntries([{ name: 'a.txt', bytes: utf8('To be, or not to be') }, { name: 'b.txt', bytes: utf8('Hello world') }], task);
  assert.equal(ds.count, 3); // 10 tokens: windows at 0, 4, 8
  assert.deepEqual(ds.labelShape, [4]);
  const entries = [
    { name: 'a.txt', bytes: utf8('To be, or not to be') },
    { name: 'notes.csv', bytes: utf8('a,b\n1,2') },
    { name: 'empty.txt', bytes: new Uint8Array() },
    { name: 'b.txt', bytes: utf8('Hello world') },
    { name: 'one.txt', bytes: utf8('x') },
  ];
  await assert.rejects(loadDataEntries(entries, task), (error: unknown) => {
    assert.ok(error instanceof DataError);
    assert.deepEqual(error.issues.map((i) => [i.code, i.file]), [['unsupported-file', 'notes.csv'], ['empty', 'empty.txt'], ['empty', 'one.txt']]);
    return true;
  });
  const report = await checkDataEntries(entries, task);
  assert.deepEqual(report.map((r) => [r.file, r.examples, r.error === undefined]), [
    ['a.txt', 2, true],
    ['notes.csv', 0, false],
    ['empty.txt', 0, false],
    ['b.txt', 1, true],
    ['one.txt', 0, false],
  ]);
});
