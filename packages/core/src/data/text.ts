import type { Task } from '../task/schema.js';
import type { Dataset } from './dataset.js';
import { DataError, type DataIssue, throwIfIssues } from './errors.js';
import type { Tokenizer } from './tokenizer.js';

/** A text file in memory: its name (for messages and `sources`) and its content. */
export interface TextFile {
  name: string;
  text: string;
}

/** The context length a text task trains with (`task.text.contextLength`). */
export function contextLengthOf(task: Task): number {
  if (task.dataType !== 'text' || !task.text)
    throw new DataError({ code: 'unsupported-task', message: `task "${task.id}" is not a text task (its data type is ${task.dataType})` });
  return task.text.contextLength;
}

const isTextName = (name: string) => /\.txt$/i.test(name);

/**
 * The text in a file's bytes, which must be UTF-8 (ASCII is) and not binary: a DataError names the file
 * otherwise (`wrong-format`), or when it holds no text (`empty`). A byte-order mark is dropped; Windows line
 * ends become `\n`, so the same text tokenizes alike whichever system saved it.
 */
export function decodeTextFile(name: string, bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DataError({ code: 'empty', file: name, message: `${name}: the file is empty` });
  // NUL never occurs in text and is the surest sign of a binary file (an image, a zip, a model).
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new DataError({ code: 'wrong-format', file: name, message: `${name}: a binary file, not text (a zero byte at offset ${nul})` });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError({
      code: 'wrong-format',
      file: name,
      message: `${name}: not UTF-8 text at byte ${firstInvalidUtf8(bytes)}; save the file as UTF-8 (e.g. "Save as… UTF-8" in a text editor)`,
    });
  }
  text = text.replace(/\r\n?/g, '\n');
  if (text.trim() === '') throw new DataError({ code: 'empty', file: name, message: `${name}: the file holds no text (only white space)` });
  return text;
}

/** Offset of the first byte that breaks UTF-8 (for the message; the fatal decoder does not say). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const extra = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (extra < 0) return i;
    for (let k = 1; k <= extra; k++) if (i + k >= bytes.length || (bytes[i + k] & 0xc0) !== 0x80) return i;
    i += extra + 1;
  }
  return bytes.length;
}

/** Options of {@link textDataset}. */
export interface TextDatasetOptions {
  /** Windows of this many tokens (default: the task's `text.contextLength`). */
  contextLength?: number;
}

/**
 * Text files as a language model's training examples. Each file is tokenized, the files are joined with
 * `<|endoftext|>` (in the order given), and the token stream is cut into windows of `contextLength` tokens:
 * window `k` reads tokens `kT … kT+T−1` (its features) and must predict tokens `kT+1 … kT+T` (its labels,
 * the next token at each position). Windows are disjoint and every token but the first is predicted exactly
 * once. The last window is padded: features with `<|endoftext|>`, labels with -1, which the loss and the
 * metrics skip (the model is causal, so padding after a position does not change its prediction).
 *
 * The result has `featureShape` and `labelShape` `[contextLength]`, token ids as float32 features, no
 * classes, and as `sources` each window's file and first token (`hamlet.txt, token 1`).
 *
 * @throws DataError naming each file that has fewer than 2 tokens (nothing to predict), or when no file is given.
 *
 * @example
 * const tokenizer = await loadTokenizer('gpt2');
 * const ds = textDataset(task, [{ name: 'a.txt', text: 'To be, or not to be' }], tokenizer);
 * // 1 window of 128: features [2514, 307, 11, 393, 407, 284, 50256, …], labels [307, 11, 393, 407, 284, 307, -1, …]
 */
export function textDataset(task: Task, files: readonly TextFile[], tokenizer: Tokenizer, options: TextDatasetOptions = {}): Dataset {
  const T = options.contextLength ?? contextLengthOf(task);
  if (files.length === 0) throw new DataError({ code: 'empty', message: 'no text files were given' });
  const tokenized = files.map(({ name, text }) => ({ name, tokens: tokenizer.encode(text.replace(/\r\n?/g, '\n')) }));
  throwIfIssues(tokenized.flatMap(({ name, tokens }) => tooShort(name, tokens.length)));
  return windows(tokenized, T, tokenizer.endOfText);
}

/** The issue of a file with fewer than 2 tokens, if it has. */
function tooShort(name: string, tokens: number): DataIssue[] {
  if (tokens >= 2) return [];
  const what = tokens === 0 ? 'no text' : 'only one token';
  return [{ code: 'empty', file: name, message: `${name}: ${what}; a language model needs at least 2 tokens to learn from` }];
}

/** Joins the files' tokens with `endOfText` and cuts the stream into windows (see {@link textDataset}). */
function windows(files: readonly { name: string; tokens: readonly number[] }[], T: number, endOfText: number): Dataset {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`the context length must be a positive integer, got ${T}`);
  // The stream, and where each file starts in it (for the windows' sources).
  const total = files.reduce((n, f) => n + f.tokens.length, 0) + files.length - 1;
  const stream = new Int32Array(total);
  const starts: number[] = [];
  let at = 0;
  files.forEach(({ tokens }, i) => {
    if (i > 0) stream[at++] = endOfText;
    starts.push(at);
    stream.set(tokens, at);
    at += tokens.length;
  });

  const count = Math.ceil((total - 1) / T);
  const features = new Float32Array(count * T).fill(endOfText);
  const labels = new Int32Array(count * T).fill(-1);
  const sources = new Array<string>(count);
  let file = 0;
  for (let k = 0; k < count; k++) {
    const start = k * T;
    const n = Math.min(T, total - 1 - start);
    for (let j = 0; j < n; j++) {
      features[k * T + j] = stream[start + j];
      labels[k * T + j] = stream[start + j + 1];
    }
    while (file + 1 < files.length && starts[file + 1] <= start) file++;
    sources[k] = `${files[file].name}, token ${Math.max(0, start - starts[file]) + 1}`;
  }
  return { features, featureShape: [T], labels, labelShape: [T], classes: [], count, sources };
}

/** Number of tokens a text data set predicts: its labels that are not padding. */
export function countTargetTokens(ds: Dataset): number {
  if (!ds.labels) return 0;
  let n = 0;
  for (const label of ds.labels) if (label >= 0) n++;
  return n;
}

/** What {@link analyzeTextEntries} makes of text files: the data set of the good ones, and each file's problems. */
export interface TextAnalysis {
  /** Per entry, in order: its issues and the windows that start in it. */
  results: { file: string; issues: DataIssue[]; examples: number }[];
  dataset?: Dataset;
}

/**
 * Checks and loads text entries for a text task: `.txt` files in UTF-8. Every bad file is reported (not
 * only the first); the good ones become one {@link textDataset}.
 */
export function analyzeTextEntries(entries: readonly { name: string; bytes: Uint8Array }[], task: Task, tokenizer: Tokenizer): TextAnalysis {
  const T = contextLengthOf(task);
  const results: TextAnalysis['results'] = entries.map(({ name }) => ({ file: name, issues: [], examples: 0 }));
  const good: { at: number; file: TextFile }[] = [];
  entries.forEach(({ name, bytes }, at) => {
    if (!isTextName(name)) {
      results[at].issues.push({ code: 'unsupported-file', file: name, message: `${name}: not a .txt file (this task learns from plain text files)` });
      return;
    }
    try {
      good.push({ at, file: { name, text: decodeTextFile(name, bytes) } });
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      results[at].issues.push(...error.issues);
    }
  });
  const tokenized = good.map(({ at, file }) => {
    const tokens = tokenizer.encode(file.text);
    results[at].issues.push(...tooShort(file.name, tokens.length));
    return { at, name: file.name, tokens };
  });
  const usable = tokenized.filter(({ at }) => results[at].issues.length === 0);
  if (usable.length === 0) return { results };
  const dataset = windows(usable, T, tokenizer.endOfText);
  // Windows per file: those whose first token lies in the file (or in the separator before it).
  let offset = 0;
  usable.forEach(({ at, tokens }, i) => {
    const end = offset + tokens.length + (i > 0 ? 1 : 0);
    results[at].examples = Math.max(0, Math.ceil(Math.min(end, dataset.count * T) / T) - Math.ceil(offset / T));
    offset = end;
  });
  return { results, dataset };
}
