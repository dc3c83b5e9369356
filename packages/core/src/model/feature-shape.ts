import { tabularFeatureNames } from '../data/tabular.js';
import type { Task } from '../task/schema.js';
import { ModelError } from './errors.js';

/**
 * Number of values in one encoded tabular row, as the data module encodes it: one per input column, one
 * per category for a one-hot column (see `tabularFeatureNames`).
 */
export function featureWidth(task: Task): number {
  if (!task.tabular) throw new ModelError(`task "${task.id}" has no tabular columns`);
  return tabularFeatureNames(task).length;
}

/** Shape of one example as the model sees it: `[featureWidth]` for tables, `[height, width, channels]` for images. */
export function featureShape(task: Task): number[] {
  if (task.dataType === 'tabular') return [featureWidth(task)];
  if (task.dataType === 'image' && task.image) return [task.image.height, task.image.width, task.image.channels];
  throw new ModelError(`no built-in feature encoding for ${task.dataType} tasks`);
}

/** The task's class names, in class-index order. */
export function taskClasses(task: Task): string[] {
  const labels = task.tabular?.labels ?? task.image?.labels;
  if (!labels) throw new ModelError(`task "${task.id}" names no labels`);
  return labels;
}
