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
  /** Replaces the one-line progress bar ('' clears it); absent where no terminal shows it. */
  progress?(line: string): void;
  /** Writes text as it comes, no newline added (generated text, streamed); absent where stdout is not a terminal. */
  write?(text: string): void;
}

/** Standard output and standard error (synchronous for files and pipes on Linux, so nothing is lost at exit). */
export const processIo: CliIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  // On stderr, so that stdout stays the lines (or JSON) scripts read: \r returns, ESC[K erases the rest.
  progress: (line) => void process.stderr.write(`\r${line}\x1b[K`),
  ...(process.stdout.isTTY && { write: (text: string) => void process.stdout.write(text) }),
};

/**
 * Whether a progress bar is wanted: DISCO_PROGRESS=1 forces it (e.g. under a pseudo-terminal that does not
 * say so), DISCO_PROGRESS=0 turns it off; otherwise only when stdout and stderr are both terminals.
 */
export function progressWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.DISCO_PROGRESS === '1') return true;
  if (env.DISCO_PROGRESS === '0') return false;
  return process.stdout.isTTY === true && process.stderr.isTTY === true;
}

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
  /** Draw a progress bar (epochs, rounds, batches) with `io.progress`; default: {@link progressWanted}, never with `json`. */
  progress?: boolean;
}

/** Prints events and errors in the format chosen on the command line. */
export class Reporter {
  readonly json: boolean;
  private readonly io: CliIo;
  private readonly batches: boolean;
  /** Whether a progress bar is drawn (so that commands ask for the batch events it counts). */
  readonly progress: boolean;
  private readonly bar = new ProgressBar();
  private barShown = false;
  private drawnAt = 0;

  constructor({ json, io = processIo, batches = false, progress }: ReporterOptions) {
    this.json = json;
    this.io = io;
    this.batches = batches;
    this.progress = !json && io.progress !== undefined && (progress ?? progressWanted());
  }

  /** Prints one event (a JSON line, or a readable line; readable `batch` lines only when asked for). */
  event(event: CliEvent): void {
    const moved = this.progress && this.bar.update(event);
    if (event.type === 'batch' && !this.batches) {
      // Many a second: redrawn at most every 100 ms.
      if (moved && Date.now() - this.drawnAt >= 100) this.draw();
      return;
    }
    const line = this.json ? JSON.stringify(event, jsonSafe) : describeEvent(event);
    const wasShown = this.barShown;
    if (line !== null) {
      this.clearBar();
      this.io.out(line);
    }
    if (event.type !== 'done' && event.type !== 'error' && (moved || (wasShown && line !== null))) this.draw();
  }

  /**
   * Moves the progress bar with an event that is not printed (e.g. a simulated client's epochs, when only
   * rounds are printed); nothing without a bar.
   */
  track(event: CliEvent): void {
    if (this.progress && this.bar.update(event) && Date.now() - this.drawnAt >= 100) this.draw();
  }

  private draw(): void {
    this.io.progress?.(this.bar.render());
    this.barShown = true;
    this.drawnAt = Date.now();
  }

  private clearBar(): void {
    if (!this.barShown) return;
    this.io.progress?.('');
    this.barShown = false;
  }

  /** Prints a failure: `disco: <message>` on stderr (plus the usage for usage errors) and, with `--json`, an error event. */
  error(error: unknown): void {
    this.clearBar();
    const { code, message } = errorInfo(error);
    // A server's refusal of an invalid task lists its issues (the CLI's ServerError); other errors keep their two fields.
    const issues = error instanceof CliError ? (error as { issues?: unknown }).issues : undefined;
    if (this.json) this.io.out(JSON.stringify({ type: 'error', code, message, ...(Array.isArray(issues) && { issues }) }));
    this.io.err(`disco: ${message}`);
    if (error instanceof UsageError) this.io.err(`\n${error.usage}`);
  }
}

/**
 * Where a session is (rounds closed, the epoch and batch of the round or session), drawn as one line:
 * `round 2/5 · epoch 1/2 · batch 13/40 [#######-------------]  36%`.
 */
export class ProgressBar {
  private roundsDone = 0;
  private rounds?: number;
  private round?: number;
  private epoch?: number;
  private epochs?: number;
  private batch?: number;
  private batches?: number;

  /** True once an event it counts was seen. */
  get started(): boolean {
    return this.epoch !== undefined || this.rounds !== undefined;
  }

  /** Takes an event in; true when it moved the bar. */
  update(event: CliEvent): boolean {
    const e = event as Record<string, unknown>;
    const n = (key: string): number | undefined => {
      const value = e[key];
      return typeof value === 'number' ? value : undefined;
    };
    if (event.type === 'round') {
      this.roundsDone = Math.max(this.roundsDone, n('round') ?? 0);
      this.rounds = n('rounds') ?? this.rounds;
      this.epoch = this.batch = undefined;
      return true;
    }
    if (event.type === 'epoch') {
      this.epoch = n('epoch');
      this.epochs = n('epochs');
      this.round = n('round') ?? this.round;
      this.batch = this.batches = undefined;
      return true;
    }
    if (event.type === 'batch') {
      // Batch events come during the epoch they name; the epoch is done only at its epoch event.
      this.epoch = (n('epoch') ?? 1) - 1;
      this.batch = n('batch');
      this.batches = n('batches');
      this.round = n('round') ?? this.round;
      return true;
    }
    return false;
  }

  /** The fraction done, from 0 to 1. */
  fraction(): number {
    const inEpoch = this.batch !== undefined && this.batches ? this.batch / this.batches : 0;
    const inRound = this.epochs ? Math.min(1, ((this.epoch ?? 0) + inEpoch) / this.epochs) : 0;
    if (!this.rounds) return inRound;
    return Math.min(1, (this.roundsDone + (this.roundsDone < this.rounds ? inRound : 0)) / this.rounds);
  }

  render(width = 20): string {
    const parts: string[] = [];
    if (this.rounds !== undefined) parts.push(`round ${Math.min(this.roundsDone + 1, this.rounds)}/${this.rounds}`);
    else if (this.round !== undefined) parts.push(`round ${this.round}`);
    if (this.epoch !== undefined && this.epochs) parts.push(`epoch ${Math.min(this.epoch + (this.batch === undefined ? 0 : 1), this.epochs)}/${this.epochs}`);
    else if (this.epoch !== undefined) parts.push(`epoch ${this.epoch + 1}`);
    if (this.batch !== undefined && this.batches) parts.push(`batch ${this.batch}/${this.batches}`);
    const f = this.fraction();
    const filled = Math.round(f * width);
    return `${parts.join(' · ')} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}%`;
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
      const test = typeof e.testPerplexity === 'number' ? ` · test perplexity ${fmt(e.testPerplexity)}` : typeof e.testAccuracy === 'number' ? ` · test accuracy ${fmt(e.testAccuracy)}` : '';
      const extra = `${test}${privacy}`;
      // Asynchronous tasks: one line per accepted update, the version it was buffered for, the current version when
      // it arrived and how many versions old its base model was then.
      if (typeof e.staleness === 'number')
        return `${prefix}update accepted for version ${String(e.round)}/${String(e.rounds)} · model v${String(e.modelVersion)} · staleness ${String(e.staleness)} · ${String(e.participants)} participants${metrics(m)}${extra}`;
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
    ['perplexity', 'ppl'],
    ['valPerplexity', 'val_ppl'],
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
