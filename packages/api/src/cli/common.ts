import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { builtinTasks, getBuiltinTask, initBackend, loadDataEntries, parseTask, takeDataset, TaskValidationError, type Dataset, type Task } from '@disco/core';
import { loadBuiltinDataset, shakespeareTextPaths } from '@disco/core/node';
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

/**
 * The data bundled with Disco for `task` (a task whose id is a built-in one: titanic, mnist, shakespeare),
 * read as `task` says (a text task's context length may differ from the built-in's); refused, naming
 * `--data`, for other tasks.
 */
export async function bundledData(task: Task, split: 'train' | 'test', limit?: number): Promise<Dataset> {
  const builtin = getBuiltinTask(task.id);
  if (!builtin) throw new CliError('no-data', `task "${task.id}" has no data bundled with Disco: pass --data <path> (bundled: titanic, mnist, shakespeare)`);
  if (task.dataType !== 'text' || task.text?.contextLength === builtin.text?.contextLength) return loadBuiltinDataset(task.id, { split, limit });
  // The plays cut into this task's windows (e.g. a shorter context for a quick run): read as a user's .txt files are.
  const entries = await Promise.all(
    shakespeareTextPaths[split].map(async (file) => {
      const bytes = await readFile(file);
      return { name: path.basename(file), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
    }),
  );
  const dataset = await loadDataEntries(entries, task);
  return limit === undefined ? dataset : takeDataset(dataset, limit);
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
