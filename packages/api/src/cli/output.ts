import type { DoneEvent, TrainingEvent } from '@disco/core';
import { CliError, UsageError } from './args.js';

/**
 * How the `disco` commands talk to the user: with `--json`, every event is one JSON line with a `type`
 * (the last one `{"type":"done",...}` or `{"type":"error",...}`); otherwise readable progress lines.
 * Errors always go to stderr as one `disco: <message>` line.
 */

/** Where output goes; tests pass their own to capture it. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Standard output and standard error (synchronous for files and pipes on Linux, so nothing is lost at exit). */
export const processIo: CliIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** A training event, or a command's own event (e.g. simulate's per-round test accuracy). */
export type CliEvent = TrainingEvent | { type: string; [key: string]: unknown };

/**
 * A session's {@link DoneEvent} as the CLI prints it: one flat object with the fields scripts read
 * (`accuracy`, `loss`, `bytesSent`, `bytesReceived`, `rounds`, `stopped`…), plus the command's `extra`.
 */
export function doneLine(done: DoneEvent, extra: Record<string, unknown> = {}): CliEvent {
  const { type, metrics, stats, examples, ...rest } = done;
  return {
    type,
    ...metrics,
    ...rest,
    ...(examples && { trainExamples: examples.train, validationExamples: examples.validation }),
    bytesSent: stats.bytesSent,
    bytesReceived: stats.bytesReceived,
    ...(stats.signalling && { signallingBytes: stats.signalling.bytesSent + stats.signalling.bytesReceived }),
    ...extra,
  };
}

/** How a {@link Reporter} prints. */
export interface ReporterOptions {
  json: boolean;
  io?: CliIo;
  /** Print `batch` events (many lines); off unless asked for. */
  batches?: boolean;
}

/** Prints events and errors in the format chosen on the command line. */
export class Reporter {
  readonly json: boolean;
  private readonly io: CliIo;
  private readonly batches: boolean;

  constructor({ json, io = processIo, batches = false }: ReporterOptions) {
    this.json = json;
    this.io = io;
    this.batches = batches;
  }

  /** Prints one event (a JSON line, or a readable line; readable `batch` lines only when asked for). */
  event(event: CliEvent): void {
    if (event.type === 'batch' && !this.batches) return;
    if (this.json) this.io.out(JSON.stringify(event, jsonSafe));
    else {
      const line = describeEvent(event);
      if (line !== null) this.io.out(line);
    }
  }

  /** Prints a failure: `disco: <message>` on stderr (plus the usage for usage errors) and, with `--json`, an error event. */
  error(error: unknown): void {
    const { code, message } = errorInfo(error);
    if (this.json) this.io.out(JSON.stringify({ type: 'error', code, message }));
    this.io.err(`disco: ${message}`);
    if (error instanceof UsageError) this.io.err(`\n${error.usage}`);
  }
}

/** The code and message of any thrown value, as printed by {@link Reporter.error}. */
export function errorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : error.name === 'Error' ? 'error' : kebab(error.name), message: error.message };
  }
  return { code: 'error', message: String(error) };
}

/** One readable line for an event, or null for events not worth a line. */
export function describeEvent(event: CliEvent): string | null {
  const e = event as Record<string, unknown>;
  const prefix = typeof e.client === 'number' ? `[client ${e.client}] ` : '';
  const round = typeof e.round === 'number' ? `round ${e.round} · ` : '';
  switch (event.type) {
    case 'batch':
      return `${prefix}${round}epoch ${String(e.epoch)} batch ${String(e.batch)}/${String(e.batches)}${metrics(e)}`;
    case 'epoch':
      return `${prefix}${round}epoch ${String(e.epoch)}/${String(e.epochs)}${metrics(e)}`;
    case 'round': {
      const m = (e.metrics ?? {}) as Record<string, unknown>;
      const privacy = typeof e.epsilon === 'number' ? ` · ε ${fmt(e.epsilon)} (δ ${String(e.delta)})` : '';
      const extra = `${typeof e.testAccuracy === 'number' ? ` · test accuracy ${fmt(e.testAccuracy)}` : ''}${privacy}`;
      return `${prefix}round ${String(e.round)}/${String(e.rounds)} closed · model v${String(e.modelVersion)} · ${String(e.participants)} participants${metrics(m)}${extra}`;
    }
    case 'participants':
      return `${prefix}${round}participants: ${String(e.count)}`;
    case 'log':
      return `${prefix}${String(e.message)}`;
    case 'done': {
      const { type: _type, ...rest } = e;
      const parts = Object.entries(rest)
        .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
        .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : String(v)}`);
      return `${prefix}done${parts.length ? ` · ${parts.join(' · ')}` : ''}`;
    }
    case 'error':
      return `${prefix}error: ${String(e.message)}`;
    default:
      return null;
  }
}

function metrics(e: Record<string, unknown>): string {
  const names: [string, string][] = [
    ['loss', 'loss'],
    ['accuracy', 'acc'],
    ['valLoss', 'val_loss'],
    ['valAccuracy', 'val_acc'],
  ];
  const parts = names.filter(([k]) => typeof e[k] === 'number').map(([k, label]) => `${label} ${fmt(e[k])}`);
  return parts.length ? `  ${parts.join('  ')}` : '';
}

function fmt(value: unknown): string {
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function kebab(name: string): string {
  return name
    .replace(/Error$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase() || 'error';
}

// Typed arrays and NaN have no faithful JSON form: arrays become lists, non-finite numbers null.
function jsonSafe(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}
