import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { mulberry32, seededPermutation, shuffleInPlace } from './random.js';

/** Values per example (the product of `featureShape`). */
export function exampleSize(ds: Dataset): number {
  return ds.featureShape.reduce((a, b) => a * b, 1);
}

/** Labels per example: 1, or the product of `labelShape` (a text window's next-token targets). */
export function labelSize(ds: Dataset): number {
  return ds.labelShape ? ds.labelShape.reduce((a, b) => a * b, 1) : 1;
}

/** `{ labelShape }` when the data set has one (a copy), else nothing: spread into derived data sets. */
function labelShapeOf(ds: Dataset): { labelShape?: number[] } {
  return ds.labelShape ? { labelShape: [...ds.labelShape] } : {};
}

/**
 * The examples at `indices`, in that order (an index may repeat). Copies the data, so the result can be
 * transferred to a worker independently of the original.
 */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = exampleSize(ds);
  const perExample = labelSize(ds);
  const count = indices.length;
  const features = new Float32Array(count * size);
  const labels = ds.labels ? new Int32Array(count * perExample) : null;
  const sources = ds.sources ? new Array<string>(count) : undefined;
  for (let i = 0; i < count; i++) {
    const from = indices[i];
    if (!(from >= 0 && from < ds.count)) throw new RangeError(`index ${from} is outside the data set (0…${ds.count - 1})`);
    features.set(ds.features.subarray(from * size, (from + 1) * size), i * size);
    if (labels && ds.labels) labels.set(ds.labels.subarray(from * perExample, (from + 1) * perExample), i * perExample);
    if (sources && ds.sources) sources[i] = ds.sources[from];
  }
  return { features, featureShape: [...ds.featureShape], labels, ...labelShapeOf(ds), classes: [...ds.classes], count, ...(sources && { sources }) };
}

/** The first `n` examples (all of them if there are fewer). */
export function takeDataset(ds: Dataset, n: number): Dataset {
  const count = Math.max(0, Math.min(n, ds.count));
  return subsetDataset(ds, Int32Array.from({ length: count }, (_, i) => i));
}

/** The examples in a random order fixed by `seed`. */
export function shuffleDataset(ds: Dataset, seed: number): Dataset {
  return subsetDataset(ds, seededPermutation(ds.count, seed));
}

/**
 * Splits into disjoint train and test sets after a shuffle fixed by `seed`: the same data and seed give the
 * same split on every machine. `test` gets `round(count × testFraction)` examples.
 *
 * @example
 * const { train, test } = splitDataset(titanic, 0.2, 42); // 1047 / 262
 */
export function splitDataset(ds: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  if (!(testFraction >= 0 && testFraction <= 1)) throw new RangeError(`testFraction must be between 0 and 1, got ${testFraction}`);
  const order = seededPermutation(ds.count, seed);
  const testCount = Math.round(ds.count * testFraction);
  return { test: subsetDataset(ds, order.subarray(0, testCount)), train: subsetDataset(ds, order.subarray(testCount)) };
}

/** Joins data sets with the same example shape and classes, in order. */
export function concatDatasets(datasets: Dataset[]): Dataset {
  if (datasets.length === 0) throw new RangeError('concatDatasets needs at least one data set');
  const [first] = datasets;
  const shape = first.featureShape.join('×');
  for (const ds of datasets) {
    if (ds.featureShape.join('×') !== shape)
      throw new RangeError(`cannot concatenate examples of shape ${ds.featureShape.join('×')} and ${shape}`);
    if (ds.classes.join('\n') !== first.classes.join('\n')) throw new RangeError('cannot concatenate data sets with different classes');
    if ((ds.labelShape ?? []).join('×') !== (first.labelShape ?? []).join('×'))
      throw new RangeError(`cannot concatenate labels of shape [${(ds.labelShape ?? []).join(',')}] and [${(first.labelShape ?? []).join(',')}]`);
  }
  const count = datasets.reduce((n, ds) => n + ds.count, 0);
  const size = exampleSize(first);
  const perExample = labelSize(first);
  const features = new Float32Array(count * size);
  // Labels are kept only if every part has them: a partly labelled set could not be trained on anyway.
  const labels = datasets.every((ds) => ds.labels) ? new Int32Array(count * perExample) : null;
  const withSources = datasets.every((ds) => ds.sources);
  const sources: string[] = [];
  let offset = 0;
  for (const ds of datasets) {
    features.set(ds.features.subarray(0, ds.count * size), offset * size);
    if (labels && ds.labels) labels.set(ds.labels.subarray(0, ds.count * perExample), offset * perExample);
    if (withSources && ds.sources) sources.push(...ds.sources);
    offset += ds.count;
  }
  return { features, featureShape: [...first.featureShape], labels, ...labelShapeOf(first), classes: [...first.classes], count, ...(withSources && { sources }) };
}

/** Number of examples of each class, in class order (all zeros for unlabelled data, and empty for text: no classes). */
export function labelCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.classes.length).fill(0);
  if (ds.labels && !ds.labelShape) for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
  return counts;
}

/** How {@link shardDataset} distributes examples. */
export interface ShardOptions {
  /**
   * `iid` (default): a seeded shuffle cut into `n` shards of (almost) equal size, each with about the same
   * class mix as the whole.
   *
   * `label-skew`: non-IID, as in McMahan et al. (2017): the examples are sorted by label, cut into
   * `n × classesPerShard` contiguous pieces of (almost) equal size, and each shard receives
   * `classesPerShard` pieces chosen at random. Each shard is therefore dominated by about
   * `classesPerShard` classes (a piece straddling a class boundary adds a few examples of a neighbour).
   */
  split?: 'iid' | 'label-skew';
  /** Seed of the shuffles (default 42). */
  seed?: number;
  /** `label-skew` only: pieces, hence dominant classes, per shard (default 2). */
  classesPerShard?: number;
}

/**
 * Splits a data set among `n` simulated participants. Every shard is non-empty, so `n` may not exceed
 * the number of examples; shards are disjoint and together hold every example once.
 *
 * @example
 * const shards = shardDataset(mnist, 4, { split: 'label-skew', seed: 1 }); // 4 shards of ~2 digits each
 */
export function shardDataset(ds: Dataset, n: number, options: ShardOptions = {}): Dataset[] {
  const { split = 'iid', seed = 42, classesPerShard = 2 } = options;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of shards must be a positive integer, got ${n}`);
  if (n > ds.count)
    throw new DataError({ code: 'empty', message: `cannot split ${ds.count} examples into ${n} non-empty shards` });
  const order = seededPermutation(ds.count, seed);
  if (split === 'iid') return cut(order, n).map((indices) => subsetDataset(ds, indices));

  if (!ds.labels) throw new DataError({ code: 'unknown-label', message: 'a label-skew split needs labelled data' });
  if (ds.labelShape)
    throw new DataError({ code: 'unsupported-task', message: 'a label-skew split needs one class per example; text windows have none (use an iid split)' });
  const labels = ds.labels;
  // Stable sort of the shuffled order by label: random within a class, classes contiguous.
  const sorted = Int32Array.from([...order].sort((a, b) => labels[a] - labels[b]));
  // Fewer pieces when examples are scarce, so that no shard is left empty.
  const perShard = Math.max(1, Math.min(Math.floor(classesPerShard), Math.floor(ds.count / n)));
  const pieces = cut(sorted, n * perShard);
  const pieceOrder = shuffleInPlace(
    Array.from({ length: pieces.length }, (_, i) => i),
    mulberry32(seed ^ 0x5eed),
  );
  return Array.from({ length: n }, (_, shard) => {
    const mine = pieceOrder.slice(shard * perShard, (shard + 1) * perShard).map((p) => pieces[p]);
    const indices = new Int32Array(mine.reduce((total, piece) => total + piece.length, 0));
    let offset = 0;
    for (const piece of mine) {
      indices.set(piece, offset);
      offset += piece.length;
    }
    return subsetDataset(ds, indices);
  });
}

/** Cuts `indices` into `parts` contiguous pieces whose sizes differ by at most one. */
function cut(indices: Int32Array, parts: number): Int32Array[] {
  return Array.from({ length: parts }, (_, i) =>
    indices.subarray(Math.floor((i * indices.length) / parts), Math.floor(((i + 1) * indices.length) / parts)),
  );
}
