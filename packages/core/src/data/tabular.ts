import Papa from 'papaparse';
import type { DerivingStep, PreprocessingStep, Task } from '../task/schema.js';
import type { Dataset } from './dataset.js';
import { DataError, type DataIssue, throwIfIssues } from './errors.js';

/** Options of {@link parseTabular}. */
export interface ParseTabularOptions {
  /**
   * Whether the output column must be present (training, evaluation). Default true. When false
   * (prediction), labels are read if the column is there and filled on every row, else `labels` is null.
   */
  requireLabels?: boolean;
  /** The file name used in messages. Default `data.csv`. */
  source?: string;
}

type TabularSpec = NonNullable<Task['tabular']>;
type ColumnStep = Extract<PreprocessingStep, { column: string }>;

/** Where a value is, for messages: `data.csv, line 7, column "Age"`. */
interface Cell {
  file: string;
  line: number;
  column: string;
}

/** Turns one raw CSV value into `width` feature values, or reports why it cannot. */
interface ColumnEncoder {
  column: string;
  /** Feature names, e.g. `Sex=female`, `Sex=male` for a one-hot column, `Age` otherwise. */
  names: string[];
  encode(raw: string, cell: Cell, out: Float32Array, offset: number, issues: DataIssue[]): void;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function tabularSpec(task: Task): TabularSpec {
  if (task.dataType !== 'tabular' || !task.tabular)
    throw new DataError({ code: 'unsupported-task', message: `task "${task.id}" is not a tabular task` });
  return task.tabular;
}

function issueAt(cell: Cell, code: DataIssue['code'], reason: string): DataIssue {
  return { code, file: cell.file, line: cell.line, column: cell.column, message: `${cell.file}, line ${cell.line}, column "${cell.column}": ${reason}` };
}

/**
 * Builds the encoder of one input column from the task's steps for it, applied in order. A one-hot step
 * ends the column's pipeline (it turns a value into a vector); a value missing from its category list
 * encodes as all zeros, so that data with a category the task author did not foresee still loads.
 */
function columnEncoder(column: string, steps: ColumnStep[]): ColumnEncoder {
  const oneHotAt = steps.findIndex((s) => s.type === 'one-hot');
  if (oneHotAt >= 0 && oneHotAt < steps.length - 1)
    throw new DataError({
      code: 'unsupported-task',
      message: `column "${column}": a one-hot step must be the column's last preprocessing step`,
    });
  const oneHot = oneHotAt >= 0 ? (steps[oneHotAt] as Extract<ColumnStep, { type: 'one-hot' }>) : undefined;
  const names = oneHot ? oneHot.categories.map((c) => `${column}=${c}`) : [column];

  const toNumber = (value: string | number, cell: Cell, issues: DataIssue[]): number | undefined => {
    if (typeof value === 'number') return value;
    if (value === '') {
      issues.push(issueAt(cell, 'missing-value', 'missing value and the task has no fill-missing step for this column'));
      return undefined;
    }
    if (!NUMBER.test(value)) {
      issues.push(issueAt(cell, 'not-numeric', `"${value}" is not a number`));
      return undefined;
    }
    return Number(value);
  };

  return {
    column,
    names,
    encode(raw, cell, out, offset, issues) {
      let value: string | number = raw.trim();
      for (const step of steps) {
        switch (step.type) {
          case 'fill-missing':
            if (value === '') value = step.value;
            break;
          case 'one-hot': {
            if (value === '') {
              issues.push(issueAt(cell, 'missing-value', 'missing value and the task has no fill-missing step for this column'));
              return;
            }
            const index = step.categories.indexOf(String(value));
            for (let i = 0; i < step.categories.length; i++) out[offset + i] = i === index ? 1 : 0;
            return;
          }
          case 'standardize':
          case 'min-max':
          case 'log1p': {
            const x = toNumber(value, cell, issues);
            if (x === undefined) return;
            if (step.type === 'standardize') value = (x - step.mean) / step.std;
            else if (step.type === 'min-max') value = (x - step.min) / (step.max - step.min);
            else if (x <= -1) {
              issues.push(issueAt(cell, 'not-numeric', `${x} cannot be log-transformed (log1p needs values above -1)`));
              return;
            } else value = Math.log1p(x);
            break;
          }
        }
      }
      const x = toNumber(value, cell, issues);
      if (x !== undefined) out[offset] = x;
    },
  };
}

/** The raw text of one input column on one row: read from the file, or derived from its columns. */
type ColumnReader = (values: string[], line: number, issues: DataIssue[]) => string | undefined;

/** An input column's encoder and where its raw value comes from. */
interface InputColumn {
  encoder: ColumnEncoder;
  read: ColumnReader;
}

/** How the input columns are read from a file whose header is `names`, and the file columns they need. */
interface TabularPlan {
  /** The columns the file must hold, in the task's order: input columns that are not derived, then `from` columns. */
  fileColumns: string[];
  /** Builds the readers for a header (file columns known to be present). */
  inputs(names: string[], file: string): InputColumn[];
}

function isDeriving(step: PreprocessingStep): step is DerivingStep {
  return 'into' in step;
}

function sources(step: DerivingStep): string[] {
  return typeof step.from === 'string' ? [step.from] : step.from;
}

/**
 * Checks the task's deriving steps: each derives an input column, at most one step per column, and reads
 * only the file's columns (a derived column is not derived further).
 */
function derivations(task: Task): Map<string, DerivingStep> {
  const inputColumns = tabularSpec(task).inputColumns;
  const derived = new Map<string, DerivingStep>();
  const unsupported = (message: string) => new DataError({ code: 'unsupported-task', message });
  for (const step of task.preprocessing.filter(isDeriving)) {
    if (!inputColumns.includes(step.into))
      throw unsupported(`the "${step.type}" step derives "${step.into}", which is not one of the input columns (${inputColumns.join(', ')})`);
    if (derived.has(step.into)) throw unsupported(`column "${step.into}" is derived by more than one step`);
    derived.set(step.into, step);
  }
  for (const step of derived.values())
    for (const from of sources(step))
      if (derived.has(from)) throw unsupported(`the "${step.type}" step reads "${from}", a derived column: derive from the file's columns only`);
  return derived;
}

/** Whether a problem was reported at this line and column (issues arrive in line order). */
function reported(issues: DataIssue[], line: number, column: string): boolean {
  for (let i = issues.length - 1; i >= 0 && issues[i].line === line; i--) if (issues[i].column === column) return true;
  return false;
}

/** Reads one derived value from the raw values of its `from` columns (at `at` in the row). */
function deriver(step: DerivingStep, at: number[], file: string): ColumnReader {
  switch (step.type) {
    case 'extract': {
      const regex = new RegExp(step.pattern, 'u');
      return (values) => {
        const match = regex.exec(values[at[0]].trim());
        return match ? (match.length > 1 ? (match[1] ?? '') : match[0]).trim() : '';
      };
    }
    case 'is-missing':
      return (values) => (values[at[0]].trim() === '' ? '1' : '0');
    case 'sum':
      return (values, line, issues) => {
        let total = 0;
        let ok = true;
        step.from.forEach((column, i) => {
          const raw = values[at[i]].trim();
          if (NUMBER.test(raw)) {
            total += Number(raw);
            return;
          }
          ok = false;
          // A cell that is also an input column may have been reported already: once is enough.
          if (reported(issues, line, column)) return;
          const cell = { file, line, column };
          if (raw === '') issues.push(issueAt(cell, 'missing-value', `missing value, needed for the sum "${step.into}"`));
          else issues.push(issueAt(cell, 'not-numeric', `"${raw}" is not a number`));
        });
        return ok ? String(total) : undefined;
      };
  }
}

function plan(task: Task): TabularPlan {
  const { inputColumns } = tabularSpec(task);
  const derived = derivations(task);
  const steps = task.preprocessing.filter((s): s is ColumnStep => 'column' in s);
  const encoders = inputColumns.map((column) => columnEncoder(column, steps.filter((s) => s.column === column)));
  const fileColumns = inputColumns.filter((c) => !derived.has(c));
  for (const step of derived.values()) for (const from of sources(step)) if (!fileColumns.includes(from)) fileColumns.push(from);
  return {
    fileColumns,
    inputs(names, file) {
      return encoders.map((encoder) => {
        const step = derived.get(encoder.column);
        if (step) return { encoder, read: deriver(step, sources(step).map((c) => names.indexOf(c)), file) };
        const at = names.indexOf(encoder.column);
        return { encoder, read: (values) => values[at] };
      });
    },
  };
}

function encoders(task: Task): ColumnEncoder[] {
  return plan(task).inputs([], '').map((input) => input.encoder);
}

/**
 * The columns a CSV file must hold for a tabular task (without the output column): the input columns,
 * except those that a step derives, which are replaced by the columns they are derived from.
 *
 * @example
 * tabularFileColumns(titanic) // ['Pclass', 'Sex', 'Age', 'SibSp', 'Parch', 'Fare', 'Embarked', 'Name', 'Cabin']
 */
export function tabularFileColumns(task: Task): string[] {
  return plan(task).fileColumns;
}

/**
 * The names of the feature vector's entries, in order: the input columns, one-hot columns expanded to
 * `column=category`. Its length is the model's input width.
 *
 * @example
 * tabularFeatureNames(titanic) // ['Pclass=1', 'Pclass=2', 'Pclass=3', 'Sex=female', 'Sex=male', 'Age', …]
 */
export function tabularFeatureNames(task: Task): string[] {
  return encoders(task).flatMap((e) => e.names);
}

/** A CSV row with the line it starts on. */
interface Row {
  values: string[];
  line: number;
}

/** Parses CSV text into rows, with line numbers that stay right across quoted multi-line values and blank lines. */
function readRows(text: string, file: string, issues: DataIssue[]): Row[] {
  const rows: Row[] = [];
  let line = 1;
  let cursor = 0;
  Papa.parse<string[]>(text, {
    skipEmptyLines: false,
    step: (result) => {
      const start = line;
      const end = result.meta.cursor;
      // The newlines consumed by this row (its own, its terminator, those inside quoted values).
      for (let i = cursor; i < end; i++) if (text.charCodeAt(i) === 10) line++;
      cursor = end;
      for (const error of result.errors)
        if (error.type !== 'Delimiter') issues.push({ code: 'malformed', file, line: start, message: `${file}, line ${start}: ${error.message}` });
      // Blank lines, and rows of empty values that spreadsheets leave at the end, carry no data.
      if (result.data.every((v) => v.trim() === '')) return;
      rows.push({ values: result.data, line: start });
    },
  });
  return rows;
}

/**
 * Parses a CSV file for a tabular task, checks it against the task and applies the task's preprocessing.
 *
 * The header must name every input column (and the output column when labels are required); a derived
 * input column is read from the columns it is derived from instead (see {@link tabularFileColumns}). Other
 * columns are ignored and order does not matter. Each example's feature vector is the input columns in the task's
 * order, one-hot columns expanded (see {@link tabularFeatureNames}). Every problem in the file is collected
 * and thrown as one {@link DataError}, e.g.
 * `data.csv, line 7, column "Age": "abc" is not a number`.
 *
 * @example
 * const ds = parseTabular(await file.text(), titanicTask, { source: file.name });
 */
export function parseTabular(csvText: string, task: Task, options: ParseTabularOptions = {}): Dataset {
  const { requireLabels = true, source: file = 'data.csv' } = options;
  const spec = tabularSpec(task);
  const tabularPlan = plan(task);
  const text = csvText.charCodeAt(0) === 0xfeff ? csvText.slice(1) : csvText;
  if (text.trim() === '') throw new DataError({ code: 'empty', file, message: `${file}: the file is empty` });

  const issues: DataIssue[] = [];
  const [header, ...rows] = readRows(text, file, issues);
  throwIfIssues(issues);
  const names = header.values.map((v) => v.trim());
  const expected = [...tabularPlan.fileColumns, ...(requireLabels ? [spec.outputColumn] : [])];
  const missing = expected.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    const list = missing.map((c) => `"${c}"`).join(', ');
    throw new DataError({
      code: 'missing-column',
      file,
      column: missing[0],
      message: `${file}: missing required column${missing.length > 1 ? 's' : ''} ${list} (expected columns: ${expected.join(', ')})`,
    });
  }
  if (rows.length === 0) throw new DataError({ code: 'empty', file, message: `${file}: no data rows after the header` });

  const inputs = tabularPlan.inputs(names, file);
  const outputIndex = names.indexOf(spec.outputColumn);
  const width = inputs.reduce((n, input) => n + input.encoder.names.length, 0);
  const features = new Float32Array(rows.length * width);
  const labels = outputIndex >= 0 ? new Int32Array(rows.length) : null;
  let unlabelled = false;

  const needed = Math.max(...tabularPlan.fileColumns.map((c) => names.indexOf(c)), outputIndex) + 1;
  rows.forEach(({ values, line }, r) => {
    if (values.length < needed) {
      issues.push({
        code: 'malformed',
        file,
        line,
        message: `${file}, line ${line}: the row has ${values.length} values but the header has ${names.length} columns`,
      });
      return;
    }
    let offset = r * width;
    for (const { encoder, read } of inputs) {
      const raw = read(values, line, issues);
      if (raw !== undefined) encoder.encode(raw, { file, line, column: encoder.column }, features, offset, issues);
      offset += encoder.names.length;
    }
    if (!labels) return;
    const cell = { file, line, column: spec.outputColumn };
    const label = values[outputIndex].trim();
    if (label === '') {
      if (requireLabels) issues.push(issueAt(cell, 'missing-value', 'missing label'));
      unlabelled = true;
      return;
    }
    const index = spec.labels.indexOf(label);
    if (index < 0) issues.push(issueAt(cell, 'unknown-label', `unknown label "${label}" (expected one of: ${spec.labels.join(', ')})`));
    labels[r] = index;
  });
  throwIfIssues(issues);

  return {
    features,
    featureShape: [width],
    labels: unlabelled ? null : labels,
    classes: [...spec.labels],
    count: rows.length,
    sources: rows.map((row) => `${file}, line ${row.line}`),
  };
}
