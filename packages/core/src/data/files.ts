import type { Task } from '../task/schema.js';
import { datasetFromCifarBatch } from './cifar.js';
import type { Dataset } from './dataset.js';
import { DataError, type DataIssue, issuesOf } from './errors.js';
import { gunzip, isGzip } from './gzip.js';
import { datasetFromIdx, isIdx, readIdx, type IdxArray } from './idx.js';
import { imageFormat, readImages, type ImageDecoder } from './image.js';
import { findLabel, labelsFromCsv } from './labels-csv.js';
import { concatDatasets } from './operations.js';
import { imageGeometry } from './pixels.js';
import { parseTabular } from './tabular.js';
import { analyzeTextEntries } from './text.js';
import { loadTokenizer } from './tokenizer.js';

/** A data file in memory; `name` is its path relative to the folder the user picked (or its bare name). */
export interface DataEntry {
  name: string;
  bytes: Uint8Array;
}

/** Options of {@link loadDataEntries} and {@link checkDataEntries}. */
export interface LoadDataOptions {
  /** Decodes PNG and JPEG files; needed when there are images. */
  decode?: ImageDecoder;
  /** Whether labels are needed (training, evaluation; default) or not (prediction). */
  requireLabels?: boolean;
}

/** What one file contributes, for a per-file preview: its example count, or why it is refused. */
export interface DataFileReport {
  file: string;
  /** The problems with this file, one per line (up to 10 listed); absent when the file is good. */
  error?: string;
  /** Examples this file adds (0 for a labels file and for a bad file). */
  examples: number;
}

interface EntryResult {
  file: string;
  issues: DataIssue[];
  examples: number;
}

interface Analysis {
  results: EntryResult[];
  /** The data of the good files, in the order of the entries. */
  parts: { at: number; dataset: Dataset }[];
}

const textDecoder = new TextDecoder();
const isCsvName = (name: string) => /\.(csv|tsv|txt)$/i.test(name);

/** Runs `read` and turns a failure into issues for `file`, so that one bad file does not hide the others. */
function attempt<T>(file: string, read: () => T): { value?: T; issues: DataIssue[] } {
  try {
    return { value: read(), issues: [] };
  } catch (error) {
    return { issues: issuesOf(error, { code: 'wrong-format', file }) };
  }
}

function analyzeTabular(entries: DataEntry[], task: Task, requireLabels: boolean): Analysis {
  const parts: Analysis['parts'] = [];
  const results = entries.map(({ name, bytes }, at): EntryResult => {
    if (!isCsvName(name))
      return {
        file: name,
        examples: 0,
        issues: [{ code: 'unsupported-file', file: name, message: `${name}: not a CSV file (this task expects tabular data in CSV)` }],
      };
    const { value, issues } = attempt(name, () => parseTabular(textDecoder.decode(bytes), task, { requireLabels, source: name }));
    if (value) parts.push({ at, dataset: value });
    return { file: name, issues, examples: value?.count ?? 0 };
  });
  return { results, parts };
}

/** The labels file an images file of an IDX pair goes with: `train-images-idx3-ubyte` → `train-labels-idx1-ubyte`. */
function idxLabelsName(imagesName: string): string {
  return imagesName.replace(/images/g, 'labels').replace(/idx3/g, 'idx1');
}

async function analyzeImages(entries: DataEntry[], task: Task, options: LoadDataOptions): Promise<Analysis> {
  const { decode, requireLabels = true } = options;
  const geometry = imageGeometry(task); // also refuses a task that is not an image task, before any work
  const results: EntryResult[] = entries.map(({ name }) => ({ file: name, issues: [], examples: 0 }));
  const parts: Analysis['parts'] = [];
  const fail = (at: number, issues: DataIssue[]) => results[at].issues.push(...issues);

  // Sort the files by kind, recognised by content (a CSV by its name).
  const labelFiles: number[] = [];
  const images: number[] = [];
  const idx = new Map<number, IdxArray>();
  entries.forEach(({ name, bytes }, at) => {
    if (imageFormat(bytes)) images.push(at);
    else if (isIdx(bytes)) {
      const { value, issues } = attempt(name, () => readIdx(bytes, name));
      if (value) idx.set(at, value);
      fail(at, issues);
    } else if (/\.bin$/i.test(name)) {
      const { value, issues } = attempt(name, () => datasetFromCifarBatch(bytes, task, { source: name }));
      if (value) parts.push({ at, dataset: value });
      results[at].examples = value?.count ?? 0;
      fail(at, issues);
    } else if (/\.(csv|tsv)$/i.test(name)) labelFiles.push(at);
    // Anything else is refused as an image would be: what else could the user have meant it to be?
    else images.push(at);
  });

  const labels = new Map<string, string>();
  for (const at of labelFiles) {
    const { value, issues } = attempt(entries[at].name, () => labelsFromCsv(textDecoder.decode(entries[at].bytes), { source: entries[at].name }));
    value?.forEach((label, name) => labels.set(name, label));
    fail(at, issues);
  }

  // IDX files: images (3 or 4 dimensions) with their labels (1 dimension), paired by name, or the only two.
  const idxImages = [...idx].filter(([, a]) => a.dims.length >= 3);
  const idxLabels = [...idx].filter(([, a]) => a.dims.length === 1);
  const pairedLabels = new Set<number>();
  for (const [at, array] of idxImages) {
    const name = entries[at].name;
    const match =
      idxLabels.find(([l]) => entries[l].name === idxLabelsName(name)) ?? (idxImages.length === 1 && idxLabels.length === 1 ? idxLabels[0] : undefined);
    if (!match && requireLabels) {
      fail(at, [{ code: 'missing-value', file: name, message: `${name}: no labels file for these images (e.g. ${idxLabelsName(name)})` }]);
      continue;
    }
    if (match) pairedLabels.add(match[0]);
    const { value, issues } = attempt(name, () =>
      datasetFromIdx(array, match ? match[1] : null, task, { imagesFile: name, labelsFile: match && entries[match[0]].name }),
    );
    if (value) parts.push({ at, dataset: value });
    results[at].examples = value?.count ?? 0;
    fail(at, issues);
  }
  for (const [at] of idx)
    if (!idxImages.some(([i]) => i === at) && !pairedLabels.has(at))
      fail(at, [{ code: 'wrong-format', file: entries[at].name, message: `${entries[at].name}: no images file for these labels` }]);

  if (images.length > 0) {
    if (!decode) throw new Error('an image decoder is needed to load images (browserImageDecoder or nodeImageDecoder)');
    const files = images.map((at) => ({ ...entries[at], label: findLabel(labels, entries[at].name) }));
    const batch = await readImages(files, task, { decode, requireLabels });
    const size = geometry.width * geometry.height * geometry.channels;
    images.forEach((at, i) => {
      const issue = batch.issues[i];
      if (issue) return fail(at, [issue]);
      results[at].examples = 1;
      parts.push({
        at,
        dataset: {
          features: batch.features.subarray(i * size, (i + 1) * size),
          featureShape: [geometry.height, geometry.width, geometry.channels],
          labels: batch.labelled ? batch.labels.subarray(i, i + 1) : null,
          classes: [...(task.image?.labels ?? [])],
          count: 1,
          sources: [entries[at].name],
        },
      });
    });
  }
  return { results, parts };
}

/** Text files become one data set (the files are joined into one token stream): one part, at the first good file. */
async function analyzeText(entries: DataEntry[], task: Task): Promise<Analysis> {
  const tokenizer = await loadTokenizer(task.text?.tokenizer);
  const { results, dataset } = analyzeTextEntries(entries, task, tokenizer);
  const at = results.findIndex((r) => r.issues.length === 0);
  return { results, parts: dataset ? [{ at, dataset }] : [] };
}

async function analyze(entries: DataEntry[], task: Task, options: LoadDataOptions): Promise<Analysis> {
  // Compressed files (e.g. Fashion-MNIST's `*.gz` IDX files) are read as what they contain.
  const unpacked = await Promise.all(
    entries.map(async (e) => (isGzip(e.bytes) ? { name: e.name.replace(/\.gz$/i, ''), bytes: await gunzip(e.bytes).catch(() => e.bytes) } : e)),
  );
  const analysis =
    task.dataType === 'tabular'
      ? analyzeTabular(unpacked, task, options.requireLabels ?? true)
      : task.dataType === 'image'
        ? await analyzeImages(unpacked, task, options)
        : task.dataType === 'text'
          ? await analyzeText(unpacked, task)
          : undefined;
  if (!analysis)
    throw new DataError({ code: 'unsupported-task', message: `task "${task.id}": loading ${task.dataType} data files is not supported yet` });
  // Report under the names the user gave, even for decompressed files.
  analysis.results.forEach((r, i) => (r.file = entries[i].name));
  return analysis;
}

/**
 * Loads the data files of a task, choosing by the task's data type and each file's content: CSV files
 * for tabular tasks; for image tasks PNG/JPEG images (labelled by folder or by a `filename,label` CSV among
 * the files), IDX pairs (MNIST format, gzipped or not) and CIFAR-10 `.bin` batches; for text tasks UTF-8
 * `.txt` files, joined in the order given and cut into token windows (`textDataset`). Any bad file stops the
 * load: one {@link DataError} lists the problems of every bad file.
 */
export async function loadDataEntries(entries: DataEntry[], task: Task, options: LoadDataOptions = {}): Promise<Dataset> {
  if (entries.length === 0) throw new DataError({ code: 'empty', message: 'no data files were given' });
  const { results, parts } = await analyze(entries, task, options);
  const issues = results.flatMap((r) => r.issues);
  if (issues.length > 0) throw new DataError(issues);
  if (parts.length === 0) throw new DataError({ code: 'empty', message: `no examples in ${entries.map((e) => e.name).join(', ')}` });
  return concatDatasets(parts.sort((a, b) => a.at - b.at).map((p) => p.dataset));
}

/** Checks data files one by one without stopping at the first bad one: what each adds, or its problems. */
export async function checkDataEntries(entries: DataEntry[], task: Task, options: LoadDataOptions = {}): Promise<DataFileReport[]> {
  const { results } = await analyze(entries, task, options);
  return results.map(({ file, issues, examples }) => (issues.length > 0 ? { file, error: new DataError(issues).message, examples: 0 } : { file, examples }));
}
