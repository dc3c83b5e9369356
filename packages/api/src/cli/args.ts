import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Argument helpers shared by the `disco` commands: `node:util` `parseArgs` in strict mode, with its
 * errors turned into {@link UsageError}s (exit code 2, printed with the command's usage text).
 */

/** A failure the user can act on. `exitCode` is 1 for run-time failures and 2 for usage errors. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: 1 | 2;
  constructor(code: string, message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A malformed command line: printed with the usage text, exit code 2. */
export class UsageError extends CliError {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super('usage', message, 2);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** The options a command accepts, as `node:util` `parseArgs` takes them. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed values of a command's options: strings and booleans, as declared. */
export type OptionValues = Record<string, string | boolean | undefined>;

/**
 * Parses `argv` against `options` (unknown options and stray positionals are usage errors).
 * `--help` is always accepted and reported as `help: true`.
 */
export function parseCommand(argv: string[], options: OptionSpec, usage: string): { values: OptionValues; help: boolean } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    const { help, ...rest } = values as OptionValues;
    return { values: rest, help: help === true };
  } catch (error) {
    // parseArgs throws TypeErrors with codes such as ERR_PARSE_ARGS_UNKNOWN_OPTION and readable messages.
    throw new UsageError(firstLine((error as Error).message), usage);
  }
}

/**
 * {@link parseCommand} for commands that take operands (`disco tasks show <id>`): exactly `names.length`
 * positionals, named in the usage error when one is missing or extra. `--help` needs none.
 */
export function parseWithOperands(argv: string[], options: OptionSpec, usage: string, names: string[]): { values: OptionValues; help: boolean; operands: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(firstLine((error as Error).message), usage);
  }
  const { help, ...values } = parsed.values as OptionValues;
  if (help === true) return { values, help: true, operands: [] };
  const { positionals } = parsed;
  if (positionals.length < names.length) throw new UsageError(`missing <${names[positionals.length]}>`, usage);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length]}"`, usage);
  return { values, help: false, operands: positionals };
}

/** The string value of `--name`, or a usage error when it is missing. */
export function requireString(values: OptionValues, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing required option --${name}`, usage);
  return value;
}

/** The string value of `--name`, or undefined. */
export function optionalString(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The integer value of `--name` (at least `min`), `fallback` when absent, or a usage error. */
export function integerOption(values: OptionValues, name: string, usage: string, { min = 1, fallback }: { min?: number; fallback?: number } = {}): number | undefined {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer of at least ${min}, got "${String(value)}"`, usage);
  return n;
}

/** The number value of `--name` within [min, max], `fallback` when absent, or a usage error. */
export function numberOption(values: OptionValues, name: string, usage: string, { min, max, fallback }: { min: number; max: number; fallback?: number }): number | undefined {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${String(value)}"`, usage);
  return n;
}

/** The value of `--name` when it is one of `choices`, `fallback` when absent, or a usage error. */
export function choiceOption<T extends string>(values: OptionValues, name: string, choices: readonly T[], usage: string, fallback: T): T {
  const value = values[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${String(value)}"`, usage);
  return value as T;
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
