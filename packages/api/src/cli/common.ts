import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinTasks, getBuiltinTask, initBackend, parseTask, TaskValidationError, type Task } from '@disco/core';
import { CliError } from './args.js';

/**
 * What the `train`, `evaluate` and `simulate` commands share: finding the task named by `--task` and
 * starting TF.js.
 */

/** True when `--task` names a file rather than a task id. */
export function isTaskFile(value: string): boolean {
  return value.endsWith('.json') || value.includes('/') || value.includes('\\') || existsSync(value);
}

/**
 * The task `--task` names: a built-in task id (`titanic`, `mnist`, `cifar10`) or a task JSON file,
 * validated with `parseTask`; an invalid file is refused with every problem listed.
 */
export async function resolveTask(value: string): Promise<Task> {
  if (!isTaskFile(value)) {
    const task = getBuiltinTask(value);
    if (!task)
      throw new CliError(
        'unknown-task',
        `unknown task "${value}" (built-in: ${builtinTasks.map((t) => t.id).join(', ')}); pass a task JSON file, or --server for a task of a server`,
      );
    return task;
  }
  let text: string;
  try {
    text = await readFile(value, 'utf8');
  } catch (error) {
    throw new CliError('task-file', `cannot read the task file ${value}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError('invalid-task', `${value} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseTask(json);
  } catch (error) {
    if (error instanceof TaskValidationError)
      throw new CliError('invalid-task', `${value} is not a valid task (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):\n${error.issues.map((i) => `  - ${i}`).join('\n')}`);
    throw error;
  }
}

/** The TF.js backends `--backend` accepts. */
export const backends = ['wasm', 'cpu'] as const;

/** Starts TF.js on `backend` (wasm by default: the fastest in Node). */
export async function startTf(backend: (typeof backends)[number] = 'wasm'): Promise<string> {
  return initBackend({ backend });
}

/** Runs `body` with SIGINT/SIGTERM calling `stop` (to end a session cleanly), then restores the default handlers. */
export async function withStopSignals<T>(stop: () => void, body: () => Promise<T>): Promise<T> {
  const onSignal = () => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
