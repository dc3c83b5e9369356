import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseTask, TaskValidationError, type Task } from '@disco/core';
import { saveModelToDir } from '@disco/core/node';
import { CliError } from './args.js';

/**
 * A model folder as the CLI writes it: the TF.js files (`model.json`, `weights.bin`) and, beside them, the
 * definition of the task the model was trained for (`task.json`). A TF.js model knows its shapes, not how its
 * inputs are made: `disco generate` needs the task's tokenizer and context length, `disco evaluate` how to read
 * the data. `train --out`, `simulate --out` and `models pull` write it; a folder without one (a model from
 * elsewhere) needs `--task`.
 */

/** A TF.js LayersModel (the type saveModelToDir takes: the api does not import TF.js itself). */
export type SavedModel = Parameters<typeof saveModelToDir>[0];

/** The task file's name inside a model folder. */
export const TASK_FILE = 'task.json';

/** Saves `model` to `dir` (model.json + weights.bin) with `dir/task.json`. */
export async function saveModelWithTask(model: SavedModel, dir: string, task: Task): Promise<void> {
  await saveModelToDir(model, dir);
  await writeTaskFile(dir, task);
}

/** Writes `dir/task.json` (the folder must exist). */
export async function writeTaskFile(dir: string, task: Task): Promise<void> {
  await writeFile(path.join(dir, TASK_FILE), `${JSON.stringify(task, null, 2)}\n`);
}

/**
 * The task saved with the model in `dir` (`dir/task.json`, validated), or undefined when there is none.
 * A folder that is missing, or lacks model.json, is refused here so that every command says it the same way.
 */
export async function taskOfModelDir(dir: string): Promise<Task | undefined> {
  if (!existsSync(dir)) throw new CliError('model-not-found', `${dir}: no such model folder`);
  if (!existsSync(path.join(dir, 'model.json')))
    throw new CliError('model-not-found', `${dir} holds no model.json (a TF.js model folder, as written by "disco train --out", "disco simulate --out" or "disco models pull")`);
  const file = path.join(dir, TASK_FILE);
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError('invalid-task', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseTask(json);
  } catch (error) {
    if (error instanceof TaskValidationError) throw new CliError('invalid-task', `${file} is not a valid task:\n${error.issues.map((i) => `  - ${i}`).join('\n')}`);
    throw error;
  }
}
