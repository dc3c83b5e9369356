import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Task } from '../../task/schema.js';
import type { Dataset } from '../dataset.js';
import { DataError } from '../errors.js';
import { loadDataEntries, type DataEntry, type LoadDataOptions } from '../files.js';
import { nodeImageDecoder } from './image-decode-node.js';

/** Files in a data folder that are documentation, not data (e.g. CIFAR-10's `batches.meta.txt`, `readme.html`). */
const skipped = /(^\.|\.(md|html?|json|meta\.txt)$|^readme(\..*)?$)/i;

async function walk(folder: string, base = folder): Promise<string[]> {
  const found: string[] = [];
  for (const item of await readdir(folder, { withFileTypes: true })) {
    if (skipped.test(item.name)) continue;
    const full = path.join(folder, item.name);
    if (item.isDirectory()) found.push(...(await walk(full, base)));
    else if (item.isFile()) found.push(full);
  }
  return found;
}

/**
 * Loads a task's data from a file or a folder: a CSV file (tabular tasks), or for image tasks a folder of
 * class folders (`7/img001.png`), a folder of images with a `filename,label` CSV, an IDX pair
 * (`train-images-idx3-ubyte` + `train-labels-idx1-ubyte`, gzipped or not) or CIFAR-10 `.bin` batches (a
 * folder loads all of them: pass one file, e.g. `test_batch.bin`, to load only it). Files are read in
 * name order, so the result is the same on every machine. Hidden files and documentation (`.md`, `.html`,
 * `.json`, `readme`, `*.meta.txt`) in folders are skipped.
 *
 * @example
 * const ds = await loadDataFromPath('data/mnist-png', mnist); // data/mnist-png/0/*.png … 9/*.png
 */
export async function loadDataFromPath(target: string, task: Task, options: LoadDataOptions = {}): Promise<Dataset> {
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new DataError({ code: 'not-found', file: target, message: `${target}: no such file or folder` });
  const folder = info.isDirectory() ? target : path.dirname(target);
  const files = info.isDirectory() ? (await walk(target)).sort() : [target];
  if (files.length === 0) throw new DataError({ code: 'empty', file: target, message: `${target}: the folder holds no data files` });
  const entries: DataEntry[] = await Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(file);
      // Relative paths with forward slashes: the folder names are the labels, as in a browser's folder pick.
      return { name: path.relative(folder, file).split(path.sep).join('/'), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
    }),
  );
  return loadDataEntries(entries, task, { decode: nodeImageDecoder, ...options });
}
