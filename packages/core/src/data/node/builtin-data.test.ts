import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabularFeatureNames } from '../tabular.js';
import { titanic } from '../../task/builtin/titanic.js';
import { labelCounts } from '../operations.js';
import { loadBuiltinDataset } from './builtin-data.js';

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
