import Papa from 'papaparse';
import { DataError, type DataIssue, throwIfIssues } from './errors.js';

/**
 * Reads a `filename,label` CSV file (a header line `filename,label` is optional) into a map from file
 * name to label. Names may be bare (`img001.png`) or paths (`train/img001.png`); see {@link findLabel}.
 *
 * @example
 * labelsFromCsv('filename,label\nimg001.png,7\n') // Map { 'img001.png' => '7' }
 */
export function labelsFromCsv(text: string, options: { source?: string } = {}): Map<string, string> {
  const { source: file = 'labels.csv' } = options;
  const rows = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { skipEmptyLines: 'greedy' }).data;
  const labels = new Map<string, string>();
  const issues: DataIssue[] = [];
  rows.forEach((row, i) => {
    const [name = '', label = ''] = row.map((v) => v.trim());
    if (i === 0 && name.toLowerCase() === 'filename' && label.toLowerCase() === 'label') return;
    if (name === '' || label === '')
      // Line numbers are approximate only when a quoted name spans lines, which file names do not.
      issues.push({ code: 'malformed', file, message: `${file}, row ${i + 1}: expected a file name and a label, found "${row.join(',')}"` });
    else labels.set(normalizePath(name), label);
  });
  throwIfIssues(issues);
  if (labels.size === 0) throw new DataError({ code: 'empty', file, message: `${file}: no file name and label pairs` });
  return labels;
}

function normalizePath(name: string): string {
  return name.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/**
 * The label of the image at `path` in a map read by {@link labelsFromCsv}: the entry for its whole path,
 * else for its shorter trailing parts (`a/b/c.png`, `b/c.png`, `c.png`), so that a labels file may list
 * paths relative to its own folder or bare names.
 */
export function findLabel(labels: ReadonlyMap<string, string>, path: string): string | undefined {
  const parts = normalizePath(path).split('/');
  for (let i = 0; i < parts.length; i++) {
    const label = labels.get(parts.slice(i).join('/'));
    if (label !== undefined) return label;
  }
  return undefined;
}
