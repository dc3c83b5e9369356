import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabularFeatureNames } from '../tabular.js';
import { titanic } from '../../task/builtin/titanic.js';
import { labelCounts } from '../operations.js';
import { loadBuiltinDataset } from './builtin-data.js';
import { countTargetTokens } from '../text.js';
import { loadTokenizer } from '../tokenizer.js';

test('titanic loads all 1309 passengers with 19 features, 500 survivors', async () => {
  const ds = await loadBuiltinDataset('titanic', { split: 'all' });
  assert.equal(ds.count, 1309);
  assert.deepEqual(ds.featureShape, [tabularFeatureNames(titanic).length]);
  assert.deepEqual(ds.featureShape, [19]);
  assert.deepEqual(labelCounts(ds), [809, 500]);
  assert.ok(ds.features.every(Number.isFinite));
});

test('titanic train and test splits are 80/20 and disjoint', async () => {
  const train = await loadBuiltinDataset('titanic', { split: 'train' });
  const test = await loadBuiltinDataset('titanic', { split: 'test' });
  assert.equal(train.count, 1047);
  assert.equal(test.count, 262);
  const trainSources = new Set(train.sources);
  assert.ok(test.sources!.every((s) => !trainSources.has(s)));
});

test('mnist: the first training and test digits have their known labels', async () => {
  const train = await loadBuiltinDataset('mnist', { split: 'train', limit: 10 });
  assert.equal(train.count, 10);
  assert.deepEqual(train.featureShape, [28, 28, 1]);
  assert.deepEqual(Array.from(train.labels!), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.ok(train.features.every((v) => v >= 0 && v <= 1));
  const test = await loadBuiltinDataset('mnist', { split: 'test', limit: 5 });
  assert.deepEqual(Array.from(test.labels!), [7, 2, 1, 0, 4]);
});

test('cifar10 is not bundled and says how to provide it', async () => {
  await assert.rejects(loadBuiltinDataset('cifar10'), { code: 'not-bundled', message: /--data <folder with data_batch_\*\.bin>/ });
});

test('shakespeare: Caesar and Hamlet to train on, the whole of Macbeth held out, in windows of 64 tokens', async () => {
  const [train, held] = await Promise.all([loadBuiltinDataset('shakespeare', { split: 'train' }), loadBuiltinDataset('shakespeare', { split: 'test' })]);
  // 35,907 + 1 + 51,666 tokens → 87,573 targets → 1,369 windows; Macbeth: 32,595 tokens → 510 windows.
  assert.deepEqual([train.count, countTargetTokens(train)], [1369, 87573]);
  assert.deepEqual([held.count, countTargetTokens(held)], [510, 32594]);
  assert.deepEqual([train.featureShape, train.labelShape, held.labelShape], [[64], [64], [64]]);
  assert.equal(train.sources![0], 'caesar.txt, token 1');
  assert.equal(train.sources![train.count - 1].split(',')[0], 'hamlet.txt');
  assert.ok(held.sources!.every((s) => s.startsWith('macbeth.txt')));
  const tokenizer = await loadTokenizer('gpt2');
  assert.ok(tokenizer.decode([...train.features.subarray(0, 16)]).startsWith('[The Tragedie of Julius Caesar by William Shakespeare 1599]'));
  const limited = await loadBuiltinDataset('shakespeare', { split: 'train', limit: 16 });
  assert.deepEqual([...limited.labels!], [...train.labels!.subarray(0, 16 * 64)]);
});
