import Papa from 'papaparse';

/**
 * The header and the first `rows` records of CSV text, read as {@link parseTabular} reads a file: the
 * delimiter detected (`,` `;` tab `|`), quoted values (with delimiters, quotes and line breaks inside)
 * kept whole, a byte-order mark and blank lines skipped. Meant for a preview of a file's start (text
 * cut mid-record gives a shorter last record).
 *
 * @example
 * previewCsv('name;age\n"Smith; John";42\n', 5) // [['name', 'age'], ['Smith; John', '42']]
 */
export function previewCsv(text: string, rows = 5): string[][] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records = Papa.parse<string[]>(body, { preview: rows + 1, skipEmptyLines: 'greedy' }).data;
  return records.slice(0, rows + 1);
}
