/** Why data was refused. Stable: the UI and tests switch on it. */
export type DataErrorCode =
  | 'missing-column'
  | 'not-numeric'
  | 'unknown-label'
  | 'missing-value'
  | 'malformed'
  | 'wrong-image-size'
  | 'unreadable-image'
  | 'wrong-format'
  | 'empty'
  | 'not-found'
  | 'unsupported-file'
  | 'unsupported-task'
  | 'not-bundled';

/** One problem found in the data, located as precisely as possible. */
export interface DataIssue {
  code: DataErrorCode;
  /** The complete, human-readable message, e.g. `data.csv, line 7, column "Age": "abc" is not a number`. */
  message: string;
  file?: string;
  /** 1-based line in the file (the header is line 1). */
  line?: number;
  column?: string;
}

/** At most this many problems are listed in an error's message; `issues` keeps them all. */
export const MAX_LISTED_ISSUES = 10;

/**
 * Data that does not fit the task. When several rows or files are bad, one `DataError` reports them all:
 * its message lists up to {@link MAX_LISTED_ISSUES} problems, one per line (the first line is the first
 * problem), and `issues` holds every one. `code`, `file`, `line` and `column` are those of the first problem.
 */
export class DataError extends Error {
  readonly code: DataErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: string;
  readonly issues: DataIssue[];

  constructor(issue: DataIssue | DataIssue[]) {
    const issues = Array.isArray(issue) ? issue : [issue];
    if (issues.length === 0) throw new RangeError('DataError needs at least one issue');
    super(formatIssueList(issues));
    this.name = 'DataError';
    const [first] = issues;
    this.code = first.code;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.issues = issues;
  }
}

function formatIssueList(issues: DataIssue[]): string {
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => i.message);
  const more = issues.length - listed.length;
  if (more > 0) listed.push(`… and ${more} more problem${more === 1 ? '' : 's'}`);
  return listed.join('\n');
}

/** Throws one {@link DataError} for all `issues`, if there are any. */
export function throwIfIssues(issues: DataIssue[]): void {
  if (issues.length > 0) throw new DataError(issues);
}

/** The issues behind any error: a DataError's own, or one `unreadable`-style issue for anything else. */
export function issuesOf(error: unknown, fallback: Omit<DataIssue, 'message'>): DataIssue[] {
  if (error instanceof DataError) return error.issues;
  const message = error instanceof Error ? error.message : String(error);
  return [{ ...fallback, message: fallback.file ? `${fallback.file}: ${message}` : message }];
}
