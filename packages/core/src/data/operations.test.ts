import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from './dataset.js';
import { concatDatasets, labelCounts, shardDataset, shuffleDataset, splitDataset, subsetDataset } from './operations.js';

/** `count` examples of 2 values each: [i, -i], label i mod classes, source `#i`. */
function numbered(count: number, classes = 3): Dataset {
  return {
    features: Float32Array.from({ length: count * 2 }, (_, j) => (j % 2 === 0 ? j / 2 : -j / 2 + 0.5)),
    featureShape: [2],
    labels: Int32Array.from({ length: count }, (_, i) => i % classes),
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
    count,
    sources: Array.from({ length: count }, (_, i) => `#${i}`),
  };
}
const ids = (ds: Dataset) => Array.from({ length: ds.count }, (_, i) => ds.features[i * 2]);

test('a seeded split is reproducible, disjoint and complete', () => {
  const ds = numbered(100);
  const a = splitDataset(ds, 0.2, 42);
  const b = splitDataset(ds, 0.2, 42);
  assert.equal(a.test.count, 20);
  assert.equal(a.train.count, 80);
  assert.deepEqual(ids(a.test), ids(b.test));
  const all = new Set([...ids(a.train), ...ids(a.test)]);
  assert.equal(all.size, 100);
  assert.notDeepEqual(ids(a.test), ids(splitDataset(ds, 0.2, 43).test));
  // Each example keeps its label, source and both of its values.
  const first = a.test.features[0];
  assert.equal(a.test.features[1], -first);
  assert.equal(a.test.labels![0], first % 3);
  assert.equal(a.test.sources![0], `#${first}`);
});

test('shuffle keeps the examples, subset picks them in order', () => {
  const ds = numbered(10);
  assert.deepEqual([...ids(shuffleDataset(ds, 1))].sort((x, y) => x - y), ids(ds));
  assert.deepEqual(ids(subsetDataset(ds, [3, 1, 3])), [3, 1, 3]);
});

test('concat appends data sets and counts labels', () => {
  const ds = concatDatasets([numbered(4), numbered(2)]);
  assert.equal(ds.count, 6);
  assert.deepEqual(ids(ds), [0, 1, 2, 3, 0, 1]);
  assert.deepEqual(labelCounts(ds), [3, 2, 1]);
  assert.throws(() => concatDatasets([numbered(2), numbered(2, 4)]), /different classes/);
});

test('iid shards are disjoint, non-empty and of nearly equal size', () => {
  const shards = shardDataset(numbered(103), 4, { split: 'iid', seed: 5 });
  assert.deepEqual(shards.map((s) => s.count).sort(), [25, 26, 26, 26]);
  assert.equal(new Set(shards.flatMap(ids)).size, 103);
});

test('label-skew shards are each dominated by a few classes', () => {
  const ds = numbered(1000, 10);
  const shards = shardDataset(ds, 5, { split: 'label-skew', seed: 1 });
  assert.equal(new Set(shards.flatMap(ids)).size, 1000);
  for (const shard of shards) {
    assert.ok(shard.count > 0);
    const counts = labelCounts(shard).sort((a, b) => b - a);
    // 2 pieces of 100 examples: the two largest classes hold (nearly) everything.
    assert.ok(counts[0] + counts[1] >= 0.95 * shard.count, `counts ${counts.join(',')}`);
  }
  assert.deepEqual(shards.map(ids), shardDataset(ds, 5, { split: 'label-skew', seed: 1 }).map(ids));
});

test('every label-skew shard is non-empty even with few examples', () => {
  const shards = shardDataset(numbered(5, 2), 4, { split: 'label-skew' });
  assert.ok(shards.every((s) => s.count > 0));
  assert.throws(() => shardDataset(numbered(3), 4), { code: 'empty' });
});
