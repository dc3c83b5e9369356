import type { Task } from '../task/schema.js';
import { ModelError } from './errors.js';

/** The task's class names, in class-index order: one softmax output each. */
export function taskClasses(task: Task): string[] {
  const labels = task.tabular?.labels ?? task.image?.labels;
  if (!labels) throw new ModelError(`task "${task.id}" names no labels`);
  return labels;
}
